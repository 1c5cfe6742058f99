/* json_in.h - read a request's JSON body against a list of fields.
 *
 * Each handler declares the fields it accepts (name, type, required). The
 * body must be one JSON object; anything else, a field of the wrong type,
 * a missing required field or a field not in the list is a 400 whose
 * message names the field, so a client's typo is never silently ignored.
 */
#ifndef SM_API_JSON_IN_H
#define SM_API_JSON_IN_H

#include <jansson.h>
#include <stdbool.h>

#include "daemon/api/server.h"

enum jin_type {
	JIN_STRING,    /* non-empty string */
	JIN_BOOL,
	JIN_UINT,      /* integer >= 0 */
	JIN_STRINGS,   /* array of strings */
	JIN_OBJECT,
	JIN_ARRAY,     /* any array (the handler checks its items) */
};

struct jin_field {
	const char *name;
	enum jin_type type;
	bool required;
};

/* The parsed object (caller decrefs), or NULL after replying 400.
 * fields ends with a { NULL } entry. */
json_t *json_in_parse(struct api_req *r, const struct jin_field *fields);

/* The same for a route that takes no query parameters: an unknown one is
 * a 400 invalid_query before the body is looked at. */
json_t *json_in_body(struct api_req *r, const struct jin_field *fields);

/* A NULL-terminated view of a JSON string array (the strings borrowed),
 * malloc'd; NULL when arr is NULL or memory ran out. */
const char **jin_strv(json_t *arr);

/* Convenience getters for a validated object (NULL / false / dflt when
 * the field is absent). */
const char *jin_str(json_t *obj, const char *name);
bool jin_bool(json_t *obj, const char *name);

#endif

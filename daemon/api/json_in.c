/* json_in.c - strict JSON request bodies (see json_in.h). */
#include "daemon/api/json_in.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/api/query.h"
#include "daemon/api/reply.h"

static const char *type_name(enum jin_type t)
{
	switch (t) {
	case JIN_STRING: return "a non-empty string";
	case JIN_BOOL: return "a boolean";
	case JIN_UINT: return "a non-negative integer";
	case JIN_STRINGS: return "an array of strings";
	case JIN_OBJECT: return "an object";
	case JIN_ARRAY: return "an array";
	}
	return "?";
}

static bool type_ok(json_t *v, enum jin_type t)
{
	size_t i;
	json_t *item;
	switch (t) {
	case JIN_STRING:
		return json_is_string(v) && json_string_length(v) > 0 &&
		       strlen(json_string_value(v)) == json_string_length(v);
	case JIN_BOOL:
		return json_is_boolean(v);
	case JIN_UINT:
		return json_is_integer(v) && json_integer_value(v) >= 0;
	case JIN_OBJECT:
		return json_is_object(v);
	case JIN_ARRAY:
		return json_is_array(v);
	case JIN_STRINGS:
		if (!json_is_array(v))
			return false;
		json_array_foreach(v, i, item)
			if (!json_is_string(item))
				return false;
		return true;
	}
	return false;
}

static const struct jin_field *find(const struct jin_field *f, const char *name)
{
	for (; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

/* 0, or -1 after replying 400 for the first bad field. */
static int check_fields(struct api_req *r, json_t *obj, const struct jin_field *fields)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		const struct jin_field *f = find(fields, key);
		if (!f) {
			reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
				    "unknown field \"%s\"", key);
			return -1;
		}
		if (!type_ok(v, f->type)) {
			reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
				    "field \"%s\" must be %s", key, type_name(f->type));
			return -1;
		}
	}
	for (const struct jin_field *f = fields; f->name; f++) {
		if (f->required && !json_object_get(obj, f->name)) {
			reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
				    "missing required field \"%s\"", f->name);
			return -1;
		}
	}
	return 0;
}

json_t *json_in_parse(struct api_req *r, const struct jin_field *fields)
{
	json_error_t jerr;
	if (r->body_len == 0) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_json",
			    "the request body is empty; expected a JSON object");
		return NULL;
	}
	json_t *obj = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_json",
			    "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
			    jerr.text);
		return NULL;
	}
	if (!json_is_object(obj)) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_json",
			    "the request body must be a JSON object");
	} else if (check_fields(r, obj, fields) == 0) {
		return obj;
	}
	json_decref(obj);
	return NULL;
}

const char *jin_str(json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

bool jin_bool(json_t *obj, const char *name)
{
	return json_is_true(json_object_get(obj, name));
}

json_t *json_in_body(struct api_req *r, const struct jin_field *fields)
{
	static const char *const no_query[] = { NULL };
	return query_check(r, no_query) ? NULL : json_in_parse(r, fields);
}

const char **jin_strv(json_t *arr)
{
	if (!arr)
		return NULL;
	const char **v = calloc(json_array_size(arr) + 1, sizeof *v);
	size_t i;
	json_t *s;
	json_array_foreach(arr, i, s)
		if (v)
			v[i] = json_string_value(s);
	return v;
}

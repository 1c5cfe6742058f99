/* router.h - the route table and how a path finds its handler.
 *
 * Patterns are literal segments and captures: "{id}" takes one segment,
 * "{name*}" takes the rest of the path (image references contain slashes,
 * e.g. /v1/images/docker.io/library/busybox:latest). Routes are tried in
 * table order, so literal routes are listed before captures that would
 * also match them. A path that matches a route under another method is a
 * 405 with an Allow list; a path with empty, "." or ".." segments is
 * refused before matching.
 */
#ifndef SM_API_ROUTER_H
#define SM_API_ROUTER_H

#include <stddef.h>

#include "daemon/api/server.h"

typedef void (*api_handler)(struct api_req *r);

enum body_kind {
	BODY_NONE,      /* a body is read (bounded) and ignored */
	BODY_JSON,      /* a JSON object, max_body_bytes */
	BODY_JSON_OR_TAR, /* JSON, or application/x-tar up to max_upload_bytes */
	BODY_RAW,       /* any bytes, spooled to a file up to max_upload_bytes */
};

struct route {
	const char *method;
	const char *pattern;
	enum body_kind body;
	api_handler fn;
};

enum route_status {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_BAD_METHOD,  /* allow[] lists the methods that exist */
	ROUTE_BAD_PATH,
};

extern const struct route api_routes[];
extern const size_t api_n_routes;

/* On ROUTE_FOUND sets *idx and fills params (malloc'd, caller frees). */
enum route_status router_match(const char *method, const char *path, int *idx,
			       char *params[API_MAX_PARAMS], char *allow, size_t allowlen);

#endif

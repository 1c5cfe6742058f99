/* query.c - see query.h. */
#include "daemon/api/query.h"

#include <microhttpd.h>
#include <string.h>

#include "daemon/api/reply.h"

struct check {
	const char *const *allowed;
	const char *bad;
};

static enum MHD_Result visit(void *cls, enum MHD_ValueKind kind, const char *key,
			     const char *value)
{
	struct check *c = cls;
	(void)kind;
	(void)value;
	for (const char *const *a = c->allowed; *a; a++)
		if (!strcmp(*a, key))
			return MHD_YES;
	c->bad = key;
	return MHD_NO;
}

int query_check(struct api_req *r, const char *const *allowed)
{
	struct check c = { allowed, NULL };
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, visit, &c);
	if (!c.bad)
		return 0;
	reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_query",
		    "unknown query parameter \"%s\"", c.bad);
	return -1;
}

int query_bool(struct api_req *r, const char *name, bool *out)
{
	const char *v = req_query(r, name);
	*out = false;
	if (!v)
		return 0;
	if (!strcmp(v, "1") || !strcmp(v, "true") || !*v) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "0") || !strcmp(v, "false"))
		return 0;
	reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_query",
		    "query parameter \"%s\" must be 1, true, 0 or false", name);
	return -1;
}

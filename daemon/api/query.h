/* query.h - strict query strings: a parameter a route does not know is a
 * 400 naming it, like an unknown JSON field. */
#ifndef SM_API_QUERY_H
#define SM_API_QUERY_H

#include <stdbool.h>

#include "daemon/api/server.h"

/* allowed ends with NULL. 0, or -1 after replying 400. */
int query_check(struct api_req *r, const char *const *allowed);

/* A boolean parameter ("1", "true", "0", "false"; absent = false):
 * 0, or -1 after replying 400. */
int query_bool(struct api_req *r, const char *name, bool *out);

#endif

/* router.c - match a method and path against the route table (router.h).
 * The table itself is in routes.c. */
#include "daemon/api/router.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the segment starting at s (up to '/' or the end). */
static size_t seg_len(const char *s)
{
	return strcspn(s, "/");
}

static bool path_is_clean(const char *path)
{
	if (path[0] != '/')
		return false;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	for (const char *s = path + 1; ; ) {
		size_t n = seg_len(s);
		bool last = s[n] == 0;
		if (n == 0 && !last)
			return false;                  /* "//" */
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		if (last)
			return true;
		s += n + 1;
	}
}

static void free_params(char *params[API_MAX_PARAMS])
{
	for (int i = 0; i < API_MAX_PARAMS; i++) {
		free(params[i]);
		params[i] = NULL;
	}
}

/* Matches path against pattern, capturing into params. */
static bool match(const char *pat, const char *path, char *params[API_MAX_PARAMS])
{
	int np = 0;
	while (*pat == '/' && *path == '/') {
		pat++, path++;
		size_t pn = seg_len(pat), n = seg_len(path);
		if (pat[0] == '{') {
			bool rest = pn >= 3 && pat[pn - 2] == '*';
			size_t take = rest ? strlen(path) : n;
			if (take == 0 || np == API_MAX_PARAMS)
				goto fail;
			if (!(params[np++] = strndup(path, take)))
				goto fail;
			pat += pn, path += take;
			continue;
		}
		if (pn != n || memcmp(pat, path, n) != 0)
			goto fail;
		pat += pn, path += n;
	}
	if (*pat == 0 && *path == 0)
		return true;
fail:
	free_params(params);
	return false;
}

static void allow_add(char *allow, size_t allowlen, const char *method)
{
	if (strstr(allow, method))
		return;
	size_t used = strlen(allow);
	snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", method);
}

enum route_status router_match(const char *method, const char *path, int *idx,
			       char *params[API_MAX_PARAMS], char *allow, size_t allowlen)
{
	bool other_method = false;
	allow[0] = 0;
	for (int i = 0; i < API_MAX_PARAMS; i++)
		params[i] = NULL;
	if (!path_is_clean(path))
		return ROUTE_BAD_PATH;
	for (size_t i = 0; i < api_n_routes; i++) {
		if (!match(api_routes[i].pattern, path, params))
			continue;
		if (strcmp(api_routes[i].method, method) == 0) {
			*idx = (int)i;
			return ROUTE_FOUND;
		}
		free_params(params);
		other_method = true;
		allow_add(allow, allowlen, api_routes[i].method);
	}
	return other_method ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}

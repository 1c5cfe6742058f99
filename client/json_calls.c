/* json_calls.c - what vms.c, snapshots.c, pools.c and images.c share: a
 * call with an optional JSON body, and an answer decoded into one result
 * struct or a list of them (struct json_kind says how, in client_int.h). */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

int http_json(sm_client *c, const char *method, char *path, json_t *body, json_t **answer)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int st;
	if (!path || (body && !text)) {
		st = sm_fail(c, SM_E_NOMEM, "out of memory");
	} else {
		struct http_call call = { .method = method, .path = path,
					  .content_type = text ? "application/json" : NULL,
					  .body = text, .body_len = text ? strlen(text) : 0 };
		st = http_call(c, &call, answer);
	}
	json_decref(body);
	free(text);
	free(path);
	return st;
}

int take_one(sm_client *c, int st, json_t *j, const struct json_kind *k, void *out)
{
	if (st == SM_OK && out && k->from_json(j, out) < 0)
		st = sm_fail(c, SM_E_PROTOCOL, "a %s without %s", k->noun, k->lacks);
	json_decref(j);
	return st;
}

void free_list(const struct json_kind *k, void *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		k->free_one((char *)list + i * k->size);
	free(list);
}

/* Decodes the items of arr into list; how many before one failed. */
static size_t decode_items(const struct json_kind *k, json_t *arr, char *list)
{
	size_t i = 0;
	while (i < json_array_size(arr) &&
	       k->from_json(json_array_get(arr, i), list + i * k->size) == 0)
		i++;
	return i;
}

int take_list(sm_client *c, int st, json_t *j, const struct json_kind *k, const char *how,
	      void **list, size_t *n)
{
	*list = NULL;
	*n = 0;
	if (st != SM_OK) {
		json_decref(j);
		return st;
	}
	json_t *arr = json_object_get(j, k->array);
	size_t cnt = json_array_size(arr);
	char *l = calloc(cnt ? cnt : 1, k->size);
	size_t decoded = l ? decode_items(k, arr, l) : 0;
	json_decref(j);
	if (!l)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	if (decoded < cnt) {
		free_list(k, l, decoded + 1);   /* the one that failed may hold parts */
		return sm_fail(c, SM_E_PROTOCOL, "a %s %s without %s", how, k->noun, k->lacks);
	}
	*list = l;
	*n = cnt;
	return SM_OK;
}

int get_list(sm_client *c, const char *path, const struct json_kind *k, void **list, size_t *n)
{
	json_t *j = NULL;
	struct http_call call = { .method = "GET", .path = path };
	int st = http_call(c, &call, &j);
	return take_list(c, st, j, k, "listed", list, n);
}

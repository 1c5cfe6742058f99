/* pools.c - warm pools (PUT, GET, DELETE /v1/pools[/{image}]) and the
 * daemon's garbage collection (POST /v1/system/gc); see supermachine.h. */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

void sm_pool_free(struct sm_pool *p)
{
	if (!p)
		return;
	free(p->image);
	free(p->image_id);
	free(p->source);
	free(p->error);
	free(p->json);
	memset(p, 0, sizeof *p);
}

void sm_pool_list_free(struct sm_pool *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		sm_pool_free(&list[i]);
	free(list);
}

static uint64_t juint(json_t *j, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(j, key));
	return v > 0 ? (uint64_t)v : 0;
}

static int pool_from_json(json_t *j, struct sm_pool *out)
{
	memset(out, 0, sizeof *out);
	if (!json_is_string(json_object_get(j, "image")))
		return -1;
	out->image = jdup(j, "image");
	out->image_id = jdup(j, "image_id");
	out->source = jdup(j, "source");
	out->error = jdup(j, "error");
	out->min = (unsigned)juint(j, "min");
	out->max = (unsigned)juint(j, "max");
	out->idle_timeout_s = (unsigned)juint(j, "idle_timeout");
	out->vcpus = (int)juint(j, "vcpus");
	out->memory_mib = (unsigned)juint(j, "memory_mib");
	out->ready = (unsigned)juint(j, "ready");
	out->in_use = (unsigned)juint(j, "in_use");
	out->restoring = (unsigned)juint(j, "restoring");
	out->peak = (unsigned)juint(j, "peak");
	out->hits = juint(j, "hits");
	out->misses = juint(j, "misses");
	out->restores = juint(j, "restores");
	out->evictions = juint(j, "evictions");
	out->failures = juint(j, "failures");
	out->acquire_ms_avg = json_number_value(json_object_get(j, "acquire_ms_avg"));
	out->json = json_dumps(j, JSON_COMPACT);
	if (!out->image || !out->json) {
		sm_pool_free(out);
		return -1;
	}
	return 0;
}

/* METHOD /v1/pools/IMAGE with an optional JSON body. */
static int pool_call(sm_client *c, const char *method, const char *image, json_t *body,
		     json_t **answer)
{
	if (!c || !image || !*image) {
		json_decref(body);
		return SM_E_INVALID;
	}
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	char *path = http_escape_path("/v1/pools/", image, "");
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

/* One pool from an answer j (decref'd here). */
static int take_pool(sm_client *c, int st, json_t *j, struct sm_pool *out)
{
	if (st == SM_OK && out && pool_from_json(j, out) < 0)
		st = sm_fail(c, SM_E_PROTOCOL, "a pool without an image");
	json_decref(j);
	return st;
}

int sm_pool_set(sm_client *c, const char *image, const struct sm_pool_opts *opts,
		struct sm_pool *out)
{
	if (!opts)
		return SM_E_INVALID;
	json_t *b = json_pack("{s:i,s:i}", "min", (int)opts->min, "max", (int)opts->max);
	if (b && opts->idle_timeout_s)
		json_object_set_new(b, "idle_timeout",
				    json_integer(opts->idle_timeout_s < 0 ? 0 : opts->idle_timeout_s));
	if (b && opts->vcpus > 0)
		json_object_set_new(b, "vcpus", json_integer(opts->vcpus));
	if (b && opts->memory_mib > 0)
		json_object_set_new(b, "memory", json_integer(opts->memory_mib));
	if (!b)
		return c ? sm_fail(c, SM_E_NOMEM, "out of memory") : SM_E_INVALID;
	json_t *j = NULL;
	int st = pool_call(c, "PUT", image, b, &j);
	return take_pool(c, st, j, out);
}

int sm_pool_inspect(sm_client *c, const char *image, struct sm_pool *out)
{
	json_t *j = NULL;
	if (!out)
		return SM_E_INVALID;
	int st = pool_call(c, "GET", image, NULL, &j);
	return take_pool(c, st, j, out);
}

int sm_pool_remove(sm_client *c, const char *image)
{
	return pool_call(c, "DELETE", image, NULL, NULL);
}

int sm_pool_list(sm_client *c, struct sm_pool **out, size_t *n)
{
	json_t *j;
	if (!c || !out || !n)
		return SM_E_INVALID;
	*out = NULL;
	*n = 0;
	struct http_call call = { .method = "GET", .path = "/v1/pools" };
	int st = http_call(c, &call, &j);
	if (st != SM_OK)
		return st;
	json_t *arr = json_object_get(j, "pools");
	size_t cnt = json_array_size(arr);
	struct sm_pool *list = calloc(cnt ? cnt : 1, sizeof *list);
	for (size_t i = 0; list && i < cnt; i++)
		if (pool_from_json(json_array_get(arr, i), &list[i]) < 0) {
			sm_pool_list_free(list, i);
			json_decref(j);
			return sm_fail(c, SM_E_PROTOCOL, "a listed pool without an image");
		}
	json_decref(j);
	if (!list)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	*out = list;
	*n = cnt;
	return SM_OK;
}

int sm_system_gc(sm_client *c, struct sm_gc_result *out)
{
	json_t *j = NULL;
	if (!c)
		return SM_E_INVALID;
	struct http_call call = { .method = "POST", .path = "/v1/system/gc" };
	int st = http_call(c, &call, &j);
	if (st == SM_OK && out)
		*out = (struct sm_gc_result){
			.blobs_removed = juint(j, "blobs_removed"),
			.layers_removed = juint(j, "layers_removed"),
			.files_removed = juint(j, "files_removed"),
			.bytes_freed = juint(j, "bytes_freed"),
			.bakes_removed = juint(j, "bakes_removed"),
		};
	json_decref(j);
	return st;
}

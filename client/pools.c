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

static int pool_from_json(json_t *j, void *to)
{
	struct sm_pool *out = to;
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

static void pool_free_one(void *p)
{
	sm_pool_free(p);
}

static const struct json_kind pool_kind = { "pools", sizeof(struct sm_pool), pool_from_json,
					    pool_free_one, "pool", "an image" };

void sm_pool_list_free(struct sm_pool *list, size_t n)
{
	free_list(&pool_kind, list, n);
}

/* METHOD /v1/pools/IMAGE with an optional JSON body. */
static int pool_call(sm_client *c, const char *method, const char *image, json_t *body,
		     json_t **answer)
{
	if (!c || !image || !*image) {
		json_decref(body);
		return SM_E_INVALID;
	}
	return http_json(c, method, http_escape_path("/v1/pools/", image, ""), body, answer);
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
	return take_one(c, st, j, &pool_kind, out);
}

int sm_pool_inspect(sm_client *c, const char *image, struct sm_pool *out)
{
	json_t *j = NULL;
	if (!out)
		return SM_E_INVALID;
	int st = pool_call(c, "GET", image, NULL, &j);
	return take_one(c, st, j, &pool_kind, out);
}

int sm_pool_remove(sm_client *c, const char *image)
{
	return pool_call(c, "DELETE", image, NULL, NULL);
}

int sm_pool_list(sm_client *c, struct sm_pool **out, size_t *n)
{
	void *list;
	if (!c || !out || !n)
		return SM_E_INVALID;
	int st = get_list(c, "/v1/pools", &pool_kind, &list, n);
	*out = list;
	return st;
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

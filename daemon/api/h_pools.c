/* h_pools.c - /v1/pools: warm pools of ready VMs per image (daemon/pool).
 *
 * PUT /v1/pools/{image} creates or changes a pool: the body (400 naming
 * the field), then the image (404 when the store has no such image).
 * GET lists them or shows one, DELETE removes one (its ready VMs are
 * discarded; VMs handed out live on). {image} is any image name the store
 * takes - a reference, an id, a 12+ digit id prefix; a pool is kept under
 * the reference's canonical form (docker.io/library/busybox:latest) or
 * the image's full id, and found by any name of it.
 */
#include <microhttpd.h>
#include <string.h>

#include "daemon/api/handlers.h"
#include "daemon/api/json_in.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"
#include "daemon/pool/pool.h"
#include "daemon/store/store.h"

#define ERRLEN 1024

static const char *const no_query[] = { NULL };

void h_pools_list(struct api_req *r)
{
	if (query_check(r, no_query))
		return;
	json_t *list = pools_json(r->srv->pools);
	if (list)
		reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "pools", list));
	else
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
}

/* The pool key of the path's image name, or -1 after replying 400/404. A
 * name that is neither a reference nor a known image id cannot name a
 * pool. */
static int path_key(struct api_req *r, char *key, size_t len)
{
	char err[ERRLEN];
	if (pools_key(r->srv->pools, r->params[0], key, len, err, sizeof err) == 0)
		return 0;
	if (!strncmp(err, "no such image", 13))
		reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "%s", err);
	else if (strstr(err, "ambiguous"))
		reply_error(r, MHD_HTTP_BAD_REQUEST, "ambiguous", "%s", err);
	else
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_reference", "%s", err);
	return -1;
}

/* The pool the path names: by its key, else by the image the name has in
 * the store now (a pool of "busybox" is found as "sha256:…" too). NULL
 * after 404 (or 400). */
static json_t *find_pool(struct api_req *r, char *key, size_t len)
{
	if (path_key(r, key, len) < 0)
		return NULL;
	json_t *j = pool_json(r->srv->pools, key);
	if (j)
		return j;
	struct sm_image_config *cfg;
	char err[ERRLEN];
	if (sm_store_inspect(r->srv->cfg.store, r->params[0], &cfg, err, sizeof err) == 0) {
		json_t *all = pools_json(r->srv->pools), *p;
		size_t i;
		json_array_foreach(all, i, p) {
			const char *id = json_string_value(json_object_get(p, "image_id"));
			if (id && !strcmp(id, cfg->manifest_digest)) {
				snprintf(key, len, "%s", json_string_value(json_object_get(p, "image")));
				j = json_incref(p);
				break;
			}
		}
		json_decref(all);
		sm_image_config_free(cfg);
	}
	if (!j)
		reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no pool for image %s",
			    r->params[0]);
	return j;
}

void h_pools_inspect(struct api_req *r)
{
	char key[512];
	if (query_check(r, no_query))
		return;
	json_t *j = find_pool(r, key, sizeof key);
	if (j)
		reply_json(r, MHD_HTTP_OK, j);
}

void h_pools_set(struct api_req *r)
{
	static const struct jin_field fields[] = {
		{ "min", JIN_UINT, true }, { "max", JIN_UINT, true },
		{ "idle_timeout", JIN_UINT, false }, { "vcpus", JIN_UINT, false },
		{ "memory", JIN_UINT, false }, { NULL },
	};
	char key[512], err[ERRLEN];
	struct pool_settings s;
	struct sm_image_config *cfg = NULL;
	json_t *b = json_in_body(r, fields), *pool = NULL;
	if (!b)
		return;
	if (pool_settings_parse(b, &s, err, sizeof err) < 0) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field", "%s", err);
		goto out;
	}
	if (path_key(r, key, sizeof key) < 0)
		goto out;
	if (sm_store_inspect(r->srv->cfg.store, key, &cfg, err, sizeof err) < 0) {
		if (!strncmp(err, "no such image", 13))
			reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "%s", err);
		else
			reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store", "%s: %s", key, err);
		goto out;
	}
	/* Sizes are fixed when set through the API: the defaults of now. */
	if (!s.vcpus)
		s.vcpus = r->srv->cfg.default_vcpus;
	if (!s.memory_mib)
		s.memory_mib = r->srv->cfg.default_memory_mib;
	int rc = pools_set(r->srv->pools, key, &s, cfg, &pool, err, sizeof err);
	if (rc < 0)
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "%s", err);
	else
		reply_json(r, rc == 1 ? MHD_HTTP_CREATED : MHD_HTTP_OK, pool);
out:
	if (cfg)
		sm_image_config_free(cfg);
	json_decref(b);
}

void h_pools_delete(struct api_req *r)
{
	char key[512];
	if (query_check(r, no_query))
		return;
	json_t *j = find_pool(r, key, sizeof key);
	if (!j)
		return;
	json_decref(j);
	json_t *was = NULL;
	if (pools_remove(r->srv->pools, key, &was) < 0) {
		reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no pool for image %s", r->params[0]);
		return;
	}
	json_int_t ready = json_integer_value(json_object_get(was, "ready"));
	json_decref(was);
	reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:b,s:I}", "image", key, "removed", 1,
					     "discarded", ready));
}

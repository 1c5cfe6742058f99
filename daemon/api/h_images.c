/* h_images.c - /v1/images: list, inspect and remove images in the store.
 *
 * Pull and import are long and live in h_images_jobs.c. Names in paths
 * are anything the store resolves: a reference ("busybox",
 * "127.0.0.1:5000/a/b:tag"), an image id ("sha256:<hex>") or a unique id
 * prefix of 12+ hex digits. The store reports errors as text; a name it
 * cannot parse is caught here first (400), "no such image" becomes 404 and
 * an ambiguous prefix 400, anything else is a real fault (500). An image
 * that leaves the store takes its bakes with it, and the ready VMs of its
 * warm pools.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/api/events.h"
#include "daemon/api/handlers.h"
#include "daemon/api/images_json.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"
#include "daemon/store/ref.h"
#include "daemon/pool/pool.h"
#include "daemon/store/store.h"
#include "daemon/vms/bakes.h"
#include "daemon/vms/vms.h"

#define ERRLEN 1024

long h_images_count(struct api_server *srv)
{
	struct sm_image_info *list;
	size_t n;
	char err[ERRLEN];
	pthread_mutex_lock(&srv->jobs_mu);
	long cached = srv->image_count;
	unsigned long gen = srv->image_gen;
	pthread_mutex_unlock(&srv->jobs_mu);
	if (cached >= 0)
		return cached;
	if (sm_store_list(srv->cfg.store, &list, &n, err, sizeof err) < 0)
		return -1;
	sm_image_list_free(list, n);
	pthread_mutex_lock(&srv->jobs_mu);
	if (srv->image_gen == gen)   /* nothing changed while we counted */
		srv->image_count = (long)n;
	pthread_mutex_unlock(&srv->jobs_mu);
	return (long)n;
}

void h_images_changed(struct api_server *srv)
{
	pthread_mutex_lock(&srv->jobs_mu);
	srv->image_gen++;
	srv->image_count = -1;
	pthread_mutex_unlock(&srv->jobs_mu);
}

/* Replies for a store error about name. */
static void reply_store_error(struct api_req *r, const char *name, const char *err)
{
	if (!strncmp(err, "no such image", 13))
		reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "%s", err);
	else if (strstr(err, "ambiguous"))
		reply_error(r, MHD_HTTP_BAD_REQUEST, "ambiguous", "%s", err);
	else
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store", "%s: %s", name, err);
}

static bool is_hex(const char *s)
{
	return strspn(s, "0123456789abcdef") == strlen(s);
}

/* 0 if name could name an image, or -1 after replying 400. */
static int check_name(struct api_req *r, const char *name)
{
	struct sm_ref ref;
	char err[ERRLEN];
	size_t n = strlen(name);
	if ((n >= 12 && n <= 64 && is_hex(name)) || !strncmp(name, "sha256:", 7))
		return 0;
	if (sm_ref_parse(name, &ref, err, sizeof err) == 0)
		return 0;
	reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_reference", "%s", err);
	return -1;
}

void h_images_list(struct api_req *r)
{
	static const char *const no_query[] = { NULL };
	struct sm_image_info *list;
	size_t n;
	char err[ERRLEN];
	if (query_check(r, no_query))
		return;
	if (sm_store_list(r->srv->cfg.store, &list, &n, err, sizeof err) < 0) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store", "listing images: %s", err);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, image_info_json(&list[i]));
	sm_image_list_free(list, n);
	reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "images", arr));
}

void h_images_inspect(struct api_req *r)
{
	static const char *const no_query[] = { NULL };
	const char *name = r->params[0];
	char err[ERRLEN];
	if (query_check(r, no_query) || check_name(r, name))
		return;
	json_t *img = image_detail_json(r->srv->cfg.store, name, err, sizeof err);
	if (!img) {
		reply_store_error(r, name, err);
		return;
	}
	reply_json(r, MHD_HTTP_OK, img);
}

void h_images_delete(struct api_req *r)
{
	static const char *const allowed[] = { "force", NULL };
	const char *name = r->params[0];
	struct sm_image_config *cfg;
	char err[ERRLEN];
	bool force;
	if (query_check(r, allowed) || query_bool(r, "force", &force) || check_name(r, name))
		return;
	if (sm_store_inspect(r->srv->cfg.store, name, &cfg, err, sizeof err) < 0) {
		reply_store_error(r, name, err);
		return;
	}
	size_t users = vms_using_image(r->srv->vms, cfg->manifest_digest);
	if (users && !force) {
		reply_error(r, MHD_HTTP_CONFLICT, "conflict",
			    "image %s is used by %zu VM%s: remove %s first or force", name, users,
			    users == 1 ? "" : "s", users == 1 ? "it" : "them");
		sm_image_config_free(cfg);
		return;
	}
	char *id = strdup(cfg->manifest_digest);
	sm_image_config_free(cfg);
	if (!id) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return;
	}
	int rc = sm_store_delete(r->srv->cfg.store, name, err, sizeof err);
	h_images_changed(r->srv);
	if (rc == 0 && sm_store_inspect(r->srv->cfg.store, id, &cfg, err, sizeof err) == 0)
		sm_image_config_free(cfg);   /* a tag went; the image stays */
	else if (rc == 0 && !strncmp(err, "no such image", 13)) {
		/* Gone: its bakes are of no use, and its pools' ready VMs go. */
		vms_bakes_drop_image(r->srv->vms, id);
		pools_image_removed(r->srv->pools, id);
	}
	if (rc < 0) {
		reply_store_error(r, name, err);
	} else {
		events_publish(r->srv->events, "image.removed",
			       json_pack("{s:s,s:s}", "id", id, "name", name));
		reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:s}", "id", id, "name", name));
	}
	free(id);
}

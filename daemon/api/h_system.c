/* h_system.c - the daemon itself: GET /v1/version, GET /v1/info (its
 * settings, VMs' network defaults among them),
 * GET /metrics, and POST /v1/system/gc (the store's garbage collection,
 * and the bakes that are of no use any more). */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "daemon/api/events.h"
#include "daemon/api/handlers.h"
#include "daemon/api/kvm_probe.h"
#include "daemon/store/store.h"
#include "daemon/vms/bakes.h"
#include "daemon/vms/vm_net.h"
#include "daemon/vms/vms.h"
#include "daemon/api/metrics.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"

static const char *const no_query[] = { NULL };

void h_version(struct api_req *r)
{
	struct utsname u;
	if (query_check(r, no_query))
		return;
	uname(&u);
	reply_json(r, MHD_HTTP_OK,
		   json_pack("{s:s,s:s,s:s,s:s}", "version", SM_VERSION, "api_version", "v1",
			     "os", "linux", "arch", u.machine));
}

static json_t *strings_json(const char *const *list)
{
	json_t *arr = json_array();
	for (; list && *list; list++)
		json_array_append_new(arr, json_string(*list));
	return arr;
}

static json_t *limits_json(const struct api_config *c)
{
	return json_pack("{s:I,s:I,s:i,s:i}",
			 "max_body_bytes", (json_int_t)c->max_body_bytes,
			 "max_upload_bytes", (json_int_t)c->max_upload_bytes,
			 "max_connections", (int)c->max_connections,
			 "connection_timeout_s", (int)c->connection_timeout_s);
}

/* VMs' network defaults: {"default": MODE, "egress": {...}, "allow_override": B}. */
static json_t *network_json(const struct vm_net_defaults *d)
{
	struct vm_net_defaults builtin;
	if (!d) {
		vm_net_defaults_init(&builtin);
		d = &builtin;
	}
	json_t *eg = vm_egress_json(&d->egress);
	if (eg)
		json_object_set_new(eg, "allow_override", json_boolean(d->allow_override));
	return json_pack("{s:s,s:o?}", "default", vm_network_name(d->mode), "egress", eg);
}

void h_info(struct api_req *r)
{
	const struct api_config *c = &r->srv->cfg;
	if (query_check(r, no_query))
		return;
	json_t *info = json_pack(
		"{s:s,s:s,s:s,s:o,s:{s:i,s:i,s:i,s:i},s:o,s:o,s:I,s:I}",
		"version", SM_VERSION, "socket", c->socket_path, "data_dir", c->data_dir,
		"kvm", kvm_probe_status(r->srv->probe),
		"defaults", "vcpus", c->default_vcpus, "memory_mib", (int)c->default_memory_mib,
		"storage_mib", (int)c->default_storage_mib,
		"max_storage_mib", (int)c->max_storage_mib,
		"limits", limits_json(c),
		"insecure_registries", strings_json(c->insecure_registries),
		"uptime_s", (json_int_t)(time(NULL) - r->srv->started),
		"event_subscribers", (json_int_t)events_subscribers(r->srv->events));
	long images = h_images_count(r->srv);
	if (info && images >= 0)
		json_object_set_new(info, "images", json_integer(images));
	size_t vms[VM_GONE + 1];
	vms_count(r->srv->vms, vms);
	json_t *states = json_object();
	for (int s = 0; s <= VM_GONE; s++)
		json_object_set_new(states, vm_state_name(s), json_integer((json_int_t)vms[s]));
	if (info)
		json_object_set_new(info, "vms", states);
	else
		json_decref(states);
	if (info)
		json_object_set_new(info, "guest", json_pack("{s:s?,s:s?}", "kernel", c->kernel,
							     "initrd", c->initrd));
	if (info)
		json_object_set_new(info, "bake", vms_bake_info(r->srv->vms));
	if (info)
		json_object_set_new(info, "shared_folders", strings_json(c->shared_folders));
	if (info)
		json_object_set_new(info, "network", network_json(c->net_defaults));
	if (!info) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return;
	}
	reply_json(r, MHD_HTTP_OK, info);
}

void h_metrics(struct api_req *r)
{
	struct metrics_gauges g = {
		.images = h_images_count(r->srv),
		.event_subscribers = events_subscribers(r->srv->events),
		.start_time = (double)r->srv->started,
	};
	vms_count(r->srv->vms, g.vms);
	size_t len;
	if (query_check(r, no_query))
		return;
	char *text = metrics_render(r->srv->metrics, &g, &len);
	if (!text) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return;
	}
	reply_text(r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

/* For vms_bakes_gc: is the image still in the store? On any doubt (the
 * store failing) yes: a bake is only dropped for sure. */
static bool image_exists(void *ud, const char *image_id)
{
	struct api_server *srv = ud;
	struct sm_image_config *cfg;
	char err[512];
	if (sm_store_inspect(srv->cfg.store, image_id, &cfg, err, sizeof err) == 0) {
		sm_image_config_free(cfg);
		return true;
	}
	return strncmp(err, "no such image", 13) != 0;
}

void h_system_gc(struct api_req *r)
{
	struct sm_gc_stats st = { 0 };
	char err[1024];
	if (query_check(r, no_query))
		return;
	/* Bakes first: a bake of a gone image is of no use. */
	size_t bakes = vms_bakes_gc(r->srv->vms, image_exists, r->srv);
	if (sm_store_gc(r->srv->cfg.store, &st, err, sizeof err) < 0) {
		bool busy = strstr(err, "refused") != NULL;   /* a pull or import runs */
		reply_error(r, busy ? MHD_HTTP_CONFLICT : MHD_HTTP_INTERNAL_SERVER_ERROR,
			    busy ? "conflict" : "store", "%s", err);
		return;
	}
	reply_json(r, MHD_HTTP_OK, json_pack("{s:I,s:I,s:I,s:I,s:I}",
		"blobs_removed", (json_int_t)st.blobs_removed,
		"layers_removed", (json_int_t)st.layers_removed,
		"files_removed", (json_int_t)st.files_removed,
		"bytes_freed", (json_int_t)st.bytes_freed, "bakes_removed", (json_int_t)bakes));
}

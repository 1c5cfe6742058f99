/* h_snapshots.c - snapshots of running VMs and VMs restored from them:
 * POST /v1/vms/{id}/snapshot, POST /v1/vms/{id}/fork, GET and DELETE
 * /v1/snapshots[/{name}], and POST /v1/vms with "from_snapshot" (called
 * from h_vms.c once the body is checked).
 *
 * A restored VM takes the snapshot's image (its layers looked up again in
 * the store by the image id: 409 when the image is gone), vCPUs and memory
 * (a request asking for others is a 400), and the snapshot's env, cmd,
 * entrypoint, workdir and user unless the request gives its own (env
 * entries are laid over the snapshot's by key; an entrypoint given drops
 * the snapshot's cmd, as docker's --entrypoint drops an image's CMD). Labels and auto_remove are the request's.
 * Fork is a temporary snapshot (daemon/vms/snapshots.h) and count VMs
 * restored from it, started in parallel; the snapshot goes with the last
 * of them. A restored VM's network settings are its request's (merged as
 * for an image's VM); forks take their source's network and egress
 * policy, not its published ports (a host port is one VM's).
 */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/api/handlers.h"
#include "daemon/api/json_in.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"
#include "daemon/api/vms_req.h"
#include "daemon/store/store.h"
#include "daemon/vms/snapshots.h"
#include "daemon/vms/vm_net.h"
#include "daemon/vms/vms.h"

#define ERRLEN 1024
#define MAX_FORK 16

/* A restored VM's spec and what it borrows from. */
struct restore {
	struct vm_spec spec;
	json_t *snap;                  /* the snapshot's JSON */
	struct sm_image_config *cfg;
	const char **env, **cmd, **entrypoint;
};

static void restore_free(struct restore *x)
{
	json_decref(x->snap);
	if (x->cfg)
		sm_image_config_free(x->cfg);
	free(x->env);
	free(x->cmd);
	free(x->entrypoint);
	memset(x, 0, sizeof *x);
}

static size_t env_key_len(const char *kv)
{
	return strcspn(kv, "=");
}

/* The snapshot's env with the request's laid over it (same key: the
 * request's wins), NULL-terminated, strings borrowed. */
static const char **env_merge(json_t *base, json_t *over)
{
	size_t n = 0, i;
	json_t *e;
	const char **env = calloc(json_array_size(base) + json_array_size(over) + 1, sizeof *env);
	json_t *lists[2] = { base, over };
	for (int l = 0; env && l < 2; l++)
		json_array_foreach(lists[l], i, e) {
			const char *kv = json_string_value(e);
			size_t k = env_key_len(kv), j = 0;
			while (j < n && !(env_key_len(env[j]) == k && !strncmp(env[j], kv, k)))
				j++;
			env[j] = kv;
			n += j == n;
		}
	return env;
}

/* A string field of the request, else the snapshot's when not empty. */
static const char *pick(json_t *b, json_t *snap, const char *field)
{
	const char *s = jin_str(b, field);
	if (s)
		return s;
	s = json_string_value(json_object_get(snap, field));
	return s && *s ? s : NULL;
}

/* The request's vcpus/memory/storage_mib, when given, must be the snapshot's. */
static int check_size(struct api_req *r, json_t *b, json_t *snap, const char *name)
{
	json_t *vc = json_object_get(b, "vcpus"), *mem = json_object_get(b, "memory");
	json_int_t svc = json_integer_value(json_object_get(snap, "vcpus"));
	json_int_t smem = json_integer_value(json_object_get(snap, "memory_mib"));
	if (vc && json_integer_value(vc) != svc) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"vcpus\": snapshot %s has %lld vCPUs, and a VM restored from it "
			    "has as many", name, (long long)svc);
		return -1;
	}
	if (mem && json_integer_value(mem) != smem) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"memory\": snapshot %s has %lld MiB of memory, and a VM restored "
			    "from it has as much", name, (long long)smem);
		return -1;
	}
	json_t *sto = json_object_get(b, "storage_mib");
	json_int_t ssto = json_integer_value(json_object_get(snap, "storage_mib"));
	if (sto && json_integer_value(sto) != ssto && !ssto) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"storage_mib\": snapshot %s has no writable layer disk (it was "
			    "taken before them: its files are in its memory)", name);
		return -1;
	}
	if (sto && json_integer_value(sto) != ssto) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"storage_mib\": snapshot %s has a writable layer of %lld MiB, "
			    "and a VM restored from it has the same (its files are in it)", name,
			    (long long)ssto);
		return -1;
	}
	return 0;
}

/* The image a snapshot (or a VM to fork) was made from, by its id: NULL
 * after 409 when it is no longer in the store (or 500). */
static struct sm_image_config *snapshot_image(struct api_req *r, const char *what,
					      const char *image, const char *image_id)
{
	struct sm_image_config *cfg;
	char err[ERRLEN];
	if (sm_store_inspect(r->srv->cfg.store, image_id, &cfg, err, sizeof err) == 0)
		return cfg;
	if (!strncmp(err, "no such image", 13))
		reply_error(r, MHD_HTTP_CONFLICT, "conflict",
			    "%s was made from image %s (%s), which is no longer in the store: pull or "
			    "import that image again to restore it", what, image, image_id);
	else
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store", "%s: %s", image_id, err);
	return NULL;
}

/* x's env, cmd and entrypoint: the request's laid over the snapshot's
 * env; its cmd, else the snapshot's; its entrypoint, else the
 * snapshot's. An entrypoint given drops the snapshot's cmd, as docker's
 * --entrypoint drops an image's CMD. 0, or -1 when out of memory. */
static int restore_command(struct restore *x, json_t *b)
{
	json_t *cmd = json_object_get(b, "cmd"), *ep = json_object_get(b, "entrypoint");
	json_t *scmd = json_object_get(x->snap, "cmd"), *sep = json_object_get(x->snap, "entrypoint");
	json_t *use_cmd = cmd ? cmd : !ep && json_is_array(scmd) ? scmd : NULL;
	json_t *use_ep = ep ? ep : json_is_array(sep) ? sep : NULL;
	x->env = env_merge(json_object_get(x->snap, "env"), json_object_get(b, "env"));
	x->cmd = jin_strv(use_cmd);
	x->entrypoint = jin_strv(use_ep);
	return !x->env || (use_cmd && !x->cmd) || (use_ep && !x->entrypoint) ? -1 : 0;
}

/* Fills x for a VM restored from snapshot name with the request's
 * overrides b and network settings net (borrowed). 0, or -1 after
 * replying (404, 400, 409, 503). */
static int restore_prepare(struct api_req *r, const char *name, json_t *b,
			   const struct vm_net *net, struct restore *x)
{
	char what[128];
	memset(x, 0, sizeof *x);
	if (!(x->snap = vms_snapshot_json(r->srv->vms, name))) {
		reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such snapshot: %s", name);
		return -1;
	}
	const char *image = json_string_value(json_object_get(x->snap, "image"));
	const char *image_id = json_string_value(json_object_get(x->snap, "image_id"));
	snprintf(what, sizeof what, "snapshot %s", name);
	if (check_size(r, b, x->snap, name) < 0 ||
	    !(x->cfg = snapshot_image(r, what, image, image_id)))
		goto fail;
	if (restore_command(x, b) < 0) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		goto fail;
	}
	x->spec = (struct vm_spec){
		.image = image, .image_cfg = x->cfg,
		.vcpus = (int)json_integer_value(json_object_get(x->snap, "vcpus")),
		.memory_mib = (unsigned)json_integer_value(json_object_get(x->snap, "memory_mib")),
		.env = x->env, .cmd = x->cmd, .entrypoint = x->entrypoint,
		.workdir = pick(b, x->snap, "workdir"), .user = pick(b, x->snap, "user"),
		.labels = json_object_get(b, "labels"), .auto_remove = jin_bool(b, "auto_remove"),
		.from_snapshot = json_string_value(json_object_get(x->snap, "name")),
		.hostname = jin_str(b, "hostname"), .net = net,
	};
	if (req_command_check(r, &x->spec, what, json_object_get(b, "entrypoint") != NULL) < 0 ||
	    req_ports_free(r, net) < 0 || req_kvm_usable(r) < 0)
		goto fail;
	return 0;
fail:
	restore_free(x);
	return -1;
}

void vms_create_from_snapshot(struct api_req *r, json_t *b, const struct vm_net *net)
{
	struct restore x;
	if (restore_prepare(r, jin_str(b, "from_snapshot"), b, net, &x) < 0)
		return;
	struct vm_rec *vm;
	char id[32] = "", err[ERRLEN] = "";
	int rc = vms_create(r->srv->vms, &x.spec, &vm, id, sizeof id, err, sizeof err);
	if (rc == -3) {
		reply_error(r, MHD_HTTP_CONFLICT, "port_in_use", "%s", err);
	} else if (rc < 0) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "vm_start_failed", "VM %s: %s",
			    id[0] ? id : "(none)", err);
	} else {
		reply_json(r, MHD_HTTP_CREATED, vm_json(vm));
		vm_put(vm);
	}
	restore_free(&x);
}

/* --- POST /v1/vms/{id}/snapshot ------------------------------------------ */

static void reply_snapshot_error(struct api_req *r, int e, const char *err)
{
	switch (e) {
	case EINVAL:
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field", "field \"name\": %s", err);
		break;
	case ESRCH:
		reply_error(r, MHD_HTTP_CONFLICT, "vm_not_running", "%s", err);
		break;
	case EEXIST:
	case EBUSY:
	case ENOTSUP:   /* a VM with mounts */
		reply_error(r, MHD_HTTP_CONFLICT, "conflict", "%s", err);
		break;
	default:
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "snapshot_failed", "%s", err);
	}
}

void h_vms_snapshot(struct api_req *r)
{
	static const struct jin_field fields[] = { { "name", JIN_STRING, true }, { NULL } };
	char err[ERRLEN];
	json_t *b = json_in_body(r, fields);
	if (!b)
		return;
	const char *name = jin_str(b, "name");
	struct vm_rec *vm = NULL;
	if (!vms_snapshot_name_ok(name))
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"name\": \"%s\" is not a snapshot name (1 to %d letters, digits, "
			    "'_', '.' or '-', beginning with a letter or digit)", name, SNAP_NAME_MAX);
	else if ((vm = req_vm(r)) && req_vm_running(r, vm) == 0) {
		json_t *snap = vms_snapshot(r->srv->vms, vm, name, 0, NULL, 0, err, sizeof err);
		if (snap)
			reply_json(r, MHD_HTTP_CREATED, snap);
		else
			reply_snapshot_error(r, errno, err);
	}
	vm_put(vm);
	json_decref(b);
}

/* --- POST /v1/vms/{id}/fork ---------------------------------------------- */

struct fork_one {
	pthread_t thread;
	bool started;
	const struct vm_spec *spec;
	struct vms *vms;
	struct vm_rec *vm;             /* NULL: it failed */
	char id[32], err[ERRLEN];
	int rc;
};

static void *fork_thread(void *arg)
{
	struct fork_one *f = arg;
	f->rc = vms_create(f->vms, f->spec, &f->vm, f->id, sizeof f->id, f->err, sizeof f->err);
	if (f->rc < 0)
		f->vm = NULL;
	return NULL;
}

/* Starts n VMs of x at once; 0 when all run. */
static int fork_start(struct api_server *srv, const struct restore *x, struct fork_one *f,
		      size_t n)
{
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		f[i] = (struct fork_one){ .spec = &x->spec, .vms = srv->vms, .rc = -1 };
		f[i].started = pthread_create(&f[i].thread, NULL, fork_thread, &f[i]) == 0;
		if (!f[i].started)
			snprintf(f[i].err, sizeof f[i].err, "no thread to start it");
	}
	for (size_t i = 0; i < n; i++) {
		if (f[i].started)
			pthread_join(f[i].thread, NULL);
		bad |= f[i].rc < 0;
	}
	return bad ? -1 : 0;
}

/* Some failed: the ones that run are removed; the failed stay (exited,
 * with their logs) as a failed POST /v1/vms leaves its VM. */
static void fork_fail(struct api_req *r, const char *src, struct fork_one *f, size_t n)
{
	size_t ok = 0, first = 0;
	char err[ERRLEN];
	while (f[first].vm)
		first++;
	for (size_t i = 0; i < n; i++) {
		if (!f[i].vm)
			continue;
		ok++;
		vms_remove(r->srv->vms, f[i].vm, true, err, sizeof err);
		vm_put(f[i].vm);
	}
	reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "vm_start_failed",
		    "fork of VM %s: VM %s: %s (%zu of %zu started; they were removed)", src,
		    f[first].id[0] ? f[first].id : "(none)", f[first].err, ok, n);
}

static void fork_vm(struct api_req *r, json_t *b, struct vm_rec *vm, size_t count)
{
	char name[SNAP_NAME_MAX + 1] = "", err[ERRLEN];
	json_t *src = vm_json(vm);
	const char *image = json_string_value(json_object_get(src, "image"));
	const char *image_id = json_string_value(json_object_get(src, "image_id"));
	char what[64];
	snprintf(what, sizeof what, "VM %s", vm_id(vm));
	struct sm_image_config *cfg = image_id ? snapshot_image(r, what, image, image_id) : NULL;
	if (!image_id)
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
	if (!cfg || req_kvm_usable(r) < 0)
		goto out;
	json_t *snap = vms_snapshot(r->srv->vms, vm, NULL, SNAP_TEMPORARY, name, sizeof name, err,
				    sizeof err);
	if (!snap) {
		reply_snapshot_error(r, errno, err);
		goto out;
	}
	json_decref(snap);
	struct restore x;
	struct fork_one *f = calloc(count, sizeof *f);
	struct vm_net *net = malloc(sizeof *net);
	if (net) {   /* the source's network and egress; its ports are its own */
		*net = *vm_net_settings(vm);
		net->n_ports = 0;
	}
	if (!f || !net) {
		vms_snapshot_release(r->srv->vms, name);
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
	} else if (restore_prepare(r, name, b, net, &x) == 0) {
		int rc = fork_start(r->srv, &x, f, count);
		vms_snapshot_release(r->srv->vms, name);
		if (rc < 0) {
			fork_fail(r, vm_id(vm), f, count);
		} else {
			json_t *list = json_array();
			for (size_t i = 0; i < count; i++) {
				json_array_append_new(list, vm_json(f[i].vm));
				vm_put(f[i].vm);
			}
			reply_json(r, MHD_HTTP_CREATED,
				   json_pack("{s:s,s:o}", "snapshot", name, "vms", list));
		}
		restore_free(&x);
	} else {
		vms_snapshot_release(r->srv->vms, name);
	}
	free(f);
	free(net);
out:
	if (cfg)
		sm_image_config_free(cfg);
	json_decref(src);
}

void h_vms_fork(struct api_req *r)
{
	static const struct jin_field fields[] = {
		{ "count", JIN_UINT, true }, { "labels", JIN_OBJECT, false },
		{ "auto_remove", JIN_BOOL, false }, { NULL },
	};
	json_t *b = json_in_body(r, fields), *v;
	const char *k;
	if (!b)
		return;
	json_int_t count = json_integer_value(json_object_get(b, "count"));
	struct vm_rec *vm = NULL;
	if (count < 1 || count > MAX_FORK) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"count\" must be 1 to %d", MAX_FORK);
		goto out;
	}
	json_object_foreach(json_object_get(b, "labels"), k, v)
		if (!json_is_string(v)) {
			reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
				    "field \"labels\": label \"%s\" must be a string", k);
			goto out;
		}
	if ((vm = req_vm(r)) && req_vm_running(r, vm) == 0)
		fork_vm(r, b, vm, (size_t)count);
out:
	vm_put(vm);
	json_decref(b);
}

/* --- /v1/snapshots ---------------------------------------------------------- */

void h_snapshots_list(struct api_req *r)
{
	static const char *const no_query[] = { NULL };
	if (query_check(r, no_query))
		return;
	json_t *list = vms_snapshots_json(r->srv->vms);
	if (list)
		reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "snapshots", list));
	else
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
}

void h_snapshots_inspect(struct api_req *r)
{
	static const char *const no_query[] = { NULL };
	if (query_check(r, no_query))
		return;
	json_t *snap = vms_snapshot_json(r->srv->vms, r->params[0]);
	if (snap)
		reply_json(r, MHD_HTTP_OK, snap);
	else
		reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no such snapshot: %s",
			    r->params[0]);
}

void h_snapshots_delete(struct api_req *r)
{
	static const char *const no_query[] = { NULL };
	char err[ERRLEN];
	if (query_check(r, no_query))
		return;
	if (vms_snapshot_remove(r->srv->vms, r->params[0], err, sizeof err) == 0)
		reply_json(r, MHD_HTTP_OK,
			   json_pack("{s:s,s:b}", "name", r->params[0], "removed", 1));
	else if (errno == ENOENT)
		reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "%s", err);
	else
		reply_error(r, MHD_HTTP_CONFLICT, "conflict", "%s", err);
}

/* h_vms.c - /v1/vms: create, list, inspect, stop and remove VMs.
 *
 * POST /v1/vms checks in this order, so each failure has one answer: the
 * body (400 naming the field; 403 for an egress loosening the config
 * forbids), the image (404), the command (422 when the request's
 * entrypoint and cmd merged with the image's leave none), published
 * host ports (409), KVM (503), and then boots the VM, answering 201 once its guest agent is
 * up (the boot is slow under an emulated KVM host; the request simply
 * waits). A warm pool
 * of the image and size (daemon/pool) hands over a ready VM when it has
 * one; otherwise the VM is restored from the image's bake (made first on
 * the image's first use), or booted when baking is off. A body with
 * "from_snapshot" instead of "image" goes on to h_snapshots.c once checked.
 * "entrypoint" replaces the image's ENTRYPOINT and drops its CMD, as
 * docker's --entrypoint does ([] clears it: "cmd" alone is the command);
 * the merge is daemon/vms/vms_command.c's, here only its 422.
 * "mounts" (shared host folders, checked in vms_req.c as part of the body)
 * are bound to the idle virtio-fs slots of the VM, wherever it comes from
 * (pool, bake, boot); they cannot be given with "from_snapshot" (yet).
 * "network", "ports" and "egress" are checked and merged with the daemon's
 * defaults as part of the body (vms_req_net.c: 400, or 403 for a
 * loosening the config forbids); published ports are checked free (409
 * port_in_use) after the command and before KVM, and again as the VM
 * joins the list (daemon/vms/vms_ports.c). A VM with published ports is
 * never taken from a warm pool.
 * The VM bookkeeping itself is daemon/vms; this file is the HTTP side.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/api/handlers.h"
#include "daemon/api/main_proc.h"
#include "daemon/api/json_in.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"
#include "daemon/api/vms_req.h"
#include "daemon/pool/pool.h"
#include "daemon/store/store.h"
#include "daemon/vms/upper_disk.h"
#include "daemon/vms/vm_net.h"
#include "daemon/vms/vms.h"

#define ERRLEN 1024
#define MAX_VCPUS 64
#define MIN_MEMORY_MIB 64
#define MAX_MEMORY_MIB (1u << 20)

/* NULL when s is a hostname as RFC 1123 has them (dot-separated labels
 * of 1-63 letters, digits and '-', not beginning or ending with '-'), at
 * most 64 bytes (the kernel's limit); else what is wrong. */
static const char *hostname_problem(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return "must be 1 to 64 characters";
	for (const char *l = s;; ) {
		size_t k = strcspn(l, ".");
		if (k == 0)
			return "has an empty label (a leading, trailing or double '.')";
		if (k > 63)
			return "has a label longer than 63 characters";
		if (l[0] == '-' || l[k - 1] == '-')
			return "has a label beginning or ending with '-'";
		for (size_t i = 0; i < k; i++)
			if (!((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= 'A' && l[i] <= 'Z') ||
			      (l[i] >= '0' && l[i] <= '9') || l[i] == '-'))
				return "may hold only letters, digits, '-' and '.'";
		if (!l[k])
			return NULL;
		l += k + 1;
	}
}

/* Checks what the field list cannot: "K=V" strings, string labels, ranges,
 * the hostname. 0, or -1 after replying 400. */
static int check_create_body(struct api_req *r, json_t *b)
{
	size_t i;
	json_t *v;
	const char *k;
	const char *host = jin_str(b, "hostname"), *why = host ? hostname_problem(host) : NULL;
	if (why) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"hostname\": \"%s\" is not a valid hostname: it %s", host, why);
		return -1;
	}
	json_array_foreach(json_object_get(b, "env"), i, v)
		if (!strchr(json_string_value(v), '=') || json_string_value(v)[0] == '=') {
			reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
				    "field \"env\": \"%s\" is not KEY=VALUE", json_string_value(v));
			return -1;
		}
	json_object_foreach(json_object_get(b, "labels"), k, v)
		if (!json_is_string(v)) {
			reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
				    "field \"labels\": label \"%s\" must be a string", k);
			return -1;
		}
	json_t *c = json_object_get(b, "cmd");
	if (c && json_array_size(c) == 0) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"cmd\" must not be empty");
		return -1;
	}
	json_int_t n = json_integer_value(json_object_get(b, "vcpus"));
	if (json_object_get(b, "vcpus") && (n < 1 || n > MAX_VCPUS)) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"vcpus\" must be 1 to %d", MAX_VCPUS);
		return -1;
	}
	n = json_integer_value(json_object_get(b, "storage_mib"));
	unsigned max_storage = r->srv->cfg.max_storage_mib;
	if (json_object_get(b, "storage_mib") && (n < UPPER_MIN_MIB || n > max_storage)) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"storage_mib\" (the writable layer, MiB) must be %u to %u",
			    UPPER_MIN_MIB, max_storage);
		return -1;
	}
	n = json_integer_value(json_object_get(b, "memory"));
	if (json_object_get(b, "memory") && (n < MIN_MEMORY_MIB || n > MAX_MEMORY_MIB)) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"memory\" (MiB) must be %d to %u", MIN_MEMORY_MIB,
			    MAX_MEMORY_MIB);
		return -1;
	}
	return 0;
}

/* The store's answer for name: the config, or NULL after 404/500. */
static struct sm_image_config *find_image(struct api_req *r, const char *name)
{
	struct sm_image_config *cfg;
	char err[ERRLEN];
	if (sm_store_inspect(r->srv->cfg.store, name, &cfg, err, sizeof err) == 0)
		return cfg;
	if (!strncmp(err, "no such image", 13) || strstr(err, "invalid") || strstr(err, "parse"))
		reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "%s", err);
	else
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store", "%s: %s", name, err);
	return NULL;
}

/* A warm pool's VM when there is one for spec, else a new one; replies. */
static void start_vm(struct api_req *r, const struct vm_spec *spec)
{
	struct vm_rec *vm;
	char id[32] = "", err[ERRLEN] = "";
	/* A pool's VM takes the mounts into its idle virtio-fs slots and the
	 * request's network and ports as it is handed out; volumes need disks
	 * of their own, so a VM with them boots. */
	int rc = spec->n_volumes ? 1 : pools_acquire(r->srv->pools, spec, &vm, id, sizeof id,
						     err, sizeof err);
	if (rc == 1)   /* no pool of this image and size */
		rc = vms_create(r->srv->vms, spec, &vm, id, sizeof id, err, sizeof err);
	if (rc == -2 || rc == -3) {
		reply_error(r, MHD_HTTP_CONFLICT, rc == -3 ? "port_in_use" : "in_use", "%s", err);
	} else if (rc < 0) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "vm_start_failed", "VM %s: %s",
			    id[0] ? id : "(none)", err);
	} else {
		reply_json(r, MHD_HTTP_CREATED, vm_json(vm));
		vm_put(vm);
	}
}

/* The spec of the request; then its command (422) and KVM (503) before
 * the VM starts. */
static void create_vm(struct api_req *r, json_t *b, const struct sm_image_config *cfg,
		      const struct vm_mount *mounts, size_t n_mounts,
		      const struct vm_volume *vols, size_t n_vols, const struct vm_net *net)
{
	const char **env = jin_strv(json_object_get(b, "env"));
	const char **cmd = jin_strv(json_object_get(b, "cmd"));
	const char **ep = jin_strv(json_object_get(b, "entrypoint"));
	json_t *vc = json_object_get(b, "vcpus"), *mem = json_object_get(b, "memory");
	struct vm_spec spec = {
		.image = jin_str(b, "image"), .image_cfg = cfg,
		.vcpus = vc ? (int)json_integer_value(vc) : r->srv->cfg.default_vcpus,
		.memory_mib = mem ? (unsigned)json_integer_value(mem)
				  : r->srv->cfg.default_memory_mib,
		.storage_mib = (unsigned)json_integer_value(json_object_get(b, "storage_mib")),
		.env = env, .cmd = cmd, .entrypoint = ep,
		.workdir = jin_str(b, "workdir"), .user = jin_str(b, "user"),
		.labels = json_object_get(b, "labels"), .auto_remove = jin_bool(b, "auto_remove"),
		.mounts = mounts, .n_mounts = n_mounts, .volumes = vols, .n_volumes = n_vols,
		.hostname = jin_str(b, "hostname"), .net = net,
	};
	char what[ERRLEN];
	snprintf(what, sizeof what, "image %s", spec.image);
	if (req_command_check(r, &spec, what, ep != NULL) == 0 && req_ports_free(r, net) == 0 &&
	    req_kvm_usable(r) == 0)
		start_vm(r, &spec);
	free(env);
	free(cmd);
	free(ep);
}

void h_vms_create(struct api_req *r)
{
	static const struct jin_field fields[] = {
		{ "image", JIN_STRING, false }, { "from_snapshot", JIN_STRING, false },
		{ "vcpus", JIN_UINT, false },
		{ "memory", JIN_UINT, false }, { "storage_mib", JIN_UINT, false },
		{ "env", JIN_STRINGS, false },
		{ "cmd", JIN_STRINGS, false }, { "entrypoint", JIN_STRINGS, false },
		{ "workdir", JIN_STRING, false },
		{ "user", JIN_STRING, false }, { "labels", JIN_OBJECT, false },
		{ "auto_remove", JIN_BOOL, false }, { "mounts", JIN_ARRAY, false },
		{ "volumes", JIN_ARRAY, false }, { "hostname", JIN_STRING, false },
		{ "network", JIN_STRING, false }, { "ports", JIN_ARRAY, false },
		{ "egress", JIN_OBJECT, false }, { NULL },
	};
	json_t *b = json_in_body(r, fields);
	if (!b)
		return;
	struct sm_image_config *cfg = NULL;
	struct vm_mount *mounts = NULL;
	struct vm_volume *vols = NULL;
	struct vm_net *net = NULL;
	size_t n_mounts = 0, n_vols = 0;
	bool image = json_object_get(b, "image"), snap = json_object_get(b, "from_snapshot");
	if (image == snap) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field", image ?
			    "give \"image\" or \"from_snapshot\", not both" :
			    "missing required field \"image\" (or \"from_snapshot\")");
		goto out;
	}
	if (check_create_body(r, b) < 0)
		goto out;
	if (snap && json_array_size(json_object_get(b, "mounts"))) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"mounts\" cannot be given with \"from_snapshot\" (not "
			    "supported yet): create the VM from its image to share folders");
		goto out;
	}
	if (snap && json_array_size(json_object_get(b, "volumes"))) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"volumes\" cannot be given with \"from_snapshot\": a VM with "
			    "volumes boots from its image");
		goto out;
	}
	if (req_mounts(r, json_object_get(b, "mounts"), &mounts, &n_mounts) < 0 ||
	    req_volumes(r, json_object_get(b, "volumes"), mounts, n_mounts, &vols, &n_vols) < 0 ||
	    !(net = req_net(r, b)))
		goto out;
	if (snap) {
		vms_create_from_snapshot(r, b, net);
		goto out;
	}
	if (!(cfg = find_image(r, jin_str(b, "image"))))
		goto out;
	create_vm(r, b, cfg, mounts, n_mounts, vols, n_vols, net);
out:
	free(net);
	req_mounts_free(mounts, n_mounts);
	req_volumes_free(vols, n_vols);
	if (cfg)
		sm_image_config_free(cfg);
	json_decref(b);
}

/* ?label=KEY or KEY=VALUE (repeatable: all must match) and ?state=S. */
static bool list_match(struct api_req *r, struct vm_rec *vm, const char *state)
{
	if (state && strcmp(state, vm_state_name(vm_state(vm))))
		return false;
	const char *const *labels = req_query_all(r, "label");
	bool ok = true;
	for (size_t i = 0; ok && labels && labels[i]; i++) {
		char key[256];
		snprintf(key, sizeof key, "%s", labels[i]);
		char *eq = strchr(key, '=');
		if (eq)
			*eq++ = 0;
		ok = vm_has_label(vm, key, eq);
	}
	free((void *)labels);
	return ok;
}

/* {"vms":[…]} from each VM's cached JSON text: building and dumping the
 * objects per request was most of the cost of listing. */
static char *list_body(struct api_req *r, struct vm_rec **list, size_t n, const char *state,
		       size_t *len)
{
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);
	bool first = true;
	if (buf)
		used = (size_t)sprintf(buf, "{\"vms\":[");
	for (size_t i = 0; buf && i < n; i++) {
		size_t tlen;
		char *t = list_match(r, list[i], state) ? vm_json_text(list[i], &tlen) : NULL;
		if (!t)
			continue;
		if (used + tlen + 8 > cap) {
			while (used + tlen + 8 > cap)
				cap *= 2;
			char *grown = realloc(buf, cap);
			if (!grown)
				free(buf);
			buf = grown;
		}
		if (buf)
			used += (size_t)sprintf(buf + used, "%s%s", first ? "" : ",", t);
		first = false;
		free(t);
	}
	if (buf)
		used += (size_t)sprintf(buf + used, "]}\n");
	*len = used;
	return buf;
}

void h_vms_list(struct api_req *r)
{
	static const char *const allowed[] = { "label", "state", NULL };
	static const char *const states[] = { "starting", "running", "stopping", "exited",
					       "gone", NULL };
	if (query_check(r, allowed))
		return;
	const char *state = req_query(r, "state");
	bool known = !state;
	for (size_t i = 0; state && states[i]; i++)
		known |= !strcmp(state, states[i]);
	if (!known) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_query",
			    "state \"%s\": expected starting, running, stopping, exited or gone",
			    state);
		return;
	}
	struct vm_rec **list;
	size_t n = vms_list(r->srv->vms, &list), len;
	char *body = list_body(r, list, n, state, &len);
	vms_list_free(list, n);
	if (body)
		reply_text(r, MHD_HTTP_OK, "application/json", body, len);
	else
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
}

void h_vms_inspect(struct api_req *r)
{
	static const char *const no_query[] = { NULL };
	if (query_check(r, no_query))
		return;
	struct vm_rec *vm = req_vm(r);
	if (!vm)
		return;
	json_t *o = vm_json(vm), *main = main_json(vm_id(vm));
	if (o && main)
		json_object_set_new(o, "main", main);
	else
		json_decref(main);
	reply_json(r, MHD_HTTP_OK, o);
	vm_put(vm);
}

void h_vms_stop(struct api_req *r)
{
	static const char *const no_query[] = { NULL };
	char err[ERRLEN];
	if (query_check(r, no_query))
		return;
	struct vm_rec *vm = req_vm(r);
	if (!vm)
		return;
	if (vms_stop(r->srv->vms, vm, err, sizeof err) < 0)
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "vm_stop_failed", "%s", err);
	else
		reply_json(r, MHD_HTTP_OK, vm_json(vm));
	vm_put(vm);
}

void h_vms_delete(struct api_req *r)
{
	static const char *const allowed[] = { "force", NULL };
	char err[ERRLEN];
	bool force;
	if (query_check(r, allowed) || query_bool(r, "force", &force))
		return;
	struct vm_rec *vm = req_vm(r);
	if (!vm)
		return;
	if (vms_remove(r->srv->vms, vm, force, err, sizeof err) < 0)
		reply_error(r, errno == EBUSY ? MHD_HTTP_CONFLICT : MHD_HTTP_INTERNAL_SERVER_ERROR,
			    errno == EBUSY ? "vm_running" : "vm_remove_failed", "%s", err);
	else
		reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:b}", "id", vm_id(vm), "removed", 1));
	vm_put(vm);
}

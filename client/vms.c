/* vms.c - VMs: create (or restore from a snapshot), list, inspect, stop,
 * remove, console logs, and files in and out of a running VM (see
 * supermachine.h). */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

void sm_vm_free(struct sm_vm *vm)
{
	if (!vm)
		return;
	free(vm->id);
	free(vm->image);
	free(vm->image_id);
	free(vm->state);
	free(vm->created);
	free(vm->exit_reason);
	free(vm->json);
	memset(vm, 0, sizeof *vm);
}

static int vm_from_json(json_t *j, void *to)
{
	struct sm_vm *out = to;
	memset(out, 0, sizeof *out);
	if (!json_is_string(json_object_get(j, "id")))
		return -1;
	out->id = jdup(j, "id");
	out->image = jdup(j, "image");
	out->image_id = jdup(j, "image_id");
	out->state = jdup(j, "state");
	out->created = jdup(j, "created");
	out->vcpus = (int)json_integer_value(json_object_get(j, "vcpus"));
	out->memory_mib = (unsigned)json_integer_value(json_object_get(j, "memory_mib"));
	out->worker_pid = (int)json_integer_value(json_object_get(j, "worker_pid"));
	out->exit_reason = jdup(json_object_get(j, "exit"), "reason");
	out->json = json_dumps(j, JSON_COMPACT);
	if (!out->id || !out->state || !out->json) {
		sm_vm_free(out);
		return -1;
	}
	return 0;
}

static void vm_free_one(void *vm)
{
	sm_vm_free(vm);
}

const struct json_kind vm_kind = { "vms", sizeof(struct sm_vm), vm_from_json, vm_free_one,
				   "VM", "an id" };

void sm_vm_list_free(struct sm_vm *list, size_t n)
{
	free_list(&vm_kind, list, n);
}

static json_t *strv_json(const char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *labels_json(const char *const *v)
{
	json_t *o = json_object();
	for (size_t i = 0; o && v && v[i]; i++) {
		const char *eq = strchr(v[i], '=');
		char *k = eq ? strndup(v[i], (size_t)(eq - v[i])) : strdup(v[i]);
		if (k)
			json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
		free(k);
	}
	return o;
}

/* "ports" and "egress" of o, when it has them. */
static void net_body(json_t *b, const struct sm_vm_create_opts *o)
{
	if (o->network)
		json_object_set_new(b, "network", json_string(o->network));
	if (o->ports && o->n_ports) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < o->n_ports; i++)
			json_array_append_new(a, json_pack("{s:I,s:I,s:s,s:s}",
				"host_port", (json_int_t)o->ports[i].host_port,
				"guest_port", (json_int_t)o->ports[i].guest_port,
				"protocol", o->ports[i].udp ? "udp" : "tcp",
				"host_ip", o->ports[i].host_ip ? o->ports[i].host_ip : "127.0.0.1"));
		json_object_set_new(b, "ports", a ? a : json_array());
	}
	if (!o->egress_allow && !o->egress_deny && !o->egress_default)
		return;
	json_t *e = json_object();
	if (e && o->egress_allow)
		json_object_set_new(e, "allow", strv_json(o->egress_allow));
	if (e && o->egress_deny)
		json_object_set_new(e, "deny", strv_json(o->egress_deny));
	if (e && o->egress_default)
		json_object_set_new(e, "default", json_string(o->egress_default));
	json_object_set_new(b, "egress", e ? e : json_object());
}

/* key: "image" or "from_snapshot". */
static json_t *create_body(const char *key, const char *source, const struct sm_vm_create_opts *o)
{
	json_t *b = json_pack("{s:s}", key, source);
	if (!b || !o)
		return b;
	if (o->env)
		json_object_set_new(b, "env", strv_json(o->env));
	if (o->cmd)
		json_object_set_new(b, "cmd", strv_json(o->cmd));
	if (o->entrypoint)
		json_object_set_new(b, "entrypoint", strv_json(o->entrypoint));
	if (o->labels)
		json_object_set_new(b, "labels", labels_json(o->labels));
	if (o->workdir)
		json_object_set_new(b, "workdir", json_string(o->workdir));
	if (o->user)
		json_object_set_new(b, "user", json_string(o->user));
	if (o->hostname)
		json_object_set_new(b, "hostname", json_string(o->hostname));
	if (o->vcpus)
		json_object_set_new(b, "vcpus", json_integer(o->vcpus));
	if (o->memory_mib)
		json_object_set_new(b, "memory", json_integer(o->memory_mib));
	if (o->storage_mib)
		json_object_set_new(b, "storage_mib", json_integer(o->storage_mib));
	if (o->auto_remove)
		json_object_set_new(b, "auto_remove", json_true());
	if (o->mounts && o->n_mounts) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < o->n_mounts; i++)
			json_array_append_new(a, json_pack("{s:s?,s:s?,s:b,s:b}",
				"host_path", o->mounts[i].host_path,
				"guest_path", o->mounts[i].guest_path,
				"readonly", o->mounts[i].readonly, "watch", !o->mounts[i].no_watch));
		json_object_set_new(b, "mounts", a ? a : json_array());
	}
	if (o->volumes && o->n_volumes) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < o->n_volumes; i++)
			json_array_append_new(a, json_pack("{s:s?,s:s?,s:b}",
				"name", o->volumes[i].name, "path", o->volumes[i].guest_path,
				"readonly", o->volumes[i].readonly));
		json_object_set_new(b, "volumes", a ? a : json_array());
	}
	net_body(b, o);
	return b;
}

static int create(sm_client *c, const char *key, const char *source,
		  const struct sm_vm_create_opts *opts, struct sm_vm *out)
{
	if (!c || !source || !*source)
		return SM_E_INVALID;
	json_t *b = create_body(key, source, opts), *j = NULL;
	if (!b)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	int st = http_json(c, "POST", strdup("/v1/vms"), b, &j);
	return take_one(c, st, j, &vm_kind, out);
}

int sm_vm_create(sm_client *c, const char *image, const struct sm_vm_create_opts *opts,
		 struct sm_vm *out)
{
	return create(c, "image", image, opts, out);
}

int sm_vm_restore(sm_client *c, const char *snapshot, const struct sm_vm_create_opts *opts,
		  struct sm_vm *out)
{
	return create(c, "from_snapshot", snapshot, opts, out);
}

int sm_vm_list(sm_client *c, int all, const char *label, struct sm_vm **out, size_t *n)
{
	if (!c || !out || !n)
		return SM_E_INVALID;
	*out = NULL;
	*n = 0;
	char *path = http_escape_path("/v1/vms", "", all ? "" : "?state=running");
	if (path && label) {
		char *q = curl_escape_query(c, label);
		char *p2 = q ? malloc(strlen(path) + strlen(q) + 16) : NULL;
		if (p2)
			sprintf(p2, "%s%clabel=%s", path, all ? '?' : '&', q);
		free(q);
		free(path);
		path = p2;
	}
	if (!path)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	void *list;
	int st = get_list(c, path, &vm_kind, &list, n);
	free(path);
	*out = list;
	return st;
}

/* METHOD /v1/vms/ID SUFFIX with an optional JSON answer. */
static int vm_call(sm_client *c, const char *method, const char *id, const char *suffix,
		   json_t **answer)
{
	if (!c || !id || !*id || strchr(id, '/'))
		return SM_E_INVALID;
	return http_json(c, method, http_escape_path("/v1/vms/", id, suffix), NULL, answer);
}

int sm_vm_inspect(sm_client *c, const char *id, struct sm_vm *out)
{
	json_t *j = NULL;
	int st = vm_call(c, "GET", id, "", &j);
	return take_one(c, st, j, &vm_kind, out);
}

int sm_vm_stop(sm_client *c, const char *id)
{
	return vm_call(c, "POST", id, "/stop", NULL);
}

int sm_vm_remove(sm_client *c, const char *id, int force)
{
	return vm_call(c, "DELETE", id, force ? "?force=1" : "", NULL);
}

int sm_vm_logs(sm_client *c, const char *id, int follow, sm_bytes_fn fn, void *ud)
{
	if (!c || !id || !*id || !fn || strchr(id, '/'))
		return SM_E_INVALID;
	char *path = http_escape_path("/v1/vms/", id, follow ? "/logs?follow=1" : "/logs");
	if (!path)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	struct http_call call = { .method = "GET", .path = path, .on_bytes = fn, .ud = ud };
	int st = http_call(c, &call, NULL);
	free(path);
	return st;
}

char *vm_files_path(sm_client *c, const char *vm, const char *path, unsigned mode)
{
	char *q = curl_escape_query(c, path), *p = NULL;
	char suffix[64];
	if (!q)
		return NULL;
	snprintf(suffix, sizeof suffix, mode ? "&mode=%o" : "", mode);
	char *tail = malloc(strlen(q) + sizeof suffix + 16);
	if (tail) {
		sprintf(tail, "/files?path=%s%s", q, suffix);
		p = http_escape_path("/v1/vms/", vm, tail);
	}
	free(tail);
	free(q);
	return p;
}

int sm_file_write(sm_client *c, const char *vm, const char *path, const void *data,
		  size_t len, unsigned mode)
{
	if (!c || !vm || !*vm || !path || (!data && len) || strchr(vm, '/'))
		return SM_E_INVALID;
	char *p = vm_files_path(c, vm, path, mode ? mode : 0644);
	if (!p)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	struct http_call call = { .method = "PUT", .path = p,
				  .content_type = "application/octet-stream",
				  .body = data ? data : "", .body_len = len };
	int st = http_call(c, &call, NULL);
	free(p);
	return st;
}

struct grow {
	char *buf;
	size_t len, cap;
};

static int collect(const char *p, size_t n, void *ud)
{
	struct grow *g = ud;
	if (g->len + n + 1 > g->cap) {
		size_t cap = g->cap ? g->cap : 65536;
		while (cap < g->len + n + 1)
			cap *= 2;
		char *b = realloc(g->buf, cap);
		if (!b)
			return 1;
		g->buf = b;
		g->cap = cap;
	}
	memcpy(g->buf + g->len, p, n);
	g->len += n;
	g->buf[g->len] = 0;
	return 0;
}

int sm_file_read(sm_client *c, const char *vm, const char *path, void **data, size_t *len)
{
	if (!c || !vm || !*vm || !path || !data || !len || strchr(vm, '/'))
		return SM_E_INVALID;
	char *p = vm_files_path(c, vm, path, 0);
	if (!p)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	struct grow g = { 0 };
	struct http_call call = { .method = "GET", .path = p, .on_bytes = collect, .ud = &g };
	int st = http_call(c, &call, NULL);
	free(p);
	if (st != SM_OK) {
		free(g.buf);
		return st == SM_E_STOPPED ? sm_fail(c, SM_E_NOMEM, "out of memory") : st;
	}
	*data = g.buf ? g.buf : calloc(1, 1);
	*len = g.len;
	return SM_OK;
}

int sm_vm_stats(sm_client *c, const char *id, struct sm_vm_stats *out)
{
	json_t *j = NULL;
	if (!out)
		return SM_E_INVALID;
	memset(out, 0, sizeof *out);
	int st = vm_call(c, "GET", id, "/stats", &j);
	if (st == SM_OK) {
		out->cpu_seconds = json_number_value(json_object_get(j, "cpu_seconds"));
		out->memory_bytes = (int64_t)json_integer_value(json_object_get(j, "memory_bytes"));
		out->disk_bytes = (int64_t)json_integer_value(json_object_get(j, "disk_bytes"));
		out->disk_read_bytes =
			(int64_t)json_integer_value(json_object_get(j, "disk_read_bytes"));
		out->disk_write_bytes =
			(int64_t)json_integer_value(json_object_get(j, "disk_write_bytes"));
		out->json = json_dumps(j, JSON_COMPACT);
	}
	json_decref(j);
	return st;
}

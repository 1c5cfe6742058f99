/* snapshots.c - snapshots of running VMs: take, list, inspect, remove,
 * and fork (see supermachine.h; restoring a VM is sm_vm_restore in vms.c). */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

void sm_snapshot_free(struct sm_snapshot *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->vm);
	free(s->image);
	free(s->image_id);
	free(s->created);
	free(s->path);
	free(s->kind);
	free(s->json);
	memset(s, 0, sizeof *s);
}

void sm_snapshot_list_free(struct sm_snapshot *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		sm_snapshot_free(&list[i]);
	free(list);
}

static uint64_t juint(json_t *j, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(j, key));
	return v > 0 ? (uint64_t)v : 0;
}

static int snapshot_from_json(json_t *j, struct sm_snapshot *out)
{
	memset(out, 0, sizeof *out);
	if (!json_is_string(json_object_get(j, "name")))
		return -1;
	out->name = jdup(j, "name");
	out->vm = jdup(j, "vm");
	out->image = jdup(j, "image");
	out->image_id = jdup(j, "image_id");
	out->created = jdup(j, "created");
	out->path = jdup(j, "path");
	out->vcpus = (int)json_integer_value(json_object_get(j, "vcpus"));
	out->memory_mib = (unsigned)juint(j, "memory_mib");
	out->state_bytes = juint(j, "state_bytes");
	out->memory_bytes = juint(j, "memory_bytes");
	out->memory_disk_bytes = juint(j, "memory_disk_bytes");
	out->temporary = json_is_true(json_object_get(j, "temporary"));
	out->kind = jdup(j, "kind");
	out->json = json_dumps(j, JSON_COMPACT);
	if (!out->name || !out->json) {
		sm_snapshot_free(out);
		return -1;
	}
	return 0;
}

/* One snapshot from an answer j (decref'd here). */
static int take_snapshot(sm_client *c, int st, json_t *j, struct sm_snapshot *out)
{
	if (st == SM_OK && out && snapshot_from_json(j, out) < 0)
		st = sm_fail(c, SM_E_PROTOCOL, "a snapshot without a name");
	json_decref(j);
	return st;
}

/* POST a JSON body to /v1/vms/VM/ROUTE; the answer in *answer. */
static int vm_post(sm_client *c, const char *vm, const char *route, json_t *body,
		   json_t **answer)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	char *path = http_escape_path("/v1/vms/", vm, route);
	json_decref(body);
	int st;
	if (!text || !path) {
		st = sm_fail(c, SM_E_NOMEM, "out of memory");
	} else {
		struct http_call call = { .method = "POST", .path = path,
					  .content_type = "application/json", .body = text,
					  .body_len = strlen(text) };
		st = http_call(c, &call, answer);
	}
	free(text);
	free(path);
	return st;
}

int sm_vm_snapshot(sm_client *c, const char *vm, const char *name, struct sm_snapshot *out)
{
	if (!c || !vm || !*vm || strchr(vm, '/') || !name || !*name)
		return SM_E_INVALID;
	json_t *j = NULL;
	int st = vm_post(c, vm, "/snapshot", json_pack("{s:s}", "name", name), &j);
	return take_snapshot(c, st, j, out);
}

int sm_vm_fork(sm_client *c, const char *vm, int count, struct sm_vm **out, size_t *n)
{
	if (!c || !vm || !*vm || strchr(vm, '/') || count < 1 || !out || !n)
		return SM_E_INVALID;
	*out = NULL;
	*n = 0;
	json_t *j = NULL;
	int st = vm_post(c, vm, "/fork", json_pack("{s:i}", "count", count), &j);
	if (st != SM_OK)
		return st;
	json_t *arr = json_object_get(j, "vms");
	size_t cnt = json_array_size(arr);
	struct sm_vm *list = calloc(cnt ? cnt : 1, sizeof *list);
	for (size_t i = 0; list && i < cnt; i++)
		if (vm_from_json(json_array_get(arr, i), &list[i]) < 0) {
			sm_vm_list_free(list, i);
			json_decref(j);
			return sm_fail(c, SM_E_PROTOCOL, "a forked VM without an id");
		}
	json_decref(j);
	if (!list)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	*out = list;
	*n = cnt;
	return SM_OK;
}

int sm_snapshot_list(sm_client *c, struct sm_snapshot **out, size_t *n)
{
	json_t *j;
	if (!c || !out || !n)
		return SM_E_INVALID;
	*out = NULL;
	*n = 0;
	struct http_call call = { .method = "GET", .path = "/v1/snapshots" };
	int st = http_call(c, &call, &j);
	if (st != SM_OK)
		return st;
	json_t *arr = json_object_get(j, "snapshots");
	size_t cnt = json_array_size(arr);
	struct sm_snapshot *list = calloc(cnt ? cnt : 1, sizeof *list);
	for (size_t i = 0; list && i < cnt; i++)
		if (snapshot_from_json(json_array_get(arr, i), &list[i]) < 0) {
			sm_snapshot_list_free(list, i);
			json_decref(j);
			return sm_fail(c, SM_E_PROTOCOL, "a listed snapshot without a name");
		}
	json_decref(j);
	if (!list)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	*out = list;
	*n = cnt;
	return SM_OK;
}

/* METHOD /v1/snapshots/NAME. */
static int snapshot_call(sm_client *c, const char *method, const char *name, json_t **answer)
{
	if (!c || !name || !*name || strchr(name, '/'))
		return SM_E_INVALID;
	char *path = http_escape_path("/v1/snapshots/", name, "");
	if (!path)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	struct http_call call = { .method = method, .path = path };
	int st = http_call(c, &call, answer);
	free(path);
	return st;
}

int sm_snapshot_inspect(sm_client *c, const char *name, struct sm_snapshot *out)
{
	json_t *j = NULL;
	if (!out)
		return SM_E_INVALID;
	int st = snapshot_call(c, "GET", name, &j);
	return take_snapshot(c, st, j, out);
}

int sm_snapshot_remove(sm_client *c, const char *name)
{
	return snapshot_call(c, "DELETE", name, NULL);
}

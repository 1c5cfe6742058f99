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

static int snapshot_from_json(json_t *j, void *to)
{
	struct sm_snapshot *out = to;
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

static void snapshot_free_one(void *s)
{
	sm_snapshot_free(s);
}

static const struct json_kind snapshot_kind = { "snapshots", sizeof(struct sm_snapshot),
						snapshot_from_json, snapshot_free_one,
						"snapshot", "a name" };

void sm_snapshot_list_free(struct sm_snapshot *list, size_t n)
{
	free_list(&snapshot_kind, list, n);
}

/* POST a JSON body (NULL: out of memory) to /v1/vms/VM/ROUTE. */
static int vm_post(sm_client *c, const char *vm, const char *route, json_t *body,
		   json_t **answer)
{
	if (!body)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	return http_json(c, "POST", http_escape_path("/v1/vms/", vm, route), body, answer);
}

int sm_vm_snapshot(sm_client *c, const char *vm, const char *name, struct sm_snapshot *out)
{
	if (!c || !vm || !*vm || strchr(vm, '/') || !name || !*name)
		return SM_E_INVALID;
	json_t *j = NULL;
	int st = vm_post(c, vm, "/snapshot", json_pack("{s:s}", "name", name), &j);
	return take_one(c, st, j, &snapshot_kind, out);
}

int sm_vm_fork(sm_client *c, const char *vm, int count, struct sm_vm **out, size_t *n)
{
	if (!c || !vm || !*vm || strchr(vm, '/') || count < 1 || !out || !n)
		return SM_E_INVALID;
	json_t *j = NULL;
	void *list;
	int st = vm_post(c, vm, "/fork", json_pack("{s:i}", "count", count), &j);
	st = take_list(c, st, j, &vm_kind, "forked", &list, n);
	*out = list;
	return st;
}

int sm_snapshot_list(sm_client *c, struct sm_snapshot **out, size_t *n)
{
	void *list;
	if (!c || !out || !n)
		return SM_E_INVALID;
	int st = get_list(c, "/v1/snapshots", &snapshot_kind, &list, n);
	*out = list;
	return st;
}

/* METHOD /v1/snapshots/NAME. */
static int snapshot_call(sm_client *c, const char *method, const char *name, json_t **answer)
{
	if (!c || !name || !*name || strchr(name, '/'))
		return SM_E_INVALID;
	return http_json(c, method, http_escape_path("/v1/snapshots/", name, ""), NULL, answer);
}

int sm_snapshot_inspect(sm_client *c, const char *name, struct sm_snapshot *out)
{
	json_t *j = NULL;
	if (!out)
		return SM_E_INVALID;
	int st = snapshot_call(c, "GET", name, &j);
	return take_one(c, st, j, &snapshot_kind, out);
}

int sm_snapshot_remove(sm_client *c, const char *name)
{
	return snapshot_call(c, "DELETE", name, NULL);
}

/* volumes.c - named persistent disks (POST, GET, DELETE /v1/volumes[/{name}]);
 * see supermachine.h. */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

void sm_volume_free(struct sm_volume_info *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->path);
	free(v->used_by);
	free(v->json);
	memset(v, 0, sizeof *v);
}

static int volume_from_json(json_t *j, void *to)
{
	struct sm_volume_info *out = to;
	memset(out, 0, sizeof *out);
	if (!json_is_string(json_object_get(j, "name")))
		return -1;
	out->name = jdup(j, "name");
	out->path = jdup(j, "path");
	out->used_by = jdup(j, "used_by");
	out->size_mib = juint(j, "size_mib");
	out->used_bytes = juint(j, "used_bytes");
	out->created = (int64_t)juint(j, "created");
	out->json = json_dumps(j, JSON_COMPACT);
	if (!out->name || !out->json) {
		sm_volume_free(out);
		return -1;
	}
	return 0;
}

static void volume_free_one(void *v)
{
	sm_volume_free(v);
}

static const struct json_kind volume_kind = { "volumes", sizeof(struct sm_volume_info),
					      volume_from_json, volume_free_one, "volume",
					      "a name" };

void sm_volume_list_free(struct sm_volume_info *list, size_t n)
{
	free_list(&volume_kind, list, n);
}

int sm_volume_create(sm_client *c, const char *name, uint64_t size_mib,
		     struct sm_volume_info *out)
{
	if (!c || !name)
		return SM_E_INVALID;
	json_t *b = json_pack("{s:s}", "name", name);
	if (b && size_mib)
		json_object_set_new(b, "size_mib", json_integer((json_int_t)size_mib));
	if (!b)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	json_t *j = NULL;
	int st = http_json(c, "POST", strdup("/v1/volumes"), b, &j);
	return take_one(c, st, j, &volume_kind, out);
}

int sm_volume_inspect(sm_client *c, const char *name, struct sm_volume_info *out)
{
	json_t *j = NULL;
	if (!c || !name || !*name || !out)
		return SM_E_INVALID;
	int st = http_json(c, "GET", http_escape_path("/v1/volumes/", name, ""), NULL, &j);
	return take_one(c, st, j, &volume_kind, out);
}

int sm_volume_remove(sm_client *c, const char *name)
{
	if (!c || !name || !*name)
		return SM_E_INVALID;
	return http_json(c, "DELETE", http_escape_path("/v1/volumes/", name, ""), NULL, NULL);
}

int sm_volume_list(sm_client *c, struct sm_volume_info **out, size_t *n)
{
	void *list;
	if (!c || !out || !n)
		return SM_E_INVALID;
	int st = get_list(c, "/v1/volumes", &volume_kind, &list, n);
	*out = list;
	return st;
}

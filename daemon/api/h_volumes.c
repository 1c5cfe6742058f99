/* h_volumes.c - /v1/volumes: named persistent disks (daemon/store/volumes.h).
 *
 * POST creates one ({"name", "size_mib"}: 201, 409 when the name is
 * taken, 400 naming a bad name or size), GET lists them or shows one,
 * DELETE removes one (409 while a VM that is not gone yet uses it).
 */
#include <microhttpd.h>
#include <string.h>

#include "daemon/api/handlers.h"
#include "daemon/api/json_in.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"
#include "daemon/store/volumes.h"
#include "daemon/vms/vms.h"

#define ERRLEN 1024

static const char *const no_query[] = { NULL };

static json_t *volume_json(const struct sm_volume *v)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I}", "name", v->name, "path", v->path,
			 "size_mib", (json_int_t)v->size_mib, "used_bytes",
			 (json_int_t)v->used_bytes, "created", (json_int_t)v->created);
}

/* A store error as a reply: -2 is "no such" (404) or "taken" (409). */
static void reply_store_error(struct api_req *r, int rc, unsigned status_for_2,
			      const char *code_for_2, const char *err)
{
	if (rc == -2)
		reply_error(r, status_for_2, code_for_2, "%s", err);
	else if (strstr(err, "volume name"))
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_name", "%s", err);
	else
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store", "%s", err);
}

void h_volumes_create(struct api_req *r)
{
	static const struct jin_field fields[] = {
		{ "name", JIN_STRING, true }, { "size_mib", JIN_UINT, false }, { NULL },
	};
	char err[ERRLEN];
	json_t *b = json_in_body(r, fields);
	if (!b)
		return;
	const char *name = jin_str(b, "name");
	json_t *size = json_object_get(b, "size_mib");
	uint64_t mib = size ? (uint64_t)json_integer_value(size) : 0;
	struct sm_volume v;
	if (size && (mib < SM_VOLUME_MIN_MIB || mib > SM_VOLUME_MAX_MIB)) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field", "size_mib %llu is out of "
			    "range (%d to %u)", (unsigned long long)mib, SM_VOLUME_MIN_MIB,
			    SM_VOLUME_MAX_MIB);
	} else if (!sm_volume_name_valid(name, err, sizeof err)) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_name", "%s", err);
	} else {
		int rc = sm_store_volume_create(r->srv->cfg.store, name, mib, &v, err, sizeof err);
		if (rc < 0) {
			reply_store_error(r, rc, MHD_HTTP_CONFLICT, "conflict", err);
		} else {
			reply_json(r, MHD_HTTP_CREATED, volume_json(&v));
			sm_volume_clear(&v);
		}
	}
	json_decref(b);
}

void h_volumes_list(struct api_req *r)
{
	struct sm_volume *v;
	size_t n;
	char err[ERRLEN];
	if (query_check(r, no_query))
		return;
	if (sm_store_volume_list(r->srv->cfg.store, &v, &n, err, sizeof err) < 0) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "store", "%s", err);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, volume_json(&v[i]));
	sm_volume_list_free(v, n);
	reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "volumes", arr));
}

void h_volumes_inspect(struct api_req *r)
{
	struct sm_volume v;
	char err[ERRLEN];
	if (query_check(r, no_query))
		return;
	int rc = sm_store_volume_get(r->srv->cfg.store, r->params[0], &v, err, sizeof err);
	if (rc < 0) {
		reply_store_error(r, rc, MHD_HTTP_NOT_FOUND, "not_found", err);
		return;
	}
	json_t *j = volume_json(&v);
	char user[64];
	if (vms_volume_user(r->srv->vms, v.name, user, sizeof user))
		json_object_set_new(j, "used_by", json_string(user));
	sm_volume_clear(&v);
	reply_json(r, MHD_HTTP_OK, j);
}

void h_volumes_delete(struct api_req *r)
{
	char err[ERRLEN], user[64];
	if (query_check(r, no_query))
		return;
	if (!sm_volume_name_valid(r->params[0], err, sizeof err)) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_name", "%s", err);
		return;
	}
	if (vms_volume_user(r->srv->vms, r->params[0], user, sizeof user)) {
		reply_error(r, MHD_HTTP_CONFLICT, "in_use", "volume %s is in use by VM %s; remove "
			    "the VM first", r->params[0], user);
		return;
	}
	int rc = sm_store_volume_delete(r->srv->cfg.store, r->params[0], err, sizeof err);
	if (rc < 0)
		reply_store_error(r, rc, MHD_HTTP_NOT_FOUND, "not_found", err);
	else
		reply_json(r, MHD_HTTP_OK, json_pack("{s:s}", "deleted", r->params[0]));
}

/* vms_req_volumes.c - POST /v1/vms "volumes": named volumes for a new VM
 * (see vms_req.h; the volumes themselves: daemon/store/volumes.h, how a VM
 * holds and mounts them: daemon/vms/vms_volumes.c). */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/api/json_in.h"
#include "daemon/api/reply.h"
#include "daemon/api/vms_req.h"
#include "daemon/store/volumes.h"
#include "daemon/vms/vms.h"

void req_volumes_free(struct vm_volume *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free((char *)v[i].name);
		free((char *)v[i].disk);
		free((char *)v[i].guest_path);
	}
	free(v);
}

/* The path goes on the kernel command line as one word. */
static const char *path_problem(const char *p)
{
	const char *why = req_guest_path_problem(p);
	if (why)
		return why;
	if (strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+@") !=
	    strlen(p))
		return "may only have letters, digits and / . _ - + @";
	if (strlen(p) > 256)
		return "is longer than 256 bytes";
	return NULL;
}

/* One item's fields: 0, or -1 with msg. */
static int check_fields(json_t *item, char *msg, size_t len)
{
	const char *key;
	json_t *v;
	if (!json_is_object(item))
		return snprintf(msg, len, "expected an object {name, path, readonly}"), -1;
	json_object_foreach(item, key, v) {
		bool str = !strcmp(key, "name") || !strcmp(key, "path");
		if (!str && strcmp(key, "readonly"))
			return snprintf(msg, len, "unknown field \"%s\"", key), -1;
		if (str && !(json_is_string(v) && json_string_length(v) > 0 &&
			     strlen(json_string_value(v)) == json_string_length(v)))
			return snprintf(msg, len, "\"%s\" must be a non-empty string", key), -1;
		if (!str && !json_is_boolean(v))
			return snprintf(msg, len, "\"readonly\" must be a boolean"), -1;
	}
	if (!json_object_get(item, "name") || !json_object_get(item, "path"))
		return snprintf(msg, len, "missing \"%s\"",
				json_object_get(item, "name") ? "path" : "name"), -1;
	const char *name = jin_str(item, "name"), *why = path_problem(jin_str(item, "path"));
	if (why)
		return snprintf(msg, len, "path \"%s\" %s", jin_str(item, "path"), why), -1;
	char err[256];
	if (!sm_volume_name_valid(name, err, sizeof err))
		return snprintf(msg, len, "%s", err), -1;
	return 0;
}

static bool path_taken(const char *p, const struct vm_volume *v, size_t nv,
		       const struct vm_mount *m, size_t nm)
{
	for (size_t i = 0; i < nv; i++)
		if (!strcmp(v[i].guest_path, p))
			return true;
	for (size_t i = 0; i < nm; i++)
		if (!strcmp(m[i].guest_path, p))
			return true;
	return false;
}

/* Item i into v[i]: 0, or -1 after replying. */
static int take_item(struct api_req *r, json_t *item, size_t i, struct vm_volume *v,
		     const struct vm_mount *mounts, size_t n_mounts)
{
	char msg[1024];
	if (check_fields(item, msg, sizeof msg) < 0 ||
	    (path_taken(jin_str(item, "path"), v, i, mounts, n_mounts) &&
	     snprintf(msg, sizeof msg, "path \"%s\" is given twice", jin_str(item, "path")))) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field", "field \"volumes\"[%zu]: %s",
			    i, msg);
		return -1;
	}
	struct sm_volume vol;
	int rc = sm_store_volume_get(r->srv->cfg.store, jin_str(item, "name"), &vol, msg,
				     sizeof msg);
	if (rc < 0) {
		reply_error(r, rc == -2 ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
			    rc == -2 ? "not_found" : "store", "field \"volumes\"[%zu]: %s%s", i, msg,
			    rc == -2 ? " (create it with POST /v1/volumes)" : "");
		return -1;
	}
	v[i].name = strdup(vol.name);
	v[i].disk = vol.path;   /* taken over */
	v[i].guest_path = strdup(jin_str(item, "path"));
	v[i].readonly = jin_bool(item, "readonly");
	if (!v[i].name || !v[i].disk || !v[i].guest_path) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return -1;
	}
	return 0;
}

int req_volumes(struct api_req *r, json_t *arr, const struct vm_mount *mounts,
		size_t n_mounts, struct vm_volume **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t count = json_array_size(arr);
	if (!arr || count == 0)
		return 0;
	if (count > VM_MAX_VOLUMES) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"volumes\": at most %d volumes, not %zu", VM_MAX_VOLUMES, count);
		return -1;
	}
	struct vm_volume *v = calloc(count, sizeof *v);
	if (!v) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		if (take_item(r, json_array_get(arr, i), i, v, mounts, n_mounts) < 0) {
			req_volumes_free(v, count);
			return -1;
		}
	*out = v;
	*n = count;
	return 0;
}

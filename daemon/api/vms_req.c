/* vms_req.c - helpers of the VM handlers (see vms_req.h). */
#include "daemon/api/vms_req.h"

#include <errno.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/api/kvm_probe.h"
#include "daemon/api/json_in.h"
#include "daemon/api/reply.h"
#include "common/agent_client/agent_client.h"
#include "daemon/vms/vms.h"

#define PROBE_WAIT_MS 120000

struct vm_rec *req_vm(struct api_req *r)
{
	char err[256];
	struct vm_rec *vm = vms_get(r->srv->vms, r->params[0], err, sizeof err);
	if (!vm) {
		bool ambiguous = strstr(err, "ambiguous") != NULL;
		reply_error(r, ambiguous ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_NOT_FOUND,
			    ambiguous ? "ambiguous" : "not_found", "%s", err);
	}
	return vm;
}

int req_vm_running(struct api_req *r, struct vm_rec *vm)
{
	enum vm_state s = vm_state(vm);
	if (s == VM_RUNNING)
		return 0;
	reply_error(r, MHD_HTTP_CONFLICT, "vm_not_running", "VM %s is %s", vm_id(vm),
		    vm_state_name(s));
	return -1;
}

int req_kvm_usable(struct api_req *r)
{
	for (int waited = 0;; waited += 100) {
		json_t *st = kvm_probe_status(r->srv->probe);
		bool pending = json_is_true(json_object_get(st, "pending"));
		if (!pending || waited >= PROBE_WAIT_MS) {
			bool usable = json_is_true(json_object_get(st, "usable"));
			const char *why = json_string_value(json_object_get(st, "reason"));
			if (!usable)
				reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "kvm_unavailable",
					    "KVM cannot run guests here: %s",
					    why ? why : "the probe has not answered");
			json_decref(st);
			return usable ? 0 : -1;
		}
		json_decref(st);
		usleep(100 * 1000);
	}
}

int req_command_check(struct api_req *r, const struct vm_spec *spec, const char *source,
		      bool ep_given)
{
	if (vm_spec_has_command(spec))
		return 0;
	if (ep_given)
		reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "no_command",
			    "no command: the request clears the entrypoint of %s (\"entrypoint\" "
			    "empty) and gives no \"cmd\"", source);
	else
		reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "no_command",
			    "%s has neither an entrypoint nor a cmd, and the request gives no "
			    "\"cmd\"", source);
	return -1;
}

struct query_all {
	const char *name;
	const char **v;
	size_t n;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct query_all *q = cls;
	(void)kind;
	if (strcmp(key, q->name) || !value)
		return MHD_YES;
	const char **grown = realloc(q->v, (q->n + 2) * sizeof *grown);
	if (!grown)
		return MHD_NO;
	q->v = grown;
	q->v[q->n++] = value;
	q->v[q->n] = NULL;
	return MHD_YES;
}

const char **req_query_all(struct api_req *r, const char *name)
{
	struct query_all q = { .name = name };
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect, &q);
	return q.v;
}

size_t b64_encode_to(char *out, const void *p, size_t n)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

char *b64_encode(const void *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

int b64_decode(const char *s, unsigned char **out, size_t *n)
{
	size_t len = strlen(s);
	if (len % 4)
		return -1;
	unsigned char *buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return -1;
	int got = len ? EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len) : 0;
	if (got < 0) {
		free(buf);
		return -1;
	}
	size_t pad = (len && s[len - 1] == '=') + (len > 1 && s[len - 2] == '=');
	*out = buf;
	*n = (size_t)got - pad;
	return 0;
}

/* --- mounts -------------------------------------------------------------- */

void req_mounts_free(struct vm_mount *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++) {
		free((char *)m[i].host_path);
		free((char *)m[i].guest_path);
	}
	free(m);
}

const char *req_guest_path_problem(const char *p)
{
	if (p[0] != '/')
		return "must be absolute";
	if (!p[1])
		return "must not be / itself";
	if (strlen(p) >= PATH_MAX)
		return "is too long";
	for (const char *c = p + 1;;) {
		size_t len = strcspn(c, "/");
		if (len == 0)
			return "has an empty component (// or a trailing /)";
		if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return "must not have a . or .. component";
		if (!c[len])
			return NULL;
		c += len + 1;
	}
}

/* Whether the resolved path is one of the shared folders (resolved too)
 * or beneath one. */
static bool shared(const char *const *folders, const char *real)
{
	for (size_t i = 0; folders && folders[i]; i++) {
		char root[PATH_MAX];
		if (!realpath(folders[i], root))
			continue;
		size_t len = strlen(root);
		if (len == 1 || (!strncmp(real, root, len) && (!real[len] || real[len] == '/')))
			return true;
	}
	return false;
}

static void list_shared(const char *const *folders, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; folders && folders[i] && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", folders[i]);
		used += n > 0 ? (size_t)n : 0;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* One item: 0, or -1 with msg. */
static int check_mount(const char *const *folders, json_t *item, struct vm_mount *m,
		       char *msg, size_t len)
{
	const char *key;
	json_t *v;
	if (!json_is_object(item))
		return snprintf(msg, len, "expected an object {host_path, guest_path, readonly, "
				"watch}"), -1;
	json_object_foreach(item, key, v) {
		bool str = !strcmp(key, "host_path") || !strcmp(key, "guest_path");
		bool flag = !strcmp(key, "readonly") || !strcmp(key, "watch");
		if (!str && !flag)
			return snprintf(msg, len, "unknown field \"%s\"", key), -1;
		if (str && !(json_is_string(v) && json_string_length(v) > 0 &&
			     strlen(json_string_value(v)) == json_string_length(v)))
			return snprintf(msg, len, "\"%s\" must be a non-empty string", key), -1;
		if (flag && !json_is_boolean(v))
			return snprintf(msg, len, "\"%s\" must be a boolean", key), -1;
	}
	const char *host = jin_str(item, "host_path"), *guest = jin_str(item, "guest_path");
	if (!host || !guest)
		return snprintf(msg, len, "missing \"%s\"", host ? "guest_path" : "host_path"), -1;
	const char *why = req_guest_path_problem(guest);
	if (why)
		return snprintf(msg, len, "guest_path \"%s\" %s", guest, why), -1;
	if (host[0] != '/')
		return snprintf(msg, len, "host_path \"%s\" must be absolute", host), -1;
	char real[PATH_MAX];
	struct stat st;
	if (!realpath(host, real))
		return snprintf(msg, len, "host_path \"%s\": %s", host,
				errno == ENOENT ? "no such folder" : strerror(errno)), -1;
	if (!shared(folders, real)) {
		char list[1024];
		list_shared(folders, list, sizeof list);
		return snprintf(msg, len, "host_path \"%s\"%s%s%s is not inside a folder the daemon "
				"may share (its \"shared_folders\": %s)", host,
				strcmp(host, real) ? " (" : "", strcmp(host, real) ? real : "",
				strcmp(host, real) ? ")" : "", list), -1;
	}
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		return snprintf(msg, len, "host_path \"%s\" is not a folder", host), -1;
	json_t *ro = json_object_get(item, "readonly"), *w = json_object_get(item, "watch");
	m->readonly = json_is_true(ro);
	m->watch = w ? json_is_true(w) : true;
	m->host_path = strdup(real);
	m->guest_path = strdup(guest);
	if (!m->host_path || !m->guest_path)
		return snprintf(msg, len, "out of memory"), -1;
	return 0;
}

int req_mounts(struct api_req *r, json_t *arr, struct vm_mount **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t count = json_array_size(arr);
	if (!arr || count == 0)
		return 0;
	if (count > VM_MAX_MOUNTS) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"mounts\": at most %d mounts, not %zu", VM_MAX_MOUNTS, count);
		return -1;
	}
	struct vm_mount *m = calloc(count, sizeof *m);
	if (!m) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return -1;
	}
	char msg[PATH_MAX + 1200];
	for (size_t i = 0; i < count; i++) {
		int rc = check_mount(r->srv->cfg.shared_folders, json_array_get(arr, i), &m[i], msg,
				     sizeof msg);
		for (size_t j = 0; rc == 0 && j < i; j++)
			if (!strcmp(m[j].guest_path, m[i].guest_path)) {
				snprintf(msg, sizeof msg, "guest_path \"%s\" is given twice",
					 m[i].guest_path);
				rc = -1;
			}
		if (rc < 0) {
			reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
				    "field \"mounts\"[%zu]: %s", i, msg);
			req_mounts_free(m, count);
			return -1;
		}
	}
	*out = m;
	*n = count;
	return 0;
}

/* vms_rec.c - one VM's record: made from a create request (with a copy of
 * the image's settings), shown as JSON, rebuilt from a previous run's row,
 * and the merged settings exec uses. Its network settings are a struct
 * vm_net, copied whole (vm_net.h; JSON in vm_net_json.c). */

#include "daemon/vms/vms_int.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static char **strv_copy(char *const *src, size_t n)
{
	char **v = calloc(n + 1, sizeof *v);
	for (size_t i = 0; v && i < n; i++)
		if (!(v[i] = strdup(src[i]))) {
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return NULL;
		}
	return v;
}

size_t strv_len(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

char **strv_dup(const char *const *src)
{
	return strv_copy((char *const *)src, strv_len(src));
}

void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static struct sm_image_config *config_copy(const struct sm_image_config *c)
{
	struct sm_image_config *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->manifest_digest = strdup(c->manifest_digest);
	d->workdir = strdup(c->workdir ? c->workdir : "");
	d->user = strdup(c->user ? c->user : "");
	d->entrypoint = strv_copy(c->entrypoint, c->n_entrypoint);
	d->n_entrypoint = c->n_entrypoint;
	d->cmd = strv_copy(c->cmd, c->n_cmd);
	d->n_cmd = c->n_cmd;
	d->env = strv_copy(c->env, c->n_env);
	d->n_env = c->n_env;
	d->layers = strv_copy(c->layers, c->n_layers);
	d->n_layers = c->n_layers;
	if (!d->manifest_digest || !d->workdir || !d->user || !d->entrypoint || !d->cmd ||
	    !d->env || !d->layers) {
		sm_image_config_free(d);
		return NULL;
	}
	return d;
}

static int new_id(char *id)
{
	unsigned char b[VM_ID_LEN / 2];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return -1;
	for (size_t i = 0; i < sizeof b; i++)
		sprintf(id + 2 * i, "%02x", b[i]);
	return 0;
}

struct vm_rec *rec_new(struct vms *v, const struct vm_spec *spec, char *err, size_t errlen)
{
	struct vm_rec *r = calloc(1, sizeof *r);
	if (!r || new_id(r->id) < 0)
		goto oom;
	r->v = v;
	r->refs = 1;
	r->outcome = -1;
	r->vcpus = spec->vcpus;
	r->memory_mib = spec->memory_mib;
	r->storage_mib = spec->storage_mib;
	r->auto_remove = spec->auto_remove;
	r->kind = spec->kind;
	r->created = time(NULL);
	r->labels = spec->labels ? json_deep_copy(spec->labels) : json_object();
	r->image = strdup(spec->image);
	r->workdir = strdup(spec->workdir ? spec->workdir : "");
	r->user = strdup(spec->user ? spec->user : "");
	r->env = strv_copy((char *const *)spec->env, strv_len(spec->env));
	r->cfg = config_copy(spec->image_cfg);
	if ((spec->cmd && !(r->cmd = strv_dup(spec->cmd))) ||
	    (spec->entrypoint && !(r->entrypoint = strv_dup(spec->entrypoint))))
		goto oom;
	snprintf(r->hostname, sizeof r->hostname, "%.*s", spec->hostname ? 64 : 12,
		 spec->hostname ? spec->hostname : r->id);
	if (spec->from_snapshot && !(r->from_snapshot = strdup(spec->from_snapshot)))
		goto oom;
	if (spec->net)
		r->net = *spec->net;
	else
		r->net.egress.default_allow = true;   /* network none */
	for (size_t i = 0; i < spec->n_mounts && i < VM_MAX_MOUNTS; i++) {
		struct vm_mount *m = &r->mounts[r->n_mounts++];
		m->host_path = strdup(spec->mounts[i].host_path);
		m->guest_path = strdup(spec->mounts[i].guest_path);
		m->readonly = spec->mounts[i].readonly;
		m->watch = spec->mounts[i].watch;
		if (!m->host_path || !m->guest_path)
			goto oom;
	}
	if (volumes_copy(r, spec->volumes, spec->n_volumes) < 0)
		goto oom;
	if (!r->labels || !r->image || !r->workdir || !r->user || !r->env || !r->cfg ||
	    !(r->image_id = strdup(r->cfg->manifest_digest)))
		goto oom;
	return r;
oom:
	snprintf(err, errlen, "creating a VM record: out of memory or no randomness");
	if (r)
		rec_free(r);
	return NULL;
}

void rec_free(struct vm_rec *r)
{
	vm_watch_stop(r->watcher);   /* normally stopped at exit already */
	vm_link_down(r);             /* likewise */
	worker_free(r->w);
	json_decref(r->labels);
	strv_free(r->env);
	strv_free(r->cmd);
	strv_free(r->entrypoint);
	free(r->image);
	free(r->image_id);
	free(r->workdir);
	free(r->user);
	free(r->from_snapshot);
	free(r->restore_dir);
	for (size_t i = 0; i < r->n_mounts; i++) {
		free((char *)r->mounts[i].host_path);
		free((char *)r->mounts[i].guest_path);
	}
	volumes_free(r);
	if (r->cfg)
		sm_image_config_free(r->cfg);
	free(r->text);
	free(r);
}

int rec_paths(struct vm_rec *r, char *err, size_t errlen)
{
	int n = snprintf(r->dir, sizeof r->dir, "%s/vms/%s", r->v->data_dir, r->id);
	int m = snprintf(r->vsock, sizeof r->vsock, "%s/vsock.sock", r->dir);
	snprintf(r->console, sizeof r->console, "%s/console.log", r->dir);
	snprintf(r->boot_log_path, sizeof r->boot_log_path, "%s/boot.log", r->dir);
	snprintf(r->upper, sizeof r->upper, "%s/" UPPER_DISK_NAME, r->dir);
	if (n < 0 || (size_t)n >= sizeof r->dir || m < 0 || (size_t)m >= sizeof r->vsock) {
		snprintf(err, errlen, "VM socket path %s/vsock.sock is longer than a Unix socket "
			 "path may be (%zu bytes): use a shorter data dir", r->dir,
			 sizeof r->vsock - 1);
		return -1;
	}
	return 0;
}

json_t *time_to_json(time_t t)
{
	char buf[32];
	struct tm tm;
	if (!t)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

json_t *strv_to_json(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *rec_json_locked(struct vm_rec *r)
{
	json_t *j = json_pack("{s:s,s:s,s:s?,s:s,s:i,s:I,s:O,s:o,s:o,s:s,s:s,s:b,s:o,s:o,s:o}",
		"id", r->id, "image", r->image, "image_id", r->image_id,
		"state", vm_state_name(r->state), "vcpus", r->vcpus,
		"memory_mib", (json_int_t)r->memory_mib, "labels", r->labels,
		"env", strv_to_json(r->env), "cmd", r->cmd ? strv_to_json(r->cmd) : json_null(),
		"workdir", r->workdir, "user", r->user,
		"auto_remove", r->auto_remove, "created", time_to_json(r->created),
		"started", time_to_json(r->started), "exited", time_to_json(r->exited));
	if (!j)
		return NULL;
	json_object_set_new(j, "entrypoint", r->entrypoint ? strv_to_json(r->entrypoint)
							 : json_null());
	json_object_set_new(j, "storage_mib", json_integer(r->storage_mib));
	json_object_set_new(j, "from_snapshot", r->from_snapshot ? json_string(r->from_snapshot)
								 : json_null());
	json_object_set_new(j, "hostname", json_string(r->hostname));
	json_t *mounts = json_array();
	for (size_t i = 0; mounts && i < r->n_mounts; i++)
		json_array_append_new(mounts, json_pack("{s:s,s:s,s:b,s:b}",
			"host_path", r->mounts[i].host_path, "guest_path", r->mounts[i].guest_path,
			"readonly", r->mounts[i].readonly, "watch", r->mounts[i].watch));
	json_object_set_new(j, "mounts", mounts ? mounts : json_array());
	json_object_set_new(j, "volumes", volumes_json(r));
	vm_net_to_json(&r->net, j);
	char mac[18];
	vm_link_mac_text(r, mac);
	json_object_set_new(j, "mac", json_string(mac));
	json_object_set_new(j, "ip_address", r->addr4[0] ? json_string(r->addr4) : json_null());
	json_object_set_new(j, "network_status", r->net_status[0] ? json_string(r->net_status)
								   : json_null());
	if (r->pid > 0 && (r->state == VM_STARTING || r->state == VM_RUNNING ||
			   r->state == VM_STOPPING))
		json_object_set_new(j, "worker_pid", json_integer(r->pid));
	if (r->state == VM_EXITED || r->state == VM_GONE)
		json_object_set_new(j, "exit", json_pack("{s:i,s:s}", "outcome", r->outcome,
							 "reason", r->why));
	return j;
}

const char *rec_text_locked(struct vm_rec *r, size_t *len)
{
	if (!r->text) {
		json_t *j = rec_json_locked(r);
		r->text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		r->text_len = r->text ? strlen(r->text) : 0;
		json_decref(j);
	}
	*len = r->text_len;
	return r->text;
}

void rec_changed(struct vm_rec *r)
{
	free(r->text);
	r->text = NULL;
}

static char *jstr_dup(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return strdup(s ? s : "");
}

time_t time_from_json(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	struct tm tm = { 0 };
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return 0;
	return timegm(&tm);
}

/* A JSON array of strings (others count as "") as a NULL-terminated
 * copy; NULL when a is not an array, or with *oom set when memory ran out. */
static char **strv_from_json(json_t *a, bool *oom)
{
	if (!json_is_array(a))
		return NULL;
	size_t n = json_array_size(a), i;
	json_t *item;
	char **v = calloc(n + 1, sizeof *v);
	json_array_foreach(a, i, item) {
		const char *str = json_string_value(item);
		if (v && !(v[i] = strdup(str ? str : ""))) {
			strv_free(v);
			v = NULL;
		}
	}
	*oom |= !v;
	return v;
}

static void mounts_from_json(struct vm_rec *r, json_t *arr)
{
	size_t i;
	json_t *m;
	json_array_foreach(arr, i, m) {
		const char *h = json_string_value(json_object_get(m, "host_path"));
		const char *g = json_string_value(json_object_get(m, "guest_path"));
		char *hd = h ? strdup(h) : NULL, *gd = g ? strdup(g) : NULL;
		if (!hd || !gd || r->n_mounts == VM_MAX_MOUNTS) {
			free(hd);
			free(gd);
			continue;
		}
		r->mounts[r->n_mounts++] = (struct vm_mount){ hd, gd,
			json_is_true(json_object_get(m, "readonly")),
			json_is_true(json_object_get(m, "watch")) };
	}
}

/* A previous run's VM: listed and removable, never run again. */
struct vm_rec *rec_from_json(struct vms *v, json_t *j)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	struct vm_rec *r = calloc(1, sizeof *r);
	if (!r || !id || strlen(id) != VM_ID_LEN) {
		free(r);
		return NULL;
	}
	strcpy(r->id, id);
	r->v = v;
	r->refs = 1;
	r->outcome = -1;
	r->state = VM_GONE;
	r->image = jstr_dup(j, "image");
	r->image_id = jstr_dup(j, "image_id");
	r->workdir = jstr_dup(j, "workdir");
	r->user = jstr_dup(j, "user");
	const char *host = json_string_value(json_object_get(j, "hostname"));
	snprintf(r->hostname, sizeof r->hostname, "%.*s", host ? 64 : 12, host ? host : id);
	const char *snap = json_string_value(json_object_get(j, "from_snapshot"));
	r->from_snapshot = snap ? strdup(snap) : NULL;
	bool oom = false;
	r->env = strv_from_json(json_object_get(j, "env"), &oom);
	if (!r->env && !oom)
		r->env = calloc(1, sizeof(char *));
	r->cmd = strv_from_json(json_object_get(j, "cmd"), &oom);
	r->entrypoint = strv_from_json(json_object_get(j, "entrypoint"), &oom);
	mounts_from_json(r, json_object_get(j, "mounts"));
	volumes_from_json(r, json_object_get(j, "volumes"));
	vm_net_from_json(j, &r->net);
	json_t *labels = json_object_get(j, "labels");
	r->labels = json_is_object(labels) ? json_deep_copy(labels) : json_object();
	r->vcpus = (int)json_integer_value(json_object_get(j, "vcpus"));
	r->memory_mib = (unsigned)json_integer_value(json_object_get(j, "memory_mib"));
	r->storage_mib = (unsigned)json_integer_value(json_object_get(j, "storage_mib"));
	r->created = time_from_json(j, "created");
	r->started = time_from_json(j, "started");
	r->exited = time_from_json(j, "exited");
	snprintf(r->why, sizeof r->why, "its daemon stopped or died");
	char err[256];
	if (oom || !r->image || !r->image_id || !r->workdir || !r->user || !r->env || !r->labels ||
	    (snap && !r->from_snapshot) || rec_paths(r, err, sizeof err) < 0) {
		rec_free(r);
		return NULL;
	}
	return r;
}

static void rmtree_at(int dirfd)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;
	if (!d) {
		close(dirfd);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dirfd, e->d_name, 0) == 0)
			continue;
		int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			rmtree_at(sub);
		unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

void rmtree(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	rmtree_at(fd);
	rmdir(dir);
}

/* --- accessors for exec ------------------------------------------------ */

const struct sm_image_config *vm_image_config(const struct vm_rec *r) { return r->cfg; }
const char *vm_id(const struct vm_rec *r) { return r->id; }
const char *vm_vsock_path(const struct vm_rec *r) { return r->vsock; }
const char *vm_console_path(const struct vm_rec *r) { return r->console; }

const char *vm_boot_log_path(const struct vm_rec *r)
{
	pthread_mutex_lock(&r->v->mu);
	bool has = r->boot_log;
	pthread_mutex_unlock(&r->v->mu);
	return has ? r->boot_log_path : NULL;
}

const char *vm_hostname(const struct vm_rec *r) { return r->hostname; }
const struct vm_net *vm_net_settings(const struct vm_rec *r) { return &r->net; }

const char *vm_workdir(const struct vm_rec *r)
{
	return r->workdir[0] || !r->cfg ? r->workdir : r->cfg->workdir;
}

const char *vm_user(const struct vm_rec *r)
{
	return r->user[0] || !r->cfg ? r->user : r->cfg->user;
}

/* Adds kv, replacing an entry with the same key. */
static void env_put(const char **env, size_t *n, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (size_t i = 0; i < *n; i++)
		if (!strncmp(env[i], kv, klen) && env[i][klen] == '=') {
			env[i] = kv;
			return;
		}
	env[(*n)++] = kv;
}

const char **vm_env(const struct vm_rec *r)
{
	size_t ni = r->cfg ? r->cfg->n_env : 0, no = strv_len((const char *const *)r->env), n = 0;
	const char **env = calloc(ni + no + 1, sizeof *env);
	if (!env)
		return NULL;
	for (size_t i = 0; i < ni; i++)
		env_put(env, &n, r->cfg->env[i]);
	for (size_t i = 0; i < no; i++)
		env_put(env, &n, r->env[i]);
	return env;
}

/* vms.c - the VM registry: create, look up, stop, remove, and what happens
 * when a worker exits (see vms.h). One mutex guards the list and the
 * state of every record; slow work (booting, baking, waiting for a worker)
 * runs without it. Hidden VMs (a bake's, a pool's ready ones) are in the
 * same list; every lookup for the API passes them over. */

#include "daemon/vms/vms_int.h"
#include "common/agent_client/agent_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define STOP_CLEAN_MS 10000   /* guest powers off after the agent's SHUTDOWN */
#define STOP_HARD_MS 5000     /* VMM stops after STOP */
#define ADOPT_SYNC_MS 10000   /* a pool VM takes the hostname it is given */

const char *vm_state_name(enum vm_state s)
{
	static const char *const names[] = { "starting", "running", "stopping", "exited", "gone" };
	return (unsigned)s <= VM_GONE ? names[s] : "unknown";
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*oom = true;
	return d;
}

int vms_open(const struct vms_config *cfg, struct vms **out, char *err, size_t errlen)
{
	bool oom = false;
	struct vms *v = calloc(1, sizeof *v);
	if (!v)
		return snprintf(err, errlen, "out of memory"), -1;
	v->cfg = *cfg;
	v->data_dir = dup_or_null(cfg->data_dir, &oom);
	v->vmm_path = dup_or_null(cfg->vmm_path, &oom);
	v->kernel = dup_or_null(cfg->kernel, &oom);
	v->initrd = dup_or_null(cfg->initrd, &oom);
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->bake_cv, NULL);
	if (oom) {
		snprintf(err, errlen, "out of memory");
		vms_close(v);
		return -1;
	}
	int n = snprintf(v->templates_dir, sizeof v->templates_dir, "%s/upper-templates",
			 v->data_dir ? v->data_dir : "");
	if (n < 0 || (size_t)n >= sizeof v->templates_dir) {
		snprintf(err, errlen, "%s/upper-templates: path too long", v->data_dir);
		vms_close(v);
		return -1;
	}
	if (bake_digests(v, err, errlen) < 0 || db_open(v, err, errlen) < 0 ||
	    db_load_previous(v, err, errlen) < 0 || snaps_open(v, err, errlen) < 0) {
		vms_close(v);
		return -1;
	}
	*out = v;
	return 0;
}

/* Every VM, hidden ones too (references). */
static size_t list_all(struct vms *v, struct vm_rec ***out)
{
	pthread_mutex_lock(&v->mu);
	struct vm_rec **list = calloc(v->n + 1, sizeof *list);
	size_t n = list ? v->n : 0;
	for (size_t i = 0; i < n; i++) {
		list[i] = v->recs[i];
		list[i]->refs++;
	}
	pthread_mutex_unlock(&v->mu);
	*out = list;
	return n;
}

void vms_kill_all(struct vms *v)
{
	struct vm_rec **list;
	pthread_mutex_lock(&v->mu);
	v->closing = true;   /* boot_start kills what starts from now on */
	pthread_mutex_unlock(&v->mu);
	size_t n = list_all(v, &list);
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&v->mu);
		struct worker *w = list[i]->w;
		pthread_mutex_unlock(&v->mu);
		if (w) {
			worker_kill(w);
			worker_wait(w, STOP_HARD_MS);
		}
	}
	vms_list_free(list, n);
}

void vms_close(struct vms *v)
{
	vms_kill_all(v);
	pthread_mutex_lock(&v->mu);
	struct vm_rec **recs = v->recs;
	size_t n;
	n = v->n;
	v->recs = NULL;
	v->n = 0;
	pthread_mutex_unlock(&v->mu);
	for (size_t i = 0; i < n; i++)
		vm_put(recs[i]);   /* joins worker threads: not under the lock */
	free(recs);
	snaps_free(v);
	if (v->db)
		sqlite3_close(v->db);
	pthread_cond_destroy(&v->bake_cv);
	pthread_mutex_destroy(&v->mu);
	free(v->data_dir);
	free(v->vmm_path);
	free(v->kernel);
	free(v->initrd);
	free(v);
}

struct vm_rec *vm_ref(struct vm_rec *r)
{
	pthread_mutex_lock(&r->v->mu);
	r->refs++;
	pthread_mutex_unlock(&r->v->mu);
	return r;
}

void vm_put(struct vm_rec *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->v->mu);
	bool last = --r->refs == 0;
	pthread_mutex_unlock(&r->v->mu);
	if (last)
		rec_free(r);
}

void vms_publish(struct vms *v, struct vm_rec *r, const char *type)
{
	pthread_mutex_lock(&v->mu);
	json_t *j = r->kind == VM_KIND_USER ? rec_json_locked(r) : NULL;  /* hidden: quiet */
	pthread_mutex_unlock(&v->mu);
	if (v->cfg.on_event && j)
		v->cfg.on_event(v->cfg.ud, type, json_pack("{s:o}", "vm", j));
	else
		json_decref(j);
}

/* Takes r out of the list (under mu); true if it was there. */
static bool unlink_locked(struct vms *v, struct vm_rec *r)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->recs[i] == r) {
			memmove(&v->recs[i], &v->recs[i + 1], (v->n - i - 1) * sizeof *v->recs);
			v->n--;
			r->removed = true;
			db_delete(v, r->id);
			return true;
		}
	return false;
}

static void remove_files_and_publish(struct vms *v, struct vm_rec *r)
{
	rmtree(r->dir);
	vms_publish(v, r, "vm.removed");
	if (r->from_snapshot)
		snap_maybe_drop(v, r->from_snapshot);   /* a fork's, with its last VM */
}

/* The worker thread, once the process is reaped. */
void vms_on_exit(struct vm_rec *r, const struct worker_exit *ex)
{
	struct vms *v = r->v;
	pthread_mutex_lock(&v->mu);
	struct vm_watcher *vw = r->watcher;
	r->watcher = NULL;
	r->state = VM_EXITED;
	r->exited = time(NULL);
	r->outcome = ex->outcome;
	snprintf(r->why, sizeof r->why, "%s", ex->why);
	rec_changed(r);
	bool drop = false;
	if (!r->removed) {
		db_save(v, r);
		drop = r->auto_remove && unlink_locked(v, r);
	}
	pthread_mutex_unlock(&v->mu);
	vm_watch_stop(vw);
	vm_link_down(r);
	vms_publish(v, r, "vm.exited");
	if (drop) {
		remove_files_and_publish(v, r);
		vm_put(r);   /* the list's reference */
	}
	vm_put(r);       /* the worker's reference */
}

/* A restore holds its snapshot (which cannot be removed meanwhile) until
 * the VM runs or has failed to. 0, or -1 with err. */
static int restore_begin(struct vms *v, struct vm_rec *r, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	pthread_mutex_lock(&v->mu);
	int rc = snap_restore_begin_locked(v, r->from_snapshot, dir, sizeof dir);
	pthread_mutex_unlock(&v->mu);
	if (rc < 0) {
		snprintf(err, errlen, "no such snapshot: %s", r->from_snapshot);
		return -1;
	}
	if (!(r->restore_dir = strdup(dir))) {
		vms_snapshot_release(v, r->from_snapshot);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Adds the new record to the list and makes its directory. */
static int register_rec(struct vms *v, struct vm_rec *r, char *err, size_t errlen)
{
	if (rec_paths(r, err, errlen) < 0)
		return -1;
	pthread_mutex_lock(&v->mu);
	bool closing = v->closing;
	pthread_mutex_unlock(&v->mu);
	if (closing) {
		snprintf(err, errlen, "the daemon is stopping");
		return -1;
	}
	if (mkdir(r->dir, 0750) < 0) {
		snprintf(err, errlen, "mkdir %s: %s", r->dir, strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&v->mu);
	r->state = VM_STARTING;
	int rc = volumes_check_locked(v, r, err, errlen) < 0 ? -2
		 : ports_check_locked(v, &r->net, r, err, errlen) < 0 ? -3 : 0;
	if (rc == 0 && (rc = vms_add_rec(v, r)) < 0)
		snprintf(err, errlen, "out of memory");
	if (rc == 0) {
		r->refs++;   /* the list's; the caller keeps the first */
		db_save(v, r);
	}
	pthread_mutex_unlock(&v->mu);
	if (rc < 0)
		rmtree(r->dir);
	return rc;
}

/* The watcher of the VM's watched mounts. One that cannot start (e.g. the
 * user's inotify limits) leaves the guest with the FUSE timeouts: said in
 * the log, not a failed start. */
static void start_watcher(struct vms *v, struct vm_rec *r)
{
	struct vm_watcher *vw;
	char err[512] = "";
	if (!r->n_mounts)
		return;
	if (vm_watch_start(r, &vw, err, sizeof err) < 0) {
		fprintf(stderr, "supermachined: VM %s: shared folders are not watched: %s\n",
			r->id, err);
		return;
	}
	pthread_mutex_lock(&v->mu);
	bool gone = r->state == VM_EXITED;   /* else vms_on_exit stops it */
	if (!gone)
		r->watcher = vw;
	pthread_mutex_unlock(&v->mu);
	if (gone)
		vm_watch_stop(vw);
}

/* Boots (or restores) a registered VM until its agent answers. */
static int start(struct vms *v, struct vm_rec *r, char *err, size_t errlen)
{
	if (upper_prepare(v, r, err, errlen) < 0 || boot_start(v, r, err, errlen) < 0) {
		pthread_mutex_lock(&v->mu);
		r->state = VM_EXITED;
		r->exited = time(NULL);
		snprintf(r->why, sizeof r->why, "%s", err);
		db_save(v, r);
		pthread_mutex_unlock(&v->mu);
		return -1;
	}
	if (boot_wait_agent(v, r, err, errlen) < 0) {
		pthread_mutex_lock(&v->mu);
		struct worker *w = r->w;
		pthread_mutex_unlock(&v->mu);
		worker_kill(w);
		worker_wait(w, STOP_HARD_MS);
		return -1;
	}
	start_watcher(v, r);
	pthread_mutex_lock(&v->mu);
	if (r->state == VM_STARTING) {
		r->state = VM_RUNNING;
		r->started = time(NULL);
		db_save(v, r);
	}
	pthread_mutex_unlock(&v->mu);
	return 0;
}

/* A VM restored from a bake shows the bake's boot before its own
 * console: boot.log, a hard link to (or else a copy of) the bake's
 * console.log, which is read-only and never changes. Best effort. */
static void link_boot_log(struct vm_rec *r, const char *bake_dir)
{
	char src[PATH_MAX + 16];
	snprintf(src, sizeof src, "%s/console.log", bake_dir);
	if (link(src, r->boot_log_path) < 0) {
		int in = open(src, O_RDONLY | O_CLOEXEC), out = -1;
		if (in >= 0)
			out = open(r->boot_log_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		char buf[16384];
		ssize_t n;
		while (out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
			if (write(out, buf, (size_t)n) != n)
				break;
		if (in >= 0)
			close(in);
		if (out < 0)
			return;
		close(out);
	}
	pthread_mutex_lock(&r->v->mu);
	r->boot_log = true;
	pthread_mutex_unlock(&r->v->mu);
}

int vms_create(struct vms *v, const struct vm_spec *spec, struct vm_rec **out,
	       char *id_out, size_t idlen, char *err, size_t errlen)
{
	struct vm_spec s = *spec;
	char bake[SNAP_NAME_MAX + 1], bake_dir[PATH_MAX];
	if (s.n_mounts > VM_MAX_MOUNTS || (s.n_mounts && s.kind != VM_KIND_USER)) {
		snprintf(err, errlen, s.n_mounts > VM_MAX_MOUNTS ? "at most %d mounts" :
			 "only a user's VM has mounts (a pool's gets them when handed out)",
			 VM_MAX_MOUNTS);
		return -1;
	}
	if (s.n_volumes > VM_MAX_VOLUMES || (s.n_volumes && s.kind != VM_KIND_USER) ||
	    (s.n_volumes && s.from_snapshot)) {
		snprintf(err, errlen, s.n_volumes > VM_MAX_VOLUMES ? "at most %d volumes" :
			 "a VM with volumes boots cold: it cannot be restored from a snapshot",
			 VM_MAX_VOLUMES);
		return -1;
	}
	/* Mounts too: the bake's idle virtio-fs slots take the folders; not
	 * volumes: a bake has no disk for them. */
	bool baked = !s.from_snapshot && s.kind != VM_KIND_BAKE && v->cfg.bake && !s.n_volumes;
	if (baked) {
		if (bake_acquire(v, &s, bake, bake_dir, sizeof bake_dir, err, errlen) < 0)
			return -1;
		s.from_snapshot = bake;   /* held as restore_begin holds it */
	}
	struct vm_rec *r = rec_new(v, &s, err, errlen);
	if (r && baked && !(r->restore_dir = strdup(bake_dir))) {
		snprintf(err, errlen, "out of memory");
		rec_free(r);
		r = NULL;
	}
	if (!r) {
		if (baked)
			vms_snapshot_release(v, bake);
		return -1;
	}
	if (!baked && r->from_snapshot && restore_begin(v, r, err, errlen) < 0) {
		rec_free(r);
		return -1;
	}
	r->fs_slots = r->from_snapshot ? snap_fs_slots(v, r->from_snapshot) : VM_MAX_MOUNTS;
	/* A restored VM's layer is its snapshot's (bakes are made per size). */
	r->storage_mib = r->from_snapshot ? snap_storage_mib(v, r->from_snapshot)
					  : vms_storage_mib(v, &s);
	if (!baked && r->from_snapshot && s.storage_mib && s.storage_mib != r->storage_mib) {
		snprintf(err, errlen, "snapshot %s has a writable layer of %u MiB; its VMs cannot "
			 "have %u MiB", r->from_snapshot, r->storage_mib, s.storage_mib);
		vms_snapshot_release(v, r->from_snapshot);
		rec_free(r);
		return -1;
	}
	int reg = register_rec(v, r, err, errlen);   /* -2: a volume is held; -3 a port */
	if (reg < 0) {
		if (r->from_snapshot)
			vms_snapshot_release(v, r->from_snapshot);
		rec_free(r);
		return reg;
	}
	snprintf(id_out, idlen, "%s", r->id);
	if (baked)
		link_boot_log(r, bake_dir);
	vms_publish(v, r, "vm.created");
	int rc = start(v, r, err, errlen);
	if (r->from_snapshot)   /* the VM has its pages mapped now (or failed) */
		vms_snapshot_release(v, r->from_snapshot);
	if (rc < 0) {
		if (r->kind == VM_KIND_POOL)
			vms_discard(v, r);   /* nobody could see or remove it */
		vm_put(r);
		return -1;
	}
	vms_publish(v, r, "vm.started");
	*out = r;
	return 0;
}

/* A ready pool VM takes spec's mounts (under mu: copies); 0, or -1 with
 * err when it is no longer a ready pool VM. */
static int adopt_mounts(struct vms *v, struct vm_rec *r, const struct vm_spec *spec,
			char *err, size_t errlen)
{
	pthread_mutex_lock(&v->mu);
	if (r->kind != VM_KIND_POOL || r->state != VM_RUNNING || r->removed || r->n_mounts) {
		snprintf(err, errlen, "VM %s is no longer a ready pool VM (%s)", r->id,
			 vm_state_name(r->state));
		pthread_mutex_unlock(&v->mu);
		return -1;
	}
	for (size_t i = 0; i < spec->n_mounts && i < VM_MAX_MOUNTS; i++) {
		struct vm_mount *m = &r->mounts[r->n_mounts++];
		*m = spec->mounts[i];
		m->host_path = strdup(m->host_path);
		m->guest_path = strdup(m->guest_path);
		if (!m->host_path || !m->guest_path)
			snprintf(err, errlen, "out of memory");
	}
	rec_changed(r);
	pthread_mutex_unlock(&v->mu);
	return 0;
}

/* A pool VM given a hostname of its own: the agent sets it (SYNC, with
 * its /etc files) before the VM is handed over. 0, or -1 with err. */
static int adopt_hostname(struct vm_rec *r, const char *hostname, char *err, size_t errlen)
{
	char cerr[512];
	struct agent_client *c = agent_client_connect(r->vsock, SM_AGENT_PORT, ADOPT_SYNC_MS,
						      cerr, sizeof cerr);
	int rc = c ? agent_client_sync(c, hostname, ADOPT_SYNC_MS) : -1;
	if (rc < 0)
		snprintf(err, errlen, "pool VM %s did not take its hostname %s: %s", r->id,
			 hostname, c ? agent_client_error(c) : cerr);
	agent_client_close(c);
	if (rc == 0) {
		pthread_mutex_lock(&r->v->mu);
		snprintf(r->hostname, sizeof r->hostname, "%s", hostname);
		rec_changed(r);
		pthread_mutex_unlock(&r->v->mu);
	}
	return rc;
}

/* What a pool VM takes from the spec it is handed over by (vms_adopt). */
struct adopted {
	char *image, *workdir, *user;
	char **env, **cmd, **entrypoint;
	json_t *labels;
};

static void adopted_free(struct adopted *a)
{
	free(a->image);
	free(a->workdir);
	free(a->user);
	strv_free(a->env);
	strv_free(a->cmd);
	strv_free(a->entrypoint);
	json_decref(a->labels);
}

/* Copies of spec's settings; 0, or -1 out of memory. */
static int adopted_from_spec(struct adopted *a, const struct vm_spec *spec)
{
	*a = (struct adopted){
		.image = strdup(spec->image),
		.workdir = strdup(spec->workdir ? spec->workdir : ""),
		.user = strdup(spec->user ? spec->user : ""),
		.env = strv_dup(spec->env),
		.cmd = spec->cmd ? strv_dup(spec->cmd) : NULL,
		.entrypoint = spec->entrypoint ? strv_dup(spec->entrypoint) : NULL,
		.labels = spec->labels ? json_deep_copy(spec->labels) : json_object(),
	};
	return a->image && a->workdir && a->user && a->env && (!spec->cmd || a->cmd) &&
	       (!spec->entrypoint || a->entrypoint) && a->labels ? 0 : -1;
}

/* Swaps a's settings into r (under mu); a then holds r's old ones. */
static void adopted_swap_locked(struct adopted *a, struct vm_rec *r)
{
	struct adopted old = { r->image, r->workdir, r->user, r->env, r->cmd, r->entrypoint,
			       r->labels };
	r->image = a->image;
	r->workdir = a->workdir;
	r->user = a->user;
	r->env = a->env;
	r->cmd = a->cmd;
	r->entrypoint = a->entrypoint;
	r->labels = a->labels;
	*a = old;
}

int vms_adopt(struct vms *v, struct vm_rec *r, const struct vm_spec *spec, char *err,
	      size_t errlen)
{
	err[0] = 0;
	if (adopt_mounts(v, r, spec, err, errlen) < 0)
		return -1;
	if (err[0] || mounts_attach(r, NULL, err, errlen) < 0) {
		fprintf(stderr, "supermachined: pool VM %s: %s\n", r->id, err);
		return -2;
	}
	if (spec->hostname && adopt_hostname(r, spec->hostname, err, errlen) < 0)
		return -2;
	if (spec->net) {   /* its ports, checked again with the VM listed */
		pthread_mutex_lock(&v->mu);
		int rc = ports_check_locked(v, spec->net, r, err, errlen);
		if (rc == 0)
			r->net = *spec->net;
		pthread_mutex_unlock(&v->mu);
		if (rc < 0)
			return -3;
	}
	if (vm_link_up(v, r, NULL, err, errlen) < 0) {
		fprintf(stderr, "supermachined: pool VM %s: %s\n", r->id, err);
		return -2;
	}
	struct adopted a;
	int rc = -1;
	if (adopted_from_spec(&a, spec) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	pthread_mutex_lock(&v->mu);
	if (r->kind != VM_KIND_POOL || r->state != VM_RUNNING || r->removed) {
		snprintf(err, errlen, "VM %s is no longer a ready pool VM (%s)", r->id,
			 vm_state_name(r->state));
		pthread_mutex_unlock(&v->mu);
		goto out;
	}
	adopted_swap_locked(&a, r);   /* the old values are freed below */
	r->auto_remove = spec->auto_remove;
	r->kind = VM_KIND_USER;
	r->created = r->started = time(NULL);
	db_save(v, r);
	pthread_mutex_unlock(&v->mu);
	rc = 0;
out:
	adopted_free(&a);
	if (rc == 0) {
		start_watcher(v, r);
		vms_publish(v, r, "vm.created");
		vms_publish(v, r, "vm.started");
	}
	return rc;
}

void vms_discard(struct vms *v, struct vm_rec *r)
{
	pthread_mutex_lock(&v->mu);
	struct worker *w = r->w;
	pthread_mutex_unlock(&v->mu);
	if (w) {
		worker_kill(w);
		worker_wait(w, STOP_HARD_MS);
	}
	pthread_mutex_lock(&v->mu);
	bool was = unlink_locked(v, r);
	pthread_mutex_unlock(&v->mu);
	if (was) {
		remove_files_and_publish(v, r);
		vm_put(r);   /* the list's reference */
	}
}

struct vm_rec *rec_find_locked(struct vms *v, const char *id)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->recs[i]->id, id))
			return v->recs[i];
	return NULL;
}

struct vm_rec *vms_get(struct vms *v, const char *id, char *err, size_t errlen)
{
	struct vm_rec *found = NULL;
	size_t len = strlen(id), hits = 0;
	snprintf(err, errlen, "no such VM: %s", id);
	if (len < 4 || len > VM_ID_LEN)
		return NULL;
	pthread_mutex_lock(&v->mu);
	for (size_t i = 0; i < v->n; i++)
		if (v->recs[i]->kind == VM_KIND_USER && !strncmp(v->recs[i]->id, id, len)) {
			found = v->recs[i];
			hits++;
		}
	if (hits == 1)
		found->refs++;
	pthread_mutex_unlock(&v->mu);
	if (hits > 1) {
		snprintf(err, errlen, "VM id prefix %s is ambiguous", id);
		return NULL;
	}
	return hits == 1 ? found : NULL;
}

size_t vms_list(struct vms *v, struct vm_rec ***out)
{
	pthread_mutex_lock(&v->mu);
	struct vm_rec **list = calloc(v->n + 1, sizeof *list);
	size_t n = 0;
	for (size_t i = 0; list && i < v->n; i++)
		if (v->recs[i]->kind == VM_KIND_USER) {
			list[n] = v->recs[i];
			list[n++]->refs++;
		}
	pthread_mutex_unlock(&v->mu);
	*out = list;
	return n;
}

void vms_list_free(struct vm_rec **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vm_put(list[i]);
	free(list);
}

json_t *vm_json(struct vm_rec *r)
{
	pthread_mutex_lock(&r->v->mu);
	json_t *j = rec_json_locked(r);
	pthread_mutex_unlock(&r->v->mu);
	return j;
}

char *vm_json_text(struct vm_rec *r, size_t *len)
{
	pthread_mutex_lock(&r->v->mu);
	const char *t = rec_text_locked(r, len);
	char *copy = t ? malloc(*len + 1) : NULL;
	if (copy)
		memcpy(copy, t, *len + 1);
	pthread_mutex_unlock(&r->v->mu);
	return copy;
}

enum vm_state vm_state(struct vm_rec *r)
{
	pthread_mutex_lock(&r->v->mu);
	enum vm_state s = r->state;
	pthread_mutex_unlock(&r->v->mu);
	return s;
}

bool vm_has_label(struct vm_rec *r, const char *key, const char *value)
{
	pthread_mutex_lock(&r->v->mu);
	const char *got = json_string_value(json_object_get(r->labels, key));
	bool yes = got && (!value || !strcmp(got, value));
	pthread_mutex_unlock(&r->v->mu);
	return yes;
}

int vm_worker_pid(struct vm_rec *r)
{
	pthread_mutex_lock(&r->v->mu);
	int pid = r->pid;
	pthread_mutex_unlock(&r->v->mu);
	return pid;
}

/* The clean way: the agent powers the guest off. */
static bool stop_through_agent(struct vm_rec *r)
{
	char err[256];
	struct agent_client *c = agent_client_connect(r->vsock, SM_AGENT_PORT, 2000, err,
						      sizeof err);
	if (!c)
		return false;
	int rc = agent_client_shutdown(c, SM_SHUTDOWN_POWEROFF, 5000);
	agent_client_close(c);
	return rc == 0 && worker_wait(r->w, STOP_CLEAN_MS);
}

/* clean: the guest powers off through its agent first; otherwise the VMM
 * is told to stop at once (its guest and writable layer are going away). */
static int stop_vm(struct vms *v, struct vm_rec *r, bool clean, char *err, size_t errlen)
{
	pthread_mutex_lock(&v->mu);
	struct worker *w = r->w;
	bool live = r->state == VM_RUNNING || r->state == VM_STARTING;
	bool running = r->state == VM_RUNNING;
	if (live) {
		r->state = VM_STOPPING;
		rec_changed(r);
	}
	pthread_mutex_unlock(&v->mu);
	if (!w || !live)
		return 0;   /* already stopped (or stopping elsewhere) */
	if (clean && running && stop_through_agent(r))
		return 0;
	if (worker_stop(w) == 0 && worker_wait(w, STOP_HARD_MS))
		return 0;
	worker_kill(w);
	if (!worker_wait(w, STOP_HARD_MS)) {
		snprintf(err, errlen, "worker %d of VM %s did not exit after SIGKILL",
			 worker_pid(w), r->id);
		return -1;
	}
	return 0;
}

int vms_stop(struct vms *v, struct vm_rec *r, char *err, size_t errlen)
{
	return stop_vm(v, r, true, err, errlen);
}

int vms_remove(struct vms *v, struct vm_rec *r, bool force, char *err, size_t errlen)
{
	enum vm_state s = vm_state(r);
	if (s != VM_EXITED && s != VM_GONE) {
		if (!force) {
			snprintf(err, errlen, "VM %s is %s: stop it first or force", r->id,
				 vm_state_name(s));
			errno = EBUSY;
			return -1;
		}
		/* A VM with volumes powers off cleanly even so: its guest
		 * writes back what it cached for them. */
		if (stop_vm(v, r, r->n_volumes > 0, err, errlen) < 0)
			return -1;
	}
	pthread_mutex_lock(&v->mu);
	bool was = unlink_locked(v, r);
	pthread_mutex_unlock(&v->mu);
	if (was) {
		remove_files_and_publish(v, r);
		vm_put(r);   /* the list's reference */
	}
	return 0;
}

size_t vms_using_image(struct vms *v, const char *image_id)
{
	size_t n = 0;
	pthread_mutex_lock(&v->mu);
	for (size_t i = 0; i < v->n; i++)
		if (v->recs[i]->kind == VM_KIND_USER && v->recs[i]->state <= VM_STOPPING &&
		    !strcmp(v->recs[i]->image_id, image_id))
			n++;
	pthread_mutex_unlock(&v->mu);
	return n;
}

void vms_count(struct vms *v, size_t counts[VM_GONE + 1])
{
	memset(counts, 0, sizeof(size_t) * (VM_GONE + 1));
	pthread_mutex_lock(&v->mu);
	for (size_t i = 0; i < v->n; i++)
		if (v->recs[i]->kind == VM_KIND_USER)
			counts[v->recs[i]->state]++;
	pthread_mutex_unlock(&v->mu);
}

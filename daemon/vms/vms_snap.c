/* vms_snap.c - the snapshots registry (snapshots.h): the list beside the
 * VMs' (under the same mutex), their JSON, removal, the holds that
 * restores take, and the start-up reconciliation of rows and files.
 * Taking a snapshot is vms_snap_take.c.
 *
 * A snapshot being taken is in the list (ready = false) so its name is
 * held, but nothing else sees it. Removal takes the snapshot out of the
 * list and the table and renames its directory aside (.del-NAME-XXXXXXXX)
 * under the mutex, so the name is free at once; the files are deleted
 * after the mutex is let go.
 */
#include "daemon/vms/vms_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

bool vms_snapshot_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n < 1 || n > SNAP_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

static void snap_free(struct vm_snap *s)
{
	if (!s)
		return;
	free(s->source_vm);
	free(s->image);
	free(s->image_id);
	strv_free(s->env);
	strv_free(s->cmd);
	strv_free(s->entrypoint);
	free(s->workdir);
	free(s->user);
	free(s);
}

/* Under mu (or before anyone else can see v). */
static int list_add(struct vms *v, struct vm_snap *s)
{
	if (v->n_snaps == v->cap_snaps) {
		size_t cap = v->cap_snaps ? v->cap_snaps * 2 : 16;
		struct vm_snap **grown = realloc(v->snaps, cap * sizeof *grown);
		if (!grown)
			return -1;
		v->snaps = grown;
		v->cap_snaps = cap;
	}
	v->snaps[v->n_snaps++] = s;
	return 0;
}

static void list_unlink_locked(struct vms *v, struct vm_snap *s)
{
	for (size_t i = 0; i < v->n_snaps; i++)
		if (v->snaps[i] == s) {
			memmove(&v->snaps[i], &v->snaps[i + 1],
				(v->n_snaps - i - 1) * sizeof *v->snaps);
			v->n_snaps--;
			return;
		}
}

struct vm_snap *snap_find_locked(struct vms *v, const char *name)
{
	for (size_t i = 0; name && i < v->n_snaps; i++)
		if (!strcmp(v->snaps[i]->name, name))
			return v->snaps[i];
	return NULL;
}

/* VMs listed (any state) that were restored from name. */
static size_t users_locked(struct vms *v, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < v->n; i++)
		if (v->recs[i]->from_snapshot && !strcmp(v->recs[i]->from_snapshot, name))
			n++;
	return n;
}

static const char *kind_locked(const struct vm_snap *s)
{
	return vms_bake_name_is(s->name) ? "bake" : s->temporary ? "fork" : "user";
}

json_t *snap_json_locked(struct vms *v, const struct vm_snap *s)
{
	bool bake = vms_bake_name_is(s->name);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:o,s:o,s:s,s:s,s:o,s:s,s:I,s:I,s:I,s:b,s:I,"
			 "s:s,s:b}",
		"name", s->name, "vm", s->source_vm, "image", s->image, "image_id", s->image_id,
		"vcpus", s->vcpus, "memory_mib", (json_int_t)s->memory_mib,
		"env", strv_to_json(s->env), "cmd", s->cmd ? strv_to_json(s->cmd) : json_null(),
		"workdir", s->workdir, "user", s->user, "created", time_to_json(s->created),
		"path", s->dir, "state_bytes", (json_int_t)s->state_bytes,
		"memory_bytes", (json_int_t)s->memory_bytes,
		"memory_disk_bytes", (json_int_t)s->memory_disk_bytes,
		"temporary", s->temporary, "vms", (json_int_t)users_locked(v, s->name),
		"kind", kind_locked(s), "stale", bake && !bake_current_locked(v, s));
	if (j) {
		json_object_set_new(j, "entrypoint", s->entrypoint ? strv_to_json(s->entrypoint)
								 : json_null());
		json_object_set_new(j, "storage_mib", json_integer(s->storage_mib));
		json_object_set_new(j, "upper_disk_bytes",
				    json_integer((json_int_t)s->upper_disk_bytes));
	}
	return j;
}

json_t *vms_snapshot_json(struct vms *v, const char *name)
{
	pthread_mutex_lock(&v->mu);
	struct vm_snap *s = snap_find_locked(v, name);
	json_t *j = s && s->ready ? snap_json_locked(v, s) : NULL;
	pthread_mutex_unlock(&v->mu);
	return j;
}

json_t *vms_snapshots_json(struct vms *v)
{
	json_t *a = json_array();
	pthread_mutex_lock(&v->mu);
	for (size_t i = 0; a && i < v->n_snaps; i++)
		if (v->snaps[i]->ready)
			json_array_append_new(a, snap_json_locked(v, v->snaps[i]));
	pthread_mutex_unlock(&v->mu);
	return a;
}

/* Under mu: s leaves the list and the table, and its directory is renamed
 * to trash (empty when there was none) for the caller to delete outside
 * the mutex; the caller frees s. */
static void drop_locked(struct vms *v, struct vm_snap *s, char *trash, size_t len)
{
	uint32_t rnd = 0;
	list_unlink_locked(v, s);
	if (s->ready)
		snap_db_delete(v, s->name);
	if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		rnd = (uint32_t)time(NULL);
	snprintf(trash, len, "%s/.del-%s-%08x", vms_bake_name_is(s->name) ? v->bakes_dir :
		 v->snaps_dir, s->name, rnd);
	if (rename(s->dir, trash) < 0) {
		if (errno != ENOENT)
			fprintf(stderr, "supermachined: snapshot %s: moving %s aside: %s\n", s->name,
				s->dir, strerror(errno));
		trash[0] = 0;
	}
}

static void publish(struct vms *v, const char *type, json_t *snap)
{
	if (v->cfg.on_event && snap)
		v->cfg.on_event(v->cfg.ud, type, json_pack("{s:o}", "snapshot", snap));
	else
		json_decref(snap);
}

/* After drop_locked, outside the mutex. */
static void finish_drop(struct vms *v, struct vm_snap *s, const char *trash, json_t *j)
{
	if (trash[0])
		rmtree(trash);
	publish(v, "snapshot.removed", j);
	snap_free(s);
}

int vms_snapshot_remove(struct vms *v, const char *name, char *err, size_t errlen)
{
	char trash[PATH_MAX];
	pthread_mutex_lock(&v->mu);
	struct vm_snap *s = snap_find_locked(v, name);
	if (!s || !s->ready) {
		pthread_mutex_unlock(&v->mu);
		snprintf(err, errlen, "no such snapshot: %s", name);
		errno = ENOENT;
		return -1;
	}
	if (s->restoring) {
		snprintf(err, errlen, "snapshot %s is in use: %d VM%s being restored from it; "
			 "remove it once they are up", name, s->restoring,
			 s->restoring == 1 ? " is" : "s are");
		pthread_mutex_unlock(&v->mu);
		errno = EBUSY;
		return -1;
	}
	json_t *j = snap_json_locked(v, s);
	drop_locked(v, s, trash, sizeof trash);
	pthread_mutex_unlock(&v->mu);
	finish_drop(v, s, trash, j);
	return 0;
}

int snap_restore_begin_locked(struct vms *v, const char *name, char *dir, size_t len)
{
	struct vm_snap *s = snap_find_locked(v, name);
	if (!s || !s->ready)
		return -1;
	s->restoring++;
	snprintf(dir, len, "%s", s->dir);
	return 0;
}

int snap_fs_slots(struct vms *v, const char *name)
{
	pthread_mutex_lock(&v->mu);
	struct vm_snap *s = snap_find_locked(v, name);
	int n = s ? s->fs_slots : 0;
	pthread_mutex_unlock(&v->mu);
	return n;
}

/* Under mu: a temporary snapshot nothing holds or was restored from. */
static bool unused_temporary_locked(struct vms *v, const struct vm_snap *s)
{
	return s && s->ready && s->temporary && !s->restoring && !users_locked(v, s->name);
}

static void drop_if_unused(struct vms *v, const char *name, bool release)
{
	char trash[PATH_MAX];
	pthread_mutex_lock(&v->mu);
	struct vm_snap *s = snap_find_locked(v, name);
	if (s && release && s->restoring > 0)
		s->restoring--;
	if (!unused_temporary_locked(v, s)) {
		pthread_mutex_unlock(&v->mu);
		return;
	}
	json_t *j = snap_json_locked(v, s);
	drop_locked(v, s, trash, sizeof trash);
	pthread_mutex_unlock(&v->mu);
	finish_drop(v, s, trash, j);
}

void vms_snapshot_release(struct vms *v, const char *name)
{
	drop_if_unused(v, name, true);
}

void snap_maybe_drop(struct vms *v, const char *name)
{
	drop_if_unused(v, name, false);
}

/* --- start-up ------------------------------------------------------------ */

static bool file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX + 16];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A row from the table: kept when its files are there. */
static int load_one(struct vms *v, struct vm_snap *s)
{
	if (!file_exists(s->dir, "vm.state") || !file_exists(s->dir, "vm.mem") ||
	    (s->storage_mib && !file_exists(s->dir, UPPER_DISK_NAME))) {
		fprintf(stderr, "supermachined: snapshot %s: %s is missing or incomplete; "
			"forgetting it\n", s->name, s->dir);
		snap_db_delete(v, s->name);
		snap_free(s);
		return 0;
	}
	if (list_add(v, s) < 0) {
		snap_free(s);
		return -1;
	}
	return 0;
}

void snap_dir_for(struct vms *v, const char *name, char *dir, size_t len)
{
	snprintf(dir, len, "%s/%s", vms_bake_name_is(name) ? v->bakes_dir : v->snaps_dir, name);
}

/* Whether sweep keeps e in dir: a listed snapshot's folder (a bake's in
 * DATA/bakes, another's in DATA/snapshots), or a failed bake's console log. */
static bool sweep_keeps(struct vms *v, const char *dir, const char *e)
{
	bool bakes = dir == v->bakes_dir;
	if (bakes && !strncmp(e, ".failed-", 8))
		return true;
	return snap_find_locked(v, e) && vms_bake_name_is(e) == bakes;
}

/* Removes what DATA/snapshots (or DATA/bakes) holds besides the listed
 * snapshots: the temporary directories of interrupted snapshots, removals
 * cut short. */
static void sweep(struct vms *v, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX + 256];
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    sweep_keeps(v, dir, e->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (remove(path) < 0)
			rmtree(path);
	}
	if (d)
		closedir(d);
}

int snaps_open(struct vms *v, char *err, size_t errlen)
{
	int n = snprintf(v->snaps_dir, sizeof v->snaps_dir, "%s/snapshots", v->data_dir);
	if (n < 0 || (size_t)n >= sizeof v->snaps_dir) {
		snprintf(err, errlen, "%s/snapshots: path too long", v->data_dir);
		return -1;
	}
	n = snprintf(v->bakes_dir, sizeof v->bakes_dir, "%s/bakes", v->data_dir);
	if (n < 0 || (size_t)n >= sizeof v->bakes_dir) {
		snprintf(err, errlen, "%s/bakes: path too long", v->data_dir);
		return -1;
	}
	if (mkdir(v->snaps_dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", v->snaps_dir, strerror(errno));
		return -1;
	}
	if (mkdir(v->bakes_dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", v->bakes_dir, strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&v->mu);
	int rc = snap_db_open(v, err, errlen);
	if (rc == 0)
		rc = snap_db_load(v, load_one, err, errlen);
	/* Fork snapshots whose VMs (now gone) were all removed. */
	for (size_t i = 0; rc == 0 && i < v->n_snaps;) {
		struct vm_snap *s = v->snaps[i];
		if (!unused_temporary_locked(v, s)) {
			i++;
			continue;
		}
		snap_db_delete(v, s->name);
		list_unlink_locked(v, s);
		rmtree(s->dir);
		snap_free(s);
	}
	if (rc == 0) {
		sweep(v, v->snaps_dir);
		sweep(v, v->bakes_dir);
	}
	pthread_mutex_unlock(&v->mu);
	return rc;
}

void snaps_free(struct vms *v)
{
	for (size_t i = 0; i < v->n_snaps; i++)
		snap_free(v->snaps[i]);
	free(v->snaps);
	v->snaps = NULL;
	v->n_snaps = v->cap_snaps = 0;
}

/* The record of a snapshot about to be taken, from the VM's settings. */
struct vm_snap *snap_new_locked(struct vm_rec *r, const char *name, bool temporary)
{
	struct vm_snap *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	snprintf(s->name, sizeof s->name, "%s", name);
	snap_dir_for(r->v, name, s->dir, sizeof s->dir);
	s->source_vm = strdup(r->id);
	s->image = strdup(r->image);
	s->image_id = strdup(r->image_id);
	s->vcpus = r->vcpus;
	s->memory_mib = r->memory_mib;
	s->storage_mib = r->storage_mib;
	s->env = strv_dup((const char *const *)r->env);
	s->cmd = r->cmd ? strv_dup((const char *const *)r->cmd) : NULL;
	s->entrypoint = r->entrypoint ? strv_dup((const char *const *)r->entrypoint) : NULL;
	s->workdir = strdup(r->workdir);
	s->user = strdup(r->user);
	s->created = time(NULL);
	s->temporary = temporary;
	s->fs_slots = r->fs_slots;
	if (!s->source_vm || !s->image || !s->image_id || !s->env || (r->cmd && !s->cmd) ||
	    (r->entrypoint && !s->entrypoint) || !s->workdir || !s->user) {
		snap_free(s);
		return NULL;
	}
	return s;
}

int snap_list_add_locked(struct vms *v, struct vm_snap *s)
{
	return list_add(v, s);
}

void snap_discard_locked(struct vms *v, struct vm_snap *s)
{
	list_unlink_locked(v, s);
	snap_free(s);
}

void snap_publish_created(struct vms *v, json_t *j)
{
	publish(v, "snapshot.created", json_incref(j));
}

/* vms_bake.c - bakes: one snapshot per (image, vCPUs, memory, kernel,
 * initramfs, VMM), made by a cold boot on first use (bakes.h).
 *
 * bake_acquire() is what vms_create() calls for an image VM when baking is
 * on. Under the registry mutex it looks for a bake under way for the key
 * (v->bakes, a list of jobs): if there is one it waits on v->bake_cv for
 * it, else it takes a hold on the ready bake (as a restore does), else it
 * puts a job in the list and bakes - without the mutex: a hidden VM boots
 * cold (vms_create with VM_KIND_BAKE), is snapshotted under the bake's
 * name (SNAP_BAKE: files in DATA/bakes/NAME) and discarded. Waiters read
 * the job's outcome; the last one to leave frees it.
 */
#include "daemon/vms/vms_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct bake_job {
	struct bake_job *next;
	char name[SNAP_NAME_MAX + 1];
	int waiters;               /* threads waiting for it (under mu) */
	bool done;
	int rc;
	char err[1024];
};

bool vms_bake_name_is(const char *name)
{
	return name && !strncmp(name, BAKE_PREFIX, strlen(BAKE_PREFIX));
}

/* One file's digest, or a word saying why there is none (a VM then fails
 * to start anyway, with a clearer reason). */
static void file_digest(const char *path, char out[SM_DIGEST_LEN])
{
	char err[256];
	if (!path || sm_sha256_file(path, out, NULL, err, sizeof err) < 0)
		snprintf(out, SM_DIGEST_LEN, "unreadable");
}

int bake_digests(struct vms *v, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	file_digest(v->kernel, v->kernel_digest);
	file_digest(v->initrd, v->initrd_digest);
	file_digest(v->vmm_path, v->vmm_digest);
	return 0;
}

void vms_bake_name(struct vms *v, const char *image_id, int vcpus, unsigned memory_mib,
		   unsigned storage_mib, char out[SNAP_NAME_MAX + 1])
{
	char key[1024], digest[SM_DIGEST_LEN];
	int n = snprintf(key, sizeof key, "supermachine bake 3\nnet\nimage %s\nvcpus %d\nmemory %u\n"
			 "storage %u\nkernel %s\ninitrd %s\nvmm %s\n", image_id, vcpus,
			 memory_mib, storage_mib, v->kernel_digest, v->initrd_digest,
			 v->vmm_digest);
	sm_sha256_buf(key, n > 0 && (size_t)n < sizeof key ? (size_t)n : strlen(key), digest);
	snprintf(out, SNAP_NAME_MAX + 1, "%s%.32s", BAKE_PREFIX, sm_digest_hex(digest));
}

bool bake_current_locked(struct vms *v, const struct vm_snap *s)
{
	char want[SNAP_NAME_MAX + 1];
	vms_bake_name(v, s->image_id, s->vcpus, s->memory_mib, s->storage_mib, want);
	return !strcmp(want, s->name);
}

json_t *vms_bake_info(struct vms *v)
{
	return json_pack("{s:b,s:s,s:s,s:s}", "enabled", v->cfg.bake, "kernel", v->kernel_digest,
			 "initrd", v->initrd_digest, "vmm", v->vmm_digest);
}

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Copies src to dst through dst.tmp; 0 or -1. */
static int copy_file(const char *src, const char *dst)
{
	char tmp[PATH_MAX + 64], buf[16384];
	snprintf(tmp, sizeof tmp, "%s.tmp", dst);
	int in = open(src, O_RDONLY | O_CLOEXEC), rc = -1;
	int out = in >= 0 ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0440) : -1;
	ssize_t n = 0;
	while (out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (out >= 0 && n == 0 && fsync(out) == 0 && rename(tmp, dst) == 0)
		rc = 0;
	if (out >= 0) {
		close(out);
		if (rc < 0)
			unlink(tmp);
	}
	if (in >= 0)
		close(in);
	return rc;
}

/* err with every mention of from replaced by to (the bake VM's console
 * path, which goes with it, by the copy that stays). */
static void replace_path(char *err, size_t errlen, const char *from, const char *to)
{
	size_t o = 0, fl = strlen(from), tl = strlen(to);
	char *out = fl ? malloc(errlen) : NULL;
	if (!out)
		return;
	for (const char *p = err; *p && o + 1 < errlen;) {
		if (!strncmp(p, from, fl) && o + tl + 1 < errlen) {
			memcpy(out + o, to, tl);
			o += tl;
			p += fl;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = 0;
	memcpy(err, out, o + 1);
	free(out);
}

/* Boots the bake VM, snapshots it as name, discards it. 0, or -1 with err. */
static int bake_run(struct vms *v, const struct vm_spec *spec, const char *name, char *err,
		    size_t errlen)
{
	struct vm_spec s = { .image = spec->image, .image_cfg = spec->image_cfg,
			     .vcpus = spec->vcpus, .memory_mib = spec->memory_mib,
			     .storage_mib = vms_storage_mib(v, spec), .kind = VM_KIND_BAKE };
	struct vm_rec *r = NULL;
	char id[32] = "", e[1024] = "", dst[PATH_MAX + 64];
	long t0 = mono_ms();
	fprintf(stderr, "supermachined: baking %s: image %s (%s), %d vCPUs, %u MiB\n", name,
		spec->image, spec->image_cfg->manifest_digest, spec->vcpus, spec->memory_mib);
	int rc = vms_create(v, &s, &r, id, sizeof id, e, sizeof e);
	long booted = mono_ms();
	if (rc == 0) {
		json_t *j = vms_snapshot(v, r, name, SNAP_BAKE, NULL, 0, e, sizeof e);
		rc = j ? 0 : -1;
		json_decref(j);
	}
	if (!r && id[0]) {   /* it failed to start: still listed (hidden), exited */
		pthread_mutex_lock(&v->mu);
		if ((r = rec_find_locked(v, id)))
			r->refs++;
		pthread_mutex_unlock(&v->mu);
	}
	if (r && rc == 0) {
		snprintf(dst, sizeof dst, "%s/%s/console.log", v->bakes_dir, name);
		copy_file(r->console, dst);   /* best effort: the restored VMs' boot.log */
	} else if (r) {
		snprintf(dst, sizeof dst, "%s/.failed-%s.console.log", v->bakes_dir, name);
		if (copy_file(r->console, dst) == 0)
			replace_path(e, sizeof e, r->console, dst);
	}
	if (r) {
		vms_discard(v, r);
		vm_put(r);
	}
	if (rc < 0) {
		snprintf(err, errlen, "baking image %s (%d vCPUs, %u MiB): %s", spec->image,
			 spec->vcpus, spec->memory_mib, e);
		fprintf(stderr, "supermachined: %s\n", err);
		return -1;
	}
	fprintf(stderr, "supermachined: baked %s in %.1f s (boot %.1f s, snapshot %.1f s)\n", name,
		(double)(mono_ms() - t0) / 1000, (double)(booted - t0) / 1000,
		(double)(mono_ms() - booted) / 1000);
	return 0;
}

static struct bake_job *job_find_locked(struct vms *v, const char *name)
{
	for (struct bake_job *j = v->bakes; j; j = j->next)
		if (!strcmp(j->name, name))
			return j;
	return NULL;
}

static void job_unlink_locked(struct vms *v, struct bake_job *job)
{
	for (struct bake_job **p = &v->bakes; *p; p = &(*p)->next)
		if (*p == job) {
			*p = job->next;
			return;
		}
}

int bake_acquire(struct vms *v, const struct vm_spec *spec, char name[SNAP_NAME_MAX + 1],
		 char *dir, size_t dirlen, char *err, size_t errlen)
{
	vms_bake_name(v, spec->image_cfg->manifest_digest, spec->vcpus, spec->memory_mib,
		      vms_storage_mib(v, spec), name);
	pthread_mutex_lock(&v->mu);
	for (;;) {
		struct bake_job *job = job_find_locked(v, name);
		if (!job) {
			if (snap_restore_begin_locked(v, name, dir, dirlen) == 0) {
				pthread_mutex_unlock(&v->mu);
				return 0;
			}
			break;   /* no bake: make it */
		}
		job->waiters++;
		while (!job->done)
			pthread_cond_wait(&v->bake_cv, &v->mu);
		int rc = job->rc;
		if (rc < 0)
			snprintf(err, errlen, "%s", job->err);
		if (--job->waiters == 0)
			free(job);
		if (rc < 0) {
			pthread_mutex_unlock(&v->mu);
			return -1;
		}
	}
	struct bake_job *job = calloc(1, sizeof *job);
	if (!job) {
		pthread_mutex_unlock(&v->mu);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(job->name, sizeof job->name, "%s", name);
	job->next = v->bakes;
	v->bakes = job;
	pthread_mutex_unlock(&v->mu);

	int rc = bake_run(v, spec, name, job->err, sizeof job->err);

	pthread_mutex_lock(&v->mu);
	job_unlink_locked(v, job);
	job->done = true;
	job->rc = rc;
	if (rc < 0)
		snprintf(err, errlen, "%s", job->err);
	else if (snap_restore_begin_locked(v, name, dir, dirlen) < 0) {
		snprintf(err, errlen, "bake %s was removed as soon as it was made", name);
		rc = -1;
	}
	pthread_cond_broadcast(&v->bake_cv);
	if (job->waiters == 0)
		free(job);
	pthread_mutex_unlock(&v->mu);
	return rc;
}

/* --- removal ------------------------------------------------------------- */

struct bake_ref {
	char name[SNAP_NAME_MAX + 1];
	char *image_id;
	bool current;
};

/* The ready bakes (under mu inside); *n of them. */
static struct bake_ref *list_bakes(struct vms *v, size_t *n)
{
	pthread_mutex_lock(&v->mu);
	struct bake_ref *l = calloc(v->n_snaps + 1, sizeof *l);
	*n = 0;
	for (size_t i = 0; l && i < v->n_snaps; i++) {
		struct vm_snap *s = v->snaps[i];
		if (!s->ready || !vms_bake_name_is(s->name))
			continue;
		snprintf(l[*n].name, sizeof l[*n].name, "%s", s->name);
		l[*n].current = bake_current_locked(v, s);
		if ((l[*n].image_id = strdup(s->image_id)))
			(*n)++;
	}
	pthread_mutex_unlock(&v->mu);
	return l;
}

static void free_bakes(struct bake_ref *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i].image_id);
	free(l);
}

static bool drop(struct vms *v, const char *name, const char *why)
{
	char err[512];
	if (vms_snapshot_remove(v, name, err, sizeof err) < 0)
		return false;   /* busy (VMs are being restored from it) or gone */
	fprintf(stderr, "supermachined: removed bake %s (%s)\n", name, why);
	return true;
}

size_t vms_bakes_drop_image(struct vms *v, const char *image_id)
{
	size_t n, dropped = 0;
	struct bake_ref *l = list_bakes(v, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i].image_id, image_id))
			dropped += drop(v, l[i].name, "its image was removed");
	free_bakes(l, n);
	return dropped;
}

size_t vms_bakes_gc(struct vms *v, bool (*image_exists)(void *ud, const char *image_id),
		    void *ud)
{
	size_t n, dropped = 0;
	struct bake_ref *l = list_bakes(v, &n);
	for (size_t i = 0; i < n; i++) {
		if (!l[i].current)
			dropped += drop(v, l[i].name, "made with another kernel, initramfs or VMM");
		else if (!image_exists(ud, l[i].image_id))
			dropped += drop(v, l[i].name, "its image is no longer in the store");
	}
	free_bakes(l, n);
	return dropped;
}

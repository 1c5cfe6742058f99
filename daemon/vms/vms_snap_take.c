/* vms_snap_take.c - taking a snapshot of a running VM (snapshots.h).
 *
 * 1. Under the mutex: the VM must be running and the name free; a record
 *    (not ready) holds the name meanwhile.
 * 2. Without it: a temporary directory DATA/snapshots/.tmp-NAME-XXXXXX
 *    gets two new files, vm.state and vm.mem, and a third, upper.img, when
 *    the VM has a writable layer disk; they go to the VMM over its control
 *    channel (worker_snapshot); the VM pauses while it writes them (the
 *    disk copied in the same pause: a reflink, else its data extents, so
 *    the guest's page cache in vm.mem and the disk agree) and runs on.
 *    Then all are synced and made read-only, the directory
 *    is synced and renamed to DATA/snapshots/NAME, and DATA/snapshots is
 *    synced: a row never points at a half-written snapshot.
 * 3. Under the mutex: the row is written and the snapshot is ready (or,
 *    on any failure, the record and the files go).
 */
#include "daemon/vms/vms_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* The VM is paused while its memory is written: minutes for a big VM on a
 * slow disk, seconds usually. */
#define SNAP_TIMEOUT_MS 300000

/* Step 1: the VM's worker, with the name held by s; NULL with errno. */
static struct vm_snap *reserve(struct vms *v, struct vm_rec *r, const char *name,
			       bool temporary, struct worker **w, char *err, size_t errlen)
{
	struct vm_snap *s = NULL;
	pthread_mutex_lock(&v->mu);
	if (r->state != VM_RUNNING || !r->w) {
		snprintf(err, errlen, "VM %s is %s: only a running VM can be snapshotted", r->id,
			 vm_state_name(r->state));
		errno = ESRCH;
	} else if (r->n_mounts) {
		snprintf(err, errlen, "VM %s shares host folders (mounts): snapshots and forks of "
			 "a VM with mounts are not supported yet", r->id);
		errno = ENOTSUP;
	} else if (snap_find_locked(v, name)) {
		snprintf(err, errlen, "a snapshot named %s already exists", name);
		errno = EEXIST;
	} else if (!(s = snap_new_locked(r, name, temporary)) || snap_list_add_locked(v, s) < 0) {
		if (s)
			snap_discard_locked(v, s);
		s = NULL;
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
	} else {
		*w = r->w;
	}
	pthread_mutex_unlock(&v->mu);
	return s;
}

static int sync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* fstat, fdatasync, read-only; 0 or -1 with errno. */
static int seal(int fd, struct stat *st)
{
	if (fstat(fd, st) < 0 || fdatasync(fd) < 0 || fchmod(fd, 0440) < 0)
		return -1;
	return 0;
}

/* Why the VMM's save failed, as an errno. */
static int save_errno(struct vm_rec *r, const char *msg)
{
	if (vm_state(r) != VM_RUNNING)
		return ESRCH;
	if (strstr(msg, "in progress"))
		return EBUSY;
	return EIO;
}

/* Step 2: the files, written in a temporary directory, then renamed to
 * s->dir. 0, or -1 with err and errno (nothing left behind). */
static int write_files(struct vms *v, struct vm_rec *r, struct worker *w, struct vm_snap *s,
		       char *err, size_t errlen)
{
	char tmp[PATH_MAX], msg[256];
	int sfd = -1, mfd = -1, ufd = -1, dfd = -1, rc = -1, e = EIO;
	struct stat sst, mst, ust = { 0 };
	/* Beside s->dir: DATA/snapshots, or DATA/bakes for a bake. */
	const char *parent = vms_bake_name_is(s->name) ? v->bakes_dir : v->snaps_dir;
	snprintf(tmp, sizeof tmp, "%s/.tmp-%s-XXXXXX", parent, s->name);
	if (!mkdtemp(tmp)) {
		e = errno;
		snprintf(err, errlen, "snapshot %s: mkdtemp %s: %s", s->name, tmp, strerror(e));
		errno = EIO;
		return -1;
	}
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		sfd = openat(dfd, "vm.state", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
	if (sfd >= 0)
		mfd = openat(dfd, "vm.mem", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
	if (mfd >= 0 && s->storage_mib)
		ufd = openat(dfd, UPPER_DISK_NAME, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0640);
	if (mfd < 0 || (s->storage_mib && ufd < 0)) {
		snprintf(err, errlen, "snapshot %s: creating its files in %s: %s", s->name, tmp,
			 strerror(errno));
		goto out;
	}
	if (worker_snapshot(w, sfd, mfd, ufd, SNAP_TIMEOUT_MS, msg, sizeof msg) < 0) {
		e = save_errno(r, msg);
		snprintf(err, errlen, "snapshot %s of VM %s: %s", s->name, r->id, msg);
		goto out;
	}
	if (seal(sfd, &sst) < 0 || seal(mfd, &mst) < 0 || (ufd >= 0 && seal(ufd, &ust) < 0) ||
	    fsync(dfd) < 0) {
		snprintf(err, errlen, "snapshot %s: syncing %s: %s", s->name, tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, s->dir) < 0) {
		snprintf(err, errlen, "snapshot %s: renaming %s to %s: %s", s->name, tmp, s->dir,
			 strerror(errno));
		goto out;
	}
	sync_path(parent);
	s->state_bytes = (uint64_t)sst.st_size;
	s->memory_bytes = (uint64_t)mst.st_size;
	s->memory_disk_bytes = (uint64_t)mst.st_blocks * 512;
	s->upper_disk_bytes = (uint64_t)ust.st_blocks * 512;
	rc = 0;
out:
	if (sfd >= 0)
		close(sfd);
	if (mfd >= 0)
		close(mfd);
	if (ufd >= 0)
		close(ufd);
	if (dfd >= 0)
		close(dfd);
	if (rc < 0) {
		rmtree(tmp);
		errno = e;
	}
	return rc;
}

json_t *vms_snapshot(struct vms *v, struct vm_rec *r, const char *name, int flags,
		     char *name_out, size_t name_len, char *err, size_t errlen)
{
	bool temporary = flags & SNAP_TEMPORARY;
	char made[SNAP_NAME_MAX + 1];
	if (temporary) {
		uint32_t rnd;
		if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
			snprintf(err, errlen, "no randomness for a snapshot name");
			errno = EIO;
			return NULL;
		}
		snprintf(made, sizeof made, "_fork-%s-%08x", r->id, rnd);
		name = made;
	} else if (flags & SNAP_BAKE ? !vms_bake_name_is(name) : !vms_snapshot_name_ok(name)) {
		snprintf(err, errlen, "snapshot name \"%s\": expected 1 to %d letters, digits, "
			 "'_', '.' or '-', beginning with a letter or digit", name ? name : "",
			 SNAP_NAME_MAX);
		errno = EINVAL;
		return NULL;
	}
	if (name_out)
		snprintf(name_out, name_len, "%s", name);
	struct worker *w = NULL;
	struct vm_snap *s = reserve(v, r, name, temporary, &w, err, errlen);
	if (!s)
		return NULL;
	int rc = write_files(v, r, w, s, err, errlen), e = errno;
	pthread_mutex_lock(&v->mu);
	if (rc == 0 && snap_db_insert(v, s, err, errlen) < 0) {
		rmtree(s->dir);
		rc = -1;
		e = EIO;
	}
	json_t *j = NULL;
	if (rc < 0)
		snap_discard_locked(v, s);
	else {
		s->ready = true;
		s->restoring = temporary ? 1 : 0;   /* the fork's hold */
		j = snap_json_locked(v, s);
	}
	pthread_mutex_unlock(&v->mu);
	if (rc < 0) {
		errno = e;
		return NULL;
	}
	if (!j) {
		snprintf(err, errlen, "snapshot %s was taken, but out of memory showing it", name);
		errno = ENOMEM;
		return NULL;
	}
	snap_publish_created(v, j);
	return j;
}

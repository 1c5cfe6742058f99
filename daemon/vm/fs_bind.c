/* fs_bind.c - bind host folders to idle virtio-fs slots, then seal
 * (fs_bind.h). Runs on the worker channel's thread, one request at a
 * time; the slot's transport lock orders the bind against the device
 * thread, which serves requests.
 */
#include "fs_bind.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/fs/fuse/fuse_server.h"

int fs_binder_open(struct fs_binder *b, struct virtio_devices *devs, bool allowed,
		   struct vm_err *err)
{
	memset(b, 0, sizeof(*b));
	b->devs = devs;
	b->proc_fd = b->proc_root = b->task_fd = -1;
	for (int i = 0; i < VIRTIO_MAX_FS; i++)
		b->folder[i] = -1;
	if (!allowed)
		return 0;
	b->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	b->task_fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (JAIL_SANITIZER)
		b->proc_root = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b->proc_fd < 0 || b->task_fd < 0 || (JAIL_SANITIZER && b->proc_root < 0)) {
		vm_errno(err, "shared folder binding: opening /proc");
		fs_binder_close(b);
		return -1;
	}
	return 0;
}

static bool slot_bound(struct virtio_fs *f)
{
	pthread_mutex_lock(&f->t.lock);
	bool bound = f->srv != NULL;
	pthread_mutex_unlock(&f->t.lock);
	return bound;
}

/* 0, or -1 with why the request cannot be served in msg. */
static int check_request(struct fs_binder *b, int slot, int dirfd, char *msg, size_t len)
{
	struct stat st;
	if (b->sealed)
		snprintf(msg, len, "the shared folders are sealed: no more binds");
	else if (b->proc_fd < 0)
		snprintf(msg, len, "this VM was started without --fs-allow: it may bind no folder");
	else if (dirfd < 0)
		snprintf(msg, len, "FS_BIND came without the folder's descriptor");
	else if (slot < 0 || slot >= b->devs->nfs)
		snprintf(msg, len, "no virtio-fs slot %d (this VM has %d)", slot, b->devs->nfs);
	else if (slot_bound(b->devs->fs[slot]) || b->folder[slot] >= 0)
		snprintf(msg, len, "virtio-fs slot %d (tag %.*s) serves a folder already", slot,
			 FS_TAG_MAX, b->devs->fs[slot]->tag);
	else if (fstat(dirfd, &st) < 0 || !S_ISDIR(st.st_mode))
		snprintf(msg, len, "the descriptor for slot %d is not a directory", slot);
	else
		return 0;
	return -1;
}

/* The jail's ruleset (the --fs-allow folders) must let us read it. */
static int probe_access(int dirfd, int slot, char *msg, size_t len)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	snprintf(msg, len, "the folder for slot %d is out of this VM's reach (%s): not beneath "
		 "its --fs-allow folders", slot, strerror(errno));
	return -1;
}

int fs_binder_bind(struct fs_binder *b, int slot, int dirfd, bool readonly, char *msg,
		   size_t len)
{
	if (check_request(b, slot, dirfd, msg, len) < 0 || probe_access(dirfd, slot, msg, len) < 0)
		return -1;
	struct fs_server_opts o = { .readonly = readonly };
	struct fs_err ferr = { "" };
	struct fs_server *srv = fs_server_new_procfd(dirfd, b->proc_fd, &o, &ferr);
	if (!srv) {
		snprintf(msg, len, "slot %d: FUSE server: %s", slot, ferr.msg);
		return -1;
	}
	int keep = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (keep < 0) {
		snprintf(msg, len, "slot %d: %s", slot, strerror(errno));
		fs_server_free(srv);
		return -1;
	}
	b->folder[slot] = keep;
	b->readonly[slot] = readonly;
	virtio_fs_bind(b->devs->fs[slot], srv);
	snprintf(msg, len, "slot %d (tag %.*s) serves its folder%s", slot, FS_TAG_MAX,
		 b->devs->fs[slot]->tag, readonly ? " read-only" : "");
	return 0;
}

int fs_binder_seal(struct fs_binder *b, char *msg, size_t len)
{
	int fds[VIRTIO_MAX_FS], n = 0;
	bool ro[VIRTIO_MAX_FS];
	if (b->sealed) {
		snprintf(msg, len, "the shared folders are sealed already");
		return -1;
	}
	b->sealed = true;
	if (b->proc_fd < 0 || jail_landlock_abi() == 0) {
		snprintf(msg, len, b->proc_fd < 0 ? "nothing to seal: no file access" :
			 "this kernel offers no Landlock: the FUSE servers alone confine the folders");
		return 0;
	}
	for (int i = 0; i < VIRTIO_MAX_FS; i++)
		if (b->folder[i] >= 0) {
			fds[n] = b->folder[i];
			ro[n++] = b->readonly[i];
		}
	struct vm_err err = { "" };
	int ruleset = jail_landlock_ruleset(fds, ro, n, b->proc_root, &err);
	int r = ruleset < 0 ? -1 : jail_landlock_all_threads(ruleset, b->task_fd, &err);
	if (r < 0) {
		snprintf(msg, len, "sealing the shared folders: %s", err.msg);
		return -1; /* the ruleset stays open if a thread may still use it */
	}
	close(ruleset);
	snprintf(msg, len, "every thread confined to the %d bound folder(s)", n);
	return 0;
}

void fs_binder_close(struct fs_binder *b)
{
	int *fds[] = { &b->proc_fd, &b->proc_root, &b->task_fd };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	for (int i = 0; i < VIRTIO_MAX_FS; i++) {
		if (b->folder[i] >= 0)
			close(b->folder[i]);
		b->folder[i] = -1;
	}
}

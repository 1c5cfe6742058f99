/* fuse_handles.h - the handle table (fuse_handles.c): FUSE file handles
 * (the fh of OPEN, CREATE, OPENDIR) to host fds.
 *
 * fh = (slot generation << 32) | slot, so a released fh never names the
 * slot's next occupant. A handle is a regular file's fd opened for I/O or
 * a directory's fd with a readdir lock. RELEASE unlists a handle at once;
 * its fd is closed when the last request using it unpins it. The table
 * grows on demand up to a fixed cap. Thread-safe (own mutex).
 */
#ifndef SM_FS_FUSE_HANDLES_H
#define SM_FS_FUSE_HANDLES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* A directory handle's state: readdir seeks and reads its fd under mu. */
struct fs_dir {
	pthread_mutex_t mu;
	bool root;    /* the shared root: its ".." is reported as itself */
};

struct fs_handle;

struct fs_handles {
	pthread_mutex_t mu;
	struct fs_handle *slot;
	uint32_t nslots, max, live, free_head;
};

struct fs_handle_ref {
	uint32_t idx;
	int fd;
	struct fs_dir *dir; /* NULL for a file handle */
};

int fs_handles_init(struct fs_handles *t, uint32_t max);
void fs_handles_fini(struct fs_handles *t);

/* List fd (taken over: kept, or closed on failure) as a file handle, or as
 * a directory handle when dir; -ENFILE when full, -ENOMEM. */
int fs_handles_add(struct fs_handles *t, int fd, bool dir, bool root, uint64_t *fh);
/* Pin handle fh of the kind asked for; -EBADF if it is not one. */
int fs_handles_pin(struct fs_handles *t, uint64_t fh, bool dir, struct fs_handle_ref *ref);
void fs_handles_unpin(struct fs_handles *t, const struct fs_handle_ref *ref);
/* Unlist fh (RELEASE, RELEASEDIR); -EBADF if it is not one of that kind. */
int fs_handles_release(struct fs_handles *t, uint64_t fh, bool dir);
void fs_handles_release_all(struct fs_handles *t);

void fs_handles_count(struct fs_handles *t, uint32_t *live, uint32_t *slots);

#endif

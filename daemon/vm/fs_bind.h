/* fs_bind.h - host folders bound to idle virtio-fs slots while the VM runs
 * (the worker channel's FS_BIND and FS_SEAL, worker_proto.h).
 *
 * A VM restored from a bake, or kept ready in a warm pool, has idle
 * virtio-fs slots (--fs smN) and learns its folders only when it is handed
 * out. supermachined then opens each folder, sends its descriptor with a
 * slot index and a mode (FS_BIND): the binder checks them, builds a FUSE
 * server on that descriptor (the /proc/self/fd it needs was opened before
 * the jail) and gives it to the slot. FS_SEAL ends the binding: a Landlock
 * ruleset granting exactly the bound folders (read rights only for
 * read-only ones; none at all when nothing was bound) is enforced on every
 * thread (jail_files.h), on top of the jail's first one (the --fs-allow
 * folders), so from then on the process reaches those folders and nothing
 * else; binds after it are refused.
 *
 * Only a VMM started with --fs-allow can bind (its jail has the file calls
 * and a Landlock ruleset beneath the allowed folders); a folder outside
 * them is refused at bind time, since no access to it would pass anyway.
 * The state is plain: descriptors, flags, the devices' own pointers.
 */
#ifndef SM_FS_BIND_H
#define SM_FS_BIND_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/vm/virtio/devices.h"

struct fs_binder {
	struct virtio_devices *devs;
	int proc_fd;                    /* /proc/self/fd (O_PATH); -1: binds refused */
	int proc_root;                  /* /proc (O_PATH), sanitizer builds' rule; or -1 */
	int task_fd;                    /* /proc/self/task, to find every thread */
	int folder[VIRTIO_MAX_FS];      /* O_PATH of each bound folder, -1: idle */
	bool readonly[VIRTIO_MAX_FS];
	bool sealed;
};

/* Before the jail: with allowed (the VMM has --fs-allow folders) open the
 * /proc descriptors binds and the seal need; without, every bind is
 * refused. 0, or -1 with err. */
int fs_binder_open(struct fs_binder *b, struct virtio_devices *devs, bool allowed,
		   struct vm_err *err);
/* Serve the folder open at dirfd (the caller keeps it) on idle slot
 * `slot` (the slot-th --fs device). 0, or -1 with why in msg. */
int fs_binder_bind(struct fs_binder *b, int slot, int dirfd, bool readonly, char *msg,
		   size_t len);
/* Confine the process to the bound folders (see above). 0 with a summary
 * in msg, or -1 with why (the process may then be partly restricted: the
 * daemon ends it). */
int fs_binder_seal(struct fs_binder *b, char *msg, size_t len);
void fs_binder_close(struct fs_binder *b);

#endif

/* fs.h - virtio-fs (device id 26): a host folder shared into the guest.
 *
 * Two queues: hiprio (FORGET, INTERRUPT) and one request queue. Each chain
 * is one FUSE request: its readable part the guest's message, its writable
 * part room for the reply; the FUSE server of daemon/fs/fuse answers it
 * (passthrough, confined beneath the folder). The config space holds the
 * mount tag the guest mounts by (`mount -t virtiofs TAG DIR`).
 *
 * A device may exist before it has a folder (an idle slot, as a snapshot
 * carries them): until virtio_fs_bind() gives it a server every request is
 * answered ENODEV, so a mount fails cleanly. Requests are served on the
 * device thread with the transport lock held, like virtio-blk's I/O.
 */
#ifndef SM_VIRTIO_FS_H
#define SM_VIRTIO_FS_H

#include <sys/uio.h>

#include "daemon/vm/virtio/mmio.h"

#define VIRTIO_ID_FS 26
#define FS_QUEUE_SIZE 128
#define FS_NUM_QUEUES 2 /* hiprio + one request queue */
#define FS_TAG_MAX 36   /* the config space's tag field, NUL-padded */

struct fs_server;

struct virtio_fs {
	struct virtio_mmio t;
	char tag[FS_TAG_MAX];
	struct fs_server *srv; /* NULL: no folder bound (ENODEV); owned */
	struct vq_chain chain;
	struct iovec in_iov[VQ_MAX_SIZE], out_iov[VQ_MAX_SIZE];
	bool session;          /* a request came since the last reset: the
				* guest has (or tried) a FUSE session here */
	uint64_t requests;     /* served by the server */
	uint64_t unbound;      /* answered ENODEV: no folder */
};

extern const struct virtio_dev_ops virtio_fs_ops;

/* tag: 1 to FS_TAG_MAX bytes (no NUL needed at the full length). 0, or -1
 * if the tag is empty or too long. */
int virtio_fs_init(struct virtio_fs *dev, const struct guest_mem *mem, const char *tag);
/* Give the device the server that answers from now on (NULL: none); the
 * device owns it and frees the one it replaces. Takes the transport lock. */
void virtio_fs_bind(struct virtio_fs *dev, struct fs_server *srv);
/* Free the server; the transport is the caller's (virtio_mmio_destroy). */
void virtio_fs_fini(struct virtio_fs *dev);

/* Snapshots (fs_persist.c), with dev->t.lock held. Section "VFS_": the
 * transport, the tag and whether a FUSE session was open. The server's
 * nodes and open files are host state a snapshot cannot carry, so restore
 * refuses a snapshot taken while the guest used the device (mounted it);
 * an idle slot restores, keeps its tag, and serves whatever folder this
 * process binds. Restore leaves dev unchanged on failure. */
struct snap_writer;
struct snap_reader;
void virtio_fs_save(const struct virtio_fs *dev, struct snap_writer *w);
bool virtio_fs_restore(struct virtio_fs *dev, struct snap_reader *r);

#endif

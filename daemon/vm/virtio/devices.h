/* devices.h - the virtio devices of one supermachine-vmm run, from options.
 *
 * The option parser collects --disk PATH[,ro] (repeatable), --vsock PATH
 * and --cid N into struct virtio_opts; main.c attaches the lot after
 * vm_create() (disks first, so they become vda, vdb, ... in order; then
 * rng, always; then vsock) and frees them after vm_run().
 */
#ifndef SM_VIRTIO_DEVICES_H
#define SM_VIRTIO_DEVICES_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/vm/virtio/attach.h"

#define VIRTIO_MAX_DISKS 8
#define VIRTIO_DEFAULT_CID 3

struct virtio_disk_opt {
	char path[PATH_MAX];
	bool readonly;
};

struct virtio_opts {
	struct virtio_disk_opt disk[VIRTIO_MAX_DISKS];
	int ndisks;
	const char *vsock_path; /* NULL: no vsock device */
	uint64_t cid;           /* 0: VIRTIO_DEFAULT_CID */
};

/* "--disk PATH[,ro|,rw]"; 0 or -1 with err. */
int virtio_opts_add_disk(struct virtio_opts *o, const char *arg, struct vm_err *err);
/* "--cid N", N in 3..2^32-2; 0 or -1 with err. */
int virtio_opts_set_cid(struct virtio_opts *o, const char *arg, struct vm_err *err);

struct virtio_devices {
	struct virtio_blk *blk[VIRTIO_MAX_DISKS];
	int nblk;
	struct virtio_rng *rng;
	struct virtio_vsock *vsock;
};

/* Create every device o asks for (and rng); on error frees what it made. */
int virtio_devices_attach(struct vm *vm, const struct virtio_opts *o, struct virtio_devices *d,
			  struct vm_err *err);
void virtio_devices_free(struct vm *vm, struct virtio_devices *d);
/* Per-device notification/interrupt counters on stderr (--stats). */
void virtio_devices_stats(const struct virtio_devices *d);

/* Every device's transport, queues and own state on stderr (SIGUSR2). */
void virtio_devices_dump(const struct virtio_devices *d);

/* The same counters summed by kind, for differences around one exec. */
enum { VIRTIO_KIND_BLK, VIRTIO_KIND_RNG, VIRTIO_KIND_VSOCK, VIRTIO_KINDS };
struct virtio_counts {
	uint64_t notify[VIRTIO_KINDS], irq[VIRTIO_KINDS];
};
void virtio_devices_counts(const struct virtio_devices *d, struct virtio_counts *c);

#endif

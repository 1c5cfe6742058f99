/* rng.h - virtio-rng (device id 4): entropy for the guest from getrandom().
 *
 * One queue of device-writable buffers; each is filled with random bytes
 * (at most RNG_MAX_PER_REQUEST per chain, so a huge buffer cannot stall the
 * device thread). virtio_rng_create() (attach.c) puts one on a VM.
 */
#ifndef SM_VIRTIO_RNG_H
#define SM_VIRTIO_RNG_H

#include "daemon/vm/virtio/mmio.h"

#define VIRTIO_ID_RNG 4
#define RNG_QUEUE_SIZE 64
#define RNG_MAX_PER_REQUEST 4096

struct virtio_rng {
	struct virtio_mmio t;
	struct vq_chain chain;
	uint64_t bytes; /* handed to the guest so far */
};

extern const struct virtio_dev_ops virtio_rng_ops;
void virtio_rng_init(struct virtio_rng *dev, const struct guest_mem *mem);

/* Snapshots (rng_persist.c), with dev->t.lock held. Section "VRNG": the
 * transport and the byte counter; restore leaves dev unchanged on failure. */
struct snap_writer;
struct snap_reader;
void virtio_rng_save(const struct virtio_rng *dev, struct snap_writer *w);
bool virtio_rng_restore(struct virtio_rng *dev, struct snap_reader *r);

#endif

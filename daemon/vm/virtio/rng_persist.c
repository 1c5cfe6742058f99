/* rng_persist.c - save and restore a virtio-rng device (snapshots).
 *
 * Section "VRNG" version 1: the transport's "VMIO" section, then u64 the
 * bytes handed to the guest so far. Between requests the device holds
 * nothing else.
 */
#include "daemon/vm/snapshot/snap_buf.h"
#include "daemon/vm/virtio/rng.h"

#define RNG_TAG     SNAP_TAG('V', 'R', 'N', 'G')
#define RNG_VERSION 1

void virtio_rng_save(const struct virtio_rng *dev, struct snap_writer *w)
{
	size_t h = snap_begin(w, RNG_TAG, RNG_VERSION);
	virtio_mmio_save(&dev->t, w);
	snap_put_u64(w, dev->bytes);
	snap_end(w, h);
}

bool virtio_rng_restore(struct virtio_rng *dev, struct snap_reader *r)
{
	struct snap_reader sub;
	struct virtio_mmio_state s;
	uint64_t bytes = 0;
	if (!snap_open(r, RNG_TAG, RNG_VERSION, &sub, NULL))
		return false;
	if (virtio_mmio_load(&dev->t, &sub, &s) && snap_get_u64(&sub, &bytes))
		snap_done(&sub, "VRNG section");
	if (!snap_merge(r, &sub, "virtio-rng"))
		return false;
	virtio_mmio_commit(&dev->t, &s);
	dev->bytes = bytes;
	virtio_mmio_resume(&dev->t);
	return true;
}

/* rng.c - virtio-rng: fill each writable buffer the guest posts from getrandom().
 *
 * A chain with device-readable buffers is a driver bug: the device fails
 * (NEEDS_RESET) rather than guessing. getrandom() without flags only blocks
 * before the host's pool is initialised, which is long past when a VMM runs.
 */
#include "daemon/vm/virtio/rng.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

/* Fill up to RNG_MAX_PER_REQUEST bytes of c's writable part; bytes written. */
static uint32_t fill_chain(const struct vq_chain *c)
{
	uint32_t done = 0;

	for (uint16_t i = c->nread; i < c->nseg && done < RNG_MAX_PER_REQUEST; i++) {
		uint32_t want = c->seg[i].len, got = 0;
		if (want > RNG_MAX_PER_REQUEST - done)
			want = RNG_MAX_PER_REQUEST - done;
		while (got < want) {
			ssize_t r = getrandom(c->seg[i].host + got, want - got, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return done + got;
			got += r;
		}
		done += got;
	}
	return done;
}

static void rng_notify(void *opaque, uint16_t q)
{
	struct virtio_rng *r = opaque;
	struct virtio_mmio *t = &r->t;

	for (int budget = t->vq[0].size; budget > 0; budget--) {
		if (virtio_mmio_pop(t, 0, &r->chain) <= 0)
			return;
		if (r->chain.nread > 0) {
			virtio_mmio_fail(t, "entropy request with a device-readable buffer");
			return;
		}
		uint32_t n = fill_chain(&r->chain);
		r->bytes += n;
		virtio_mmio_push(t, 0, r->chain.head, n);
	}
	virtio_mmio_rekick(t, 0);
}

const struct virtio_dev_ops virtio_rng_ops = {
	.name = "rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.queue_max = RNG_QUEUE_SIZE,
	.notify = rng_notify,
};

void virtio_rng_init(struct virtio_rng *dev, const struct guest_mem *mem)
{
	memset(dev, 0, sizeof(*dev));
	virtio_mmio_init(&dev->t, &virtio_rng_ops, dev, mem, 0);
}

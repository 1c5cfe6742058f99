/* fake_driver.c - see fake_driver.h. */
#include "fake_driver.h"

#define FEATURES_DONE (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
		       VIRTIO_STATUS_FEATURES_OK)

void drv_write(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, true);
}

void drv_negotiate(struct virtio_mmio *t, uint64_t features)
{
	drv_write(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	drv_write(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	drv_write(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	drv_write(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	drv_write(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	drv_write(t, VIRTIO_MMIO_STATUS, FEATURES_DONE);
}

void drv_queue(struct fake_guest *g, struct virtio_mmio *t, uint16_t q, struct fake_ring *r,
	       uint16_t size)
{
	fr_init(g, r, size, NULL);
	drv_write(t, VIRTIO_MMIO_QUEUE_SEL, q);
	drv_write(t, VIRTIO_MMIO_QUEUE_NUM, size);
	drv_write(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc);
	drv_write(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)r->avail);
	drv_write(t, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)r->used);
	drv_write(t, VIRTIO_MMIO_QUEUE_READY, 1);
}

void drv_ok(struct virtio_mmio *t)
{
	drv_write(t, VIRTIO_MMIO_STATUS, FEATURES_DONE | VIRTIO_STATUS_DRIVER_OK);
}

/* fake_driver.h - the guest driver's side of a virtio-mmio register window:
 * the writes that bring a device up (features, queues, DRIVER_OK), for the
 * device tests that need a live device (the *_persist tests). Rings are
 * laid out with fake_guest.h. */
#ifndef SM_TEST_FAKE_DRIVER_H
#define SM_TEST_FAKE_DRIVER_H

#include <stdint.h>

#include "daemon/vm/virtio/mmio.h"
#include "fake_guest.h"

/* A 32-bit register write. */
void drv_write(struct virtio_mmio *t, uint64_t off, uint32_t v);
/* ACKNOWLEDGE | DRIVER, the driver's features (low word, then high),
 * FEATURES_OK. */
void drv_negotiate(struct virtio_mmio *t, uint64_t features);
/* Lays out ring r of size entries in g and makes it queue q, ready. */
void drv_queue(struct fake_guest *g, struct virtio_mmio *t, uint16_t q, struct fake_ring *r,
	       uint16_t size);
/* DRIVER_OK, after FEATURES_OK. */
void drv_ok(struct virtio_mmio *t);

#endif

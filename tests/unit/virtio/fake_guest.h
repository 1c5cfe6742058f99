/* fake_guest.h - a guest driver's side of virtqueues, over a plain buffer.
 *
 * The unit tests play the guest: a malloc'd buffer is guest RAM (one
 * region at guest address FG_RAM_BASE), rings are laid out in it by hand
 * and descriptors written the way a driver would, including the malicious
 * ones. The device code under test reads them through the same
 * guest_mem_ptr() checks it uses in a real VM.
 */
#ifndef SM_TEST_FAKE_GUEST_H
#define SM_TEST_FAKE_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/vm/guest_mem.h"
#include "daemon/vm/virtio/virtqueue.h"

#define FG_RAM_BASE 0x10000ULL
#define FG_RAM_SIZE (4u << 20)

struct fake_guest {
	uint8_t *ram;
	struct guest_mem mem;
	uint64_t next_free; /* bump allocator for buffers (guest address) */
};

struct fake_ring {
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t avail_idx;   /* next avail slot the driver fills */
	uint16_t used_seen;   /* used entries the driver consumed */
	uint16_t next_desc;   /* next free descriptor (simple bump, wraps) */
};

void fg_init(struct fake_guest *g);
void fg_free(struct fake_guest *g);
/* Allocate len bytes of guest RAM (16-aligned); returns the guest address. */
uint64_t fg_alloc(struct fake_guest *g, uint64_t len);
void *fg_host(struct fake_guest *g, uint64_t gpa);

/* Lay out a ring of `size` entries and describe it in vq (device side). */
void fr_init(struct fake_guest *g, struct fake_ring *r, uint16_t size, struct virtqueue *vq);
/* Write descriptor i of a table at table_gpa. */
void fr_set_desc(struct fake_guest *g, uint64_t table_gpa, uint16_t i, uint64_t addr,
		 uint32_t len, uint16_t flags, uint16_t next);
/* Publish head on the avail ring (with a release barrier). */
void fr_publish(struct fake_guest *g, struct fake_ring *r, uint16_t head);
/* Build a direct chain from n buffers (flags per buffer: WRITE or 0) and
 * publish it; returns the head. */
uint16_t fr_add_chain(struct fake_guest *g, struct fake_ring *r, const uint64_t *addr,
		      const uint32_t *len, const uint16_t *flags, int n);
/* Take the next used element; false if none. */
bool fr_get_used(struct fake_guest *g, struct fake_ring *r, uint32_t *id, uint32_t *len);
/* Driver-side fields: avail flags and used_event (event idx). */
void fr_set_avail_flags(struct fake_guest *g, struct fake_ring *r, uint16_t flags);
void fr_set_used_event(struct fake_guest *g, struct fake_ring *r, uint16_t v);
uint16_t fr_avail_event(struct fake_guest *g, struct fake_ring *r);

#endif

/* fake_guest.c - see fake_guest.h. */
#include "fake_guest.h"

#include <stdlib.h>
#include <string.h>

void fg_init(struct fake_guest *g)
{
	memset(g, 0, sizeof(*g));
	g->ram = calloc(1, FG_RAM_SIZE);
	g->mem.region[0] = (struct guest_mem_region){ FG_RAM_BASE, FG_RAM_SIZE, g->ram };
	g->mem.nregions = 1;
	g->mem.total = FG_RAM_SIZE;
	g->next_free = FG_RAM_BASE + 4096;
}

void fg_free(struct fake_guest *g)
{
	free(g->ram);
}

uint64_t fg_alloc(struct fake_guest *g, uint64_t len)
{
	uint64_t a = g->next_free;
	g->next_free = (a + len + 15) & ~15ULL;
	if (g->next_free > FG_RAM_BASE + FG_RAM_SIZE)
		abort();
	return a;
}

void *fg_host(struct fake_guest *g, uint64_t gpa)
{
	return g->ram + (gpa - FG_RAM_BASE);
}

void fr_init(struct fake_guest *g, struct fake_ring *r, uint16_t size, struct virtqueue *vq)
{
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->desc = fg_alloc(g, 16ULL * size);
	r->avail = fg_alloc(g, 6 + 2ULL * size);
	r->used = fg_alloc(g, 6 + 8ULL * size);
	if (vq) {
		vq_reset(vq, size);
		vq->desc_gpa = r->desc;
		vq->avail_gpa = r->avail;
		vq->used_gpa = r->used;
		vq->ready = true;
	}
}

void fr_set_desc(struct fake_guest *g, uint64_t table_gpa, uint16_t i, uint64_t addr,
		 uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };
	memcpy(fg_host(g, table_gpa + 16ULL * i), &d, sizeof(d));
}

void fr_publish(struct fake_guest *g, struct fake_ring *r, uint16_t head)
{
	uint8_t *avail = fg_host(g, r->avail);
	memcpy(avail + 4 + 2 * (r->avail_idx % r->size), &head, 2);
	r->avail_idx++;
	__atomic_store_n((uint16_t *)(avail + 2), r->avail_idx, __ATOMIC_RELEASE);
}

uint16_t fr_add_chain(struct fake_guest *g, struct fake_ring *r, const uint64_t *addr,
		      const uint32_t *len, const uint16_t *flags, int n)
{
	uint16_t head = r->next_desc % r->size;
	for (int i = 0; i < n; i++) {
		uint16_t d = (r->next_desc + i) % r->size;
		uint16_t next = (d + 1) % r->size;
		fr_set_desc(g, r->desc, d, addr[i], len[i],
			    flags[i] | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0), next);
	}
	r->next_desc += n;
	fr_publish(g, r, head);
	return head;
}

bool fr_get_used(struct fake_guest *g, struct fake_ring *r, uint32_t *id, uint32_t *len)
{
	uint8_t *used = fg_host(g, r->used);
	uint16_t idx = __atomic_load_n((uint16_t *)(used + 2), __ATOMIC_ACQUIRE);
	if (idx == r->used_seen)
		return false;
	struct virtq_used_elem e;
	memcpy(&e, used + 4 + 8 * (r->used_seen % r->size), sizeof(e));
	r->used_seen++;
	*id = e.id;
	*len = e.len;
	return true;
}

void fr_set_avail_flags(struct fake_guest *g, struct fake_ring *r, uint16_t flags)
{
	memcpy(fg_host(g, r->avail), &flags, 2);
}

void fr_set_used_event(struct fake_guest *g, struct fake_ring *r, uint16_t v)
{
	memcpy((uint8_t *)fg_host(g, r->avail) + 4 + 2 * r->size, &v, 2);
}

uint16_t fr_avail_event(struct fake_guest *g, struct fake_ring *r)
{
	uint16_t v;
	memcpy(&v, (uint8_t *)fg_host(g, r->used) + 4 + 8 * r->size, 2);
	return v;
}

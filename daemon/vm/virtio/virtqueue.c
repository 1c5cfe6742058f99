/* virtqueue.c - split virtqueue walking with every guest value checked.
 *
 * See virtqueue.h for the rules. Ring layout (virtio 1.x 2.7):
 *   desc:  size * {u64 addr, u32 len, u16 flags, u16 next}
 *   avail: u16 flags, u16 idx, u16 ring[size], u16 used_event
 *   used:  u16 flags, u16 idx, {u32 id, u32 len}[size], u16 avail_event
 * Ring indexes are free-running u16 counters; entries are taken mod size.
 * The guest may change ring memory at any time, so each guest value is read
 * once into a local and checked there, never re-read after the check.
 */
#include "daemon/vm/virtio/virtqueue.h"

#include <string.h>

const char *vq_err_str(enum vq_err e)
{
	switch (e) {
	case VQ_OK: return "ok";
	case VQ_ERR_RING: return "ring size or address invalid";
	case VQ_ERR_AVAIL_IDX: return "avail index ahead by more than the queue size";
	case VQ_ERR_INDEX: return "descriptor index out of range";
	case VQ_ERR_LOOP: return "descriptor loop";
	case VQ_ERR_TOO_LONG: return "descriptor chain longer than the queue";
	case VQ_ERR_ADDR: return "buffer outside guest RAM";
	case VQ_ERR_ORDER: return "device-readable buffer after a writable one";
	case VQ_ERR_INDIRECT: return "invalid indirect descriptor table";
	}
	return "unknown virtqueue error";
}

static uint64_t avail_bytes(uint16_t size) { return 6 + 2ULL * size; }
static uint64_t used_bytes(uint16_t size) { return 6 + 8ULL * size; }

void vq_reset(struct virtqueue *vq, uint16_t max_size)
{
	memset(vq, 0, sizeof(*vq));
	vq->size = max_size;
}

enum vq_err vq_validate(const struct virtqueue *vq, const struct guest_mem *m)
{
	uint16_t n = vq->size;

	if (n == 0 || n > VQ_MAX_SIZE || (n & (n - 1)))
		return VQ_ERR_RING;
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return VQ_ERR_RING;
	if (!guest_mem_ptr(m, vq->desc_gpa, 16ULL * n) ||
	    !guest_mem_ptr(m, vq->avail_gpa, avail_bytes(n)) ||
	    !guest_mem_ptr(m, vq->used_gpa, used_bytes(n)))
		return VQ_ERR_RING;
	return VQ_OK;
}

static uint8_t *avail_ring(const struct virtqueue *vq, const struct guest_mem *m)
{
	return guest_mem_ptr(m, vq->avail_gpa, avail_bytes(vq->size));
}

static uint8_t *used_ring(const struct virtqueue *vq, const struct guest_mem *m)
{
	return guest_mem_ptr(m, vq->used_gpa, used_bytes(vq->size));
}

static uint16_t load16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static void store16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

/* Walk state: which table we are in and which entries we have seen. */
struct walk {
	uint64_t table;
	uint32_t tsize;
	bool indirect;
	uint8_t seen[VQ_MAX_SIZE / 8];
};

static enum vq_err read_desc(const struct guest_mem *m, struct walk *w, uint32_t i,
			     struct virtq_desc *d)
{
	if (i >= w->tsize)
		return VQ_ERR_INDEX;
	if (w->seen[i / 8] & (1u << (i % 8)))
		return VQ_ERR_LOOP;
	w->seen[i / 8] |= 1u << (i % 8);
	const void *p = guest_mem_ptr(m, w->table + 16ULL * i, 16);
	if (!p)
		return VQ_ERR_ADDR;
	memcpy(d, p, sizeof(*d));
	return VQ_OK;
}

/* Switch the walk into the indirect table d points at (only from the head). */
static enum vq_err enter_indirect(const struct virtqueue *vq, const struct guest_mem *m,
				  struct walk *w, const struct virtq_desc *d, bool is_head)
{
	if (!vq->indirect || w->indirect || !is_head || (d->flags & VIRTQ_DESC_F_NEXT))
		return VQ_ERR_INDIRECT;
	if (d->len == 0 || d->len % 16 || d->len / 16 > VQ_MAX_SIZE)
		return VQ_ERR_INDIRECT;
	if (!guest_mem_ptr(m, d->addr, d->len))
		return VQ_ERR_ADDR;
	w->table = d->addr;
	w->tsize = d->len / 16;
	w->indirect = true;
	memset(w->seen, 0, sizeof(w->seen));
	return VQ_OK;
}

static enum vq_err add_seg(const struct virtqueue *vq, const struct guest_mem *m,
			   struct vq_chain *c, const struct virtq_desc *d)
{
	if (c->nseg >= vq->size)
		return VQ_ERR_TOO_LONG;
	uint8_t *host = guest_mem_ptr(m, d->addr, d->len);
	if (!host)
		return VQ_ERR_ADDR;
	bool wr = d->flags & VIRTQ_DESC_F_WRITE;
	if (!wr && c->nseg > c->nread)
		return VQ_ERR_ORDER;
	c->seg[c->nseg++] = (struct vq_seg){ d->addr, d->len, wr, host };
	if (wr) {
		c->write_len += d->len;
	} else {
		c->nread++;
		c->read_len += d->len;
	}
	return VQ_OK;
}

static enum vq_err walk_chain(const struct virtqueue *vq, const struct guest_mem *m,
			      uint16_t head, struct vq_chain *c)
{
	struct walk w = { .table = vq->desc_gpa, .tsize = vq->size };
	struct virtq_desc d;
	uint32_t i = head;
	enum vq_err e;

	c->head = head;
	c->nseg = c->nread = 0;
	c->read_len = c->write_len = 0;
	for (bool first = true;; first = false) {
		if ((e = read_desc(m, &w, i, &d)))
			return e;
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if ((e = enter_indirect(vq, m, &w, &d, first)))
				return e;
			i = 0;
			continue;
		}
		if ((e = add_seg(vq, m, c, &d)))
			return e;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return VQ_OK;
		i = d.next;
	}
}

bool vq_has_avail(const struct virtqueue *vq, const struct guest_mem *m)
{
	const uint8_t *avail = avail_ring(vq, m);
	return avail && load16(avail + 2) != vq->last_avail;
}

bool vq_has_avail_arm(struct virtqueue *vq, const struct guest_mem *m)
{
	uint8_t *used = used_ring(vq, m);
	if (vq->event_idx && used && !vq_has_avail(vq, m)) {
		store16(used + 4 + 8 * vq->size, vq->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return vq_has_avail(vq, m);
}

int vq_watch_avail(struct virtqueue *vq, const struct guest_mem *m)
{
	uint8_t *avail = avail_ring(vq, m), *used = used_ring(vq, m);
	if (!avail || !used)
		return -1;
	uint16_t idx = load16(avail + 2);
	if (vq->event_idx) {
		store16(used + 4 + 8 * vq->size, idx);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return idx;
}

int vq_avail_idx(const struct virtqueue *vq, const struct guest_mem *m)
{
	const uint8_t *avail = avail_ring(vq, m);
	return avail ? load16(avail + 2) : -1;
}

int vq_pop(struct virtqueue *vq, const struct guest_mem *m, struct vq_chain *c)
{
	uint8_t *avail = avail_ring(vq, m), *used = used_ring(vq, m);

	if (!vq->ready || !avail || !used)
		return -VQ_ERR_RING;
	if (vq->event_idx) {
		/* avail_event: kick us once the driver publishes past last_avail.
		 * Store, then fence, then read idx, so a chain published between
		 * our read and the driver's read of avail_event is never missed. */
		store16(used + 4 + 8 * vq->size, vq->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	uint16_t pending = (uint16_t)(load16(avail + 2) - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return -VQ_ERR_AVAIL_IDX;
	uint16_t head;
	memcpy(&head, avail + 4 + 2 * (vq->last_avail % vq->size), 2);
	enum vq_err e = walk_chain(vq, m, head, c);
	if (e)
		return -(int)e;
	vq->last_avail++;
	return 1;
}

void vq_push_many(struct virtqueue *vq, const struct guest_mem *m, const uint16_t *heads,
		  const uint32_t *written, uint16_t n)
{
	uint8_t *used = used_ring(vq, m);
	if (!used)
		return;
	for (uint16_t i = 0; i < n; i++) {
		struct virtq_used_elem e = { heads[i], written[i] };
		memcpy(used + 4 + 8 * ((uint16_t)(vq->used_idx + i) % vq->size), &e, sizeof(e));
	}
	vq->used_idx += n;
	store16(used + 2, vq->used_idx); /* release: elements visible before idx */
}

void vq_push(struct virtqueue *vq, const struct guest_mem *m, uint16_t head, uint32_t written)
{
	vq_push_many(vq, m, &head, &written, 1);
}

bool vq_should_interrupt(struct virtqueue *vq, const struct guest_mem *m)
{
	const uint8_t *avail = avail_ring(vq, m);
	if (!avail)
		return false;
	/* Our used idx store must be visible before we read the driver's wish. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(load16(avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	uint16_t new_idx = vq->used_idx, old = vq->signalled_used;
	bool valid = vq->signalled_valid;
	vq->signalled_used = new_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	uint16_t used_event = load16(avail + 4 + 2 * vq->size);
	return (uint16_t)(new_idx - used_event - 1) < (uint16_t)(new_idx - old);
}

void vq_guest_view(const struct virtqueue *vq, const struct guest_mem *m,
		   struct vq_guest_view *v)
{
	const uint8_t *avail = avail_ring(vq, m), *used = used_ring(vq, m);
	memset(v, 0, sizeof(*v));
	if (!vq->ready || !avail || !used)
		return;
	v->mapped = true;
	v->avail_flags = load16(avail);
	v->avail_idx = load16(avail + 2);
	v->used_event = load16(avail + 4 + 2 * vq->size);
	v->used_idx = load16(used + 2);
	v->avail_event = load16(used + 4 + 8 * vq->size);
}

/* Walk the readable or writable segments from byte offset off. */
static size_t chain_copy(const struct vq_chain *c, bool writable, uint64_t off,
			 uint8_t *buf, size_t len, bool to_guest)
{
	size_t done = 0;
	uint16_t i = writable ? c->nread : 0, end = writable ? c->nseg : c->nread;

	for (; i < end && done < len; i++) {
		const struct vq_seg *s = &c->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		size_t n = s->len - off;
		if (n > len - done)
			n = len - done;
		if (to_guest)
			memcpy(s->host + off, buf + done, n);
		else
			memcpy(buf + done, s->host + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t vq_chain_read(const struct vq_chain *c, uint64_t off, void *buf, size_t len)
{
	return chain_copy(c, false, off, buf, len, false);
}

size_t vq_chain_write(const struct vq_chain *c, uint64_t off, const void *buf, size_t len)
{
	return chain_copy(c, true, off, (uint8_t *)buf, len, true);
}

int vq_chain_iov(const struct vq_chain *c, bool writable, uint64_t off, uint64_t len,
		 struct iovec *iov, int max)
{
	int n = 0;
	uint16_t i = writable ? c->nread : 0, end = writable ? c->nseg : c->nread;

	for (; i < end && len > 0 && n < max; i++) {
		const struct vq_seg *s = &c->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		uint64_t take = s->len - off;
		if (take > len)
			take = len;
		iov[n++] = (struct iovec){ s->host + off, take };
		len -= take;
		off = 0;
	}
	return n;
}

/* mmio_persist.c - save and restore a virtio-mmio transport (snapshots).
 *
 * Section "VMIO" version 1:
 *   u32 device id, u16 queue count, u64 offered features,
 *   u32 status, bool needs_reset, str fail_reason,
 *   u32 DeviceFeaturesSel, DriverFeaturesSel, QueueSel, SHMSel,
 *   u64 driver features, u32 InterruptStatus, u32 ConfigGeneration,
 *   then per queue: u16 size, bool ready, event_idx, indirect,
 *   u64 desc, avail, used (guest addresses), u16 last_avail, used_idx,
 *   signalled_used, bool signalled_valid.
 *
 * Restore loads into a transport attach just built for the same device and
 * accepts the states the live transport (mmio.c) can reach, nothing else:
 *  - same device id, queue count and offered features;
 *  - status never carries NEEDS_RESET (needs_reset holds it); FEATURES_OK
 *    means the driver's features were accepted (offered ones, VERSION_1);
 *    DRIVER_OK without FEATURES_OK only on a device that needs reset;
 *  - InterruptStatus holds only the used-ring and config bits;
 *  - a ready queue has a power-of-two size <= the device's QueueNumMax and
 *    rings inside guest RAM (vq_validate), as QueueReady=1 required.
 * Left as saved, because the guest may legitimately write any value there
 * and every use is checked: the selectors (out of range reads as 0), the
 * unknown status bits, a queue's size and addresses while it is not ready
 * (checked when it becomes ready), driver features before FEATURES_OK, and
 * the ring indexes: vq_pop() compares the guest's avail idx with last_avail
 * on every pop (a gap beyond the queue size is NEEDS_RESET) and ring slots
 * are taken modulo the size, so no index reaches outside the rings.
 */
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>

#include "daemon/vm/snapshot/snap_buf.h"
#include "daemon/vm/virtio/mmio.h"

#define MMIO_TAG     SNAP_TAG('V', 'M', 'I', 'O')
#define MMIO_VERSION 1

#define KNOWN_INTERRUPTS (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG)

static void save_vq(const struct virtqueue *vq, struct snap_writer *w)
{
	snap_put_u16(w, vq->size);
	snap_put_bool(w, vq->ready);
	snap_put_bool(w, vq->event_idx);
	snap_put_bool(w, vq->indirect);
	snap_put_u64(w, vq->desc_gpa);
	snap_put_u64(w, vq->avail_gpa);
	snap_put_u64(w, vq->used_gpa);
	snap_put_u16(w, vq->last_avail);
	snap_put_u16(w, vq->used_idx);
	snap_put_u16(w, vq->signalled_used);
	snap_put_bool(w, vq->signalled_valid);
}

void virtio_mmio_save(const struct virtio_mmio *t, struct snap_writer *w)
{
	size_t h = snap_begin(w, MMIO_TAG, MMIO_VERSION);
	snap_put_u32(w, t->ops->device_id);
	snap_put_u16(w, t->ops->num_queues);
	snap_put_u64(w, t->device_features);
	snap_put_u32(w, t->status);
	snap_put_bool(w, t->needs_reset);
	snap_put_str(w, t->fail_reason);
	snap_put_u32(w, t->dev_features_sel);
	snap_put_u32(w, t->drv_features_sel);
	snap_put_u32(w, t->queue_sel);
	snap_put_u32(w, t->shm_sel);
	snap_put_u64(w, t->driver_features);
	snap_put_u32(w, t->interrupt_status);
	snap_put_u32(w, t->config_generation);
	for (uint16_t q = 0; q < t->ops->num_queues; q++)
		save_vq(&t->vq[q], w);
	snap_end(w, h);
}

static bool load_vq(struct snap_reader *r, struct virtqueue *vq)
{
	return snap_get_u16(r, &vq->size) && snap_get_bool(r, &vq->ready) &&
	       snap_get_bool(r, &vq->event_idx) && snap_get_bool(r, &vq->indirect) &&
	       snap_get_u64(r, &vq->desc_gpa) && snap_get_u64(r, &vq->avail_gpa) &&
	       snap_get_u64(r, &vq->used_gpa) && snap_get_u16(r, &vq->last_avail) &&
	       snap_get_u16(r, &vq->used_idx) && snap_get_u16(r, &vq->signalled_used) &&
	       snap_get_bool(r, &vq->signalled_valid);
}

static bool load_regs(struct snap_reader *r, struct virtio_mmio_state *s)
{
	return snap_get_u32(r, &s->status) && snap_get_bool(r, &s->needs_reset) &&
	       snap_get_str(r, s->fail_reason, sizeof(s->fail_reason)) &&
	       snap_get_u32(r, &s->dev_features_sel) && snap_get_u32(r, &s->drv_features_sel) &&
	       snap_get_u32(r, &s->queue_sel) && snap_get_u32(r, &s->shm_sel) &&
	       snap_get_u64(r, &s->driver_features) && snap_get_u32(r, &s->interrupt_status) &&
	       snap_get_u32(r, &s->config_generation);
}

/* The saved device must be the one t is: id, queue count, offered features. */
static bool check_identity(const struct virtio_mmio *t, struct snap_reader *r)
{
	uint32_t id;
	uint16_t nq;
	uint64_t features;
	if (!snap_get_u32(r, &id) || !snap_get_u16(r, &nq) || !snap_get_u64(r, &features))
		return false;
	if (id != t->ops->device_id)
		return snap_fail(r, "saved from virtio device id %u, loading into %u (%s)", id,
				 t->ops->device_id, t->ops->name);
	if (nq != t->ops->num_queues)
		return snap_fail(r, "saved with %u queues, this device has %u", nq,
				 t->ops->num_queues);
	if (features != t->device_features)
		return snap_fail(r, "saved offering features %#llx, this device offers %#llx",
				 (unsigned long long)features,
				 (unsigned long long)t->device_features);
	return true;
}

static bool check_status(const struct virtio_mmio *t, const struct virtio_mmio_state *s,
			 struct snap_reader *r)
{
	uint64_t extra = s->driver_features & ~t->device_features;
	if (s->status & VIRTIO_STATUS_NEEDS_RESET)
		return snap_fail(r, "status %#x carries NEEDS_RESET", s->status);
	if (s->interrupt_status & ~KNOWN_INTERRUPTS)
		return snap_fail(r, "InterruptStatus %#x has unknown bits", s->interrupt_status);
	if (!(s->status & VIRTIO_STATUS_FEATURES_OK)) {
		if ((s->status & VIRTIO_STATUS_DRIVER_OK) && !s->needs_reset)
			return snap_fail(r, "status %#x: DRIVER_OK without FEATURES_OK on a "
					 "working device", s->status);
		return true;
	}
	if (extra)
		return snap_fail(r, "driver features %#llx include %#llx, which were not offered",
				 (unsigned long long)s->driver_features, (unsigned long long)extra);
	if (!((s->driver_features >> VIRTIO_F_VERSION_1) & 1))
		return snap_fail(r, "FEATURES_OK without VERSION_1 (driver features %#llx)",
				 (unsigned long long)s->driver_features);
	return true;
}

/* A ready queue passed set_queue_ready()'s checks; it must pass them again. */
static bool check_vq(const struct virtio_mmio *t, uint16_t q, const struct virtqueue *vq,
		     struct snap_reader *r)
{
	if (!vq->ready)
		return true;
	uint16_t n = vq->size;
	if (n == 0 || (n & (n - 1)) || n > t->ops->queue_max)
		return snap_fail(r, "queue %u: size %u is not a power of two up to %u", q, n,
				 t->ops->queue_max);
	enum vq_err e = vq_validate(vq, t->mem);
	if (e)
		return snap_fail(r, "queue %u: %s (desc %#llx avail %#llx used %#llx, size %u)", q,
				 vq_err_str(e), (unsigned long long)vq->desc_gpa,
				 (unsigned long long)vq->avail_gpa,
				 (unsigned long long)vq->used_gpa, n);
	return true;
}

static void state_of(const struct virtio_mmio *t, struct virtio_mmio_state *s)
{
	s->status = t->status;
	s->needs_reset = t->needs_reset;
	memcpy(s->fail_reason, t->fail_reason, sizeof(s->fail_reason));
	s->dev_features_sel = t->dev_features_sel;
	s->drv_features_sel = t->drv_features_sel;
	s->queue_sel = t->queue_sel;
	s->shm_sel = t->shm_sel;
	s->driver_features = t->driver_features;
	s->interrupt_status = t->interrupt_status;
	s->config_generation = t->config_generation;
	for (int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		s->vq[q] = t->vq[q];
}

static bool load_body(const struct virtio_mmio *t, struct snap_reader *r,
		      struct virtio_mmio_state *s)
{
	if (!check_identity(t, r) || !load_regs(r, s) || !check_status(t, s, r))
		return false;
	for (uint16_t q = 0; q < t->ops->num_queues; q++)
		if (!load_vq(r, &s->vq[q]) || !check_vq(t, q, &s->vq[q], r))
			return false;
	return snap_done(r, "VMIO section");
}

bool virtio_mmio_load(const struct virtio_mmio *t, struct snap_reader *r,
		      struct virtio_mmio_state *s)
{
	struct snap_reader sub;
	state_of(t, s); /* queues past num_queues keep their reset state */
	if (!snap_open(r, MMIO_TAG, MMIO_VERSION, &sub, NULL))
		return false;
	load_body(t, &sub, s);
	return snap_merge(r, &sub, "transport");
}

void virtio_mmio_commit(struct virtio_mmio *t, const struct virtio_mmio_state *s)
{
	t->status = s->status;
	t->needs_reset = s->needs_reset;
	memcpy(t->fail_reason, s->fail_reason, sizeof(t->fail_reason));
	t->dev_features_sel = s->dev_features_sel;
	t->drv_features_sel = s->drv_features_sel;
	t->queue_sel = s->queue_sel;
	t->shm_sel = s->shm_sel;
	t->driver_features = s->driver_features;
	t->interrupt_status = s->interrupt_status;
	t->config_generation = s->config_generation;
	for (int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		t->vq[q] = s->vq[q];
	t->irq_pending_since_ns = s->interrupt_status ? virtio_mmio_now_ns() : 0;
}

void virtio_mmio_resume(struct virtio_mmio *t)
{
	bool live = (t->status & VIRTIO_STATUS_DRIVER_OK) && !t->needs_reset;
	if (live && t->ops->activate && t->ops->activate(t->dev))
		virtio_mmio_fail(t, "device could not start after restore");
	if (t->interrupt_status && t->irqfd >= 0)
		eventfd_write(t->irqfd, 1);
	for (uint16_t q = 0; q < t->ops->num_queues; q++)
		if (t->kickfd[q] >= 0 && virtio_mmio_queue_live(t, q))
			eventfd_write(t->kickfd[q], 1);
}

bool virtio_mmio_restore(struct virtio_mmio *t, struct snap_reader *r)
{
	struct virtio_mmio_state s;
	if (!virtio_mmio_load(t, r, &s))
		return false;
	virtio_mmio_commit(t, &s);
	virtio_mmio_resume(t);
	return true;
}

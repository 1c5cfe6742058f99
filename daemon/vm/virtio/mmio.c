/* mmio.c - virtio-mmio register file, feature negotiation and status machine.
 *
 * Threading model (see mmio.h): all devices are served by ONE device thread,
 * the VMM's epoll loop (event_loop.h): it reads the per-queue ioeventfds and
 * the devices' host file descriptors. Register accesses come from vCPU
 * threads. Every entry point takes t->lock; device callbacks run under it.
 *
 * Status machine: 0 -> ACKNOWLEDGE -> DRIVER -> (features) -> FEATURES_OK
 * (refused, i.e. not latched, if the driver asked for bits we did not offer
 * or left out VERSION_1) -> queues set up -> DRIVER_OK (device activated).
 * Writing 0 resets everything. A guest that breaks a rule puts the device
 * in NEEDS_RESET: queues are no longer served until the driver resets it.
 */
#include "daemon/vm/virtio/mmio.h"

#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

#define TRANSPORT_FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_EVENT_IDX) | \
			    (1ULL << VIRTIO_F_INDIRECT_DESC))

static void reset_state(struct virtio_mmio *t)
{
	t->status = 0;
	t->needs_reset = false;
	t->fail_reason[0] = 0;
	t->dev_features_sel = t->drv_features_sel = t->queue_sel = t->shm_sel = 0;
	t->driver_features = 0;
	t->interrupt_status = 0;
	t->irq_pending_since_ns = 0;
	for (int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		vq_reset(&t->vq[q], t->ops->queue_max);
}

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *dev,
		      const struct guest_mem *mem, uint64_t device_features)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->ops = ops;
	t->dev = dev;
	t->mem = mem;
	t->device_features = device_features | TRANSPORT_FEATURES;
	t->irqfd = -1;
	for (int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		t->kickfd[q] = -1;
	reset_state(t);
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	pthread_mutex_destroy(&t->lock);
}

void virtio_mmio_counts(struct virtio_mmio *t, uint64_t *notify, uint64_t *irq)
{
	pthread_mutex_lock(&t->lock);
	*notify = t->n_notify;
	*irq = t->n_irq;
	pthread_mutex_unlock(&t->lock);
}

bool virtio_mmio_has_feature(const struct virtio_mmio *t, unsigned bit)
{
	return (t->driver_features >> bit) & 1;
}

int64_t virtio_mmio_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void raise_irq(struct virtio_mmio *t, uint32_t bits)
{
	if (!t->interrupt_status)
		t->irq_pending_since_ns = virtio_mmio_now_ns();
	t->interrupt_status |= bits;
	t->n_irq++;
	if (t->irqfd >= 0)
		eventfd_write(t->irqfd, 1);
}

void virtio_mmio_fail(struct virtio_mmio *t, const char *why)
{
	if (t->needs_reset)
		return;
	t->needs_reset = true;
	snprintf(t->fail_reason, sizeof(t->fail_reason), "%s", why);
	fprintf(stderr, "virtio-%s: device needs reset: %s\n", t->ops->name, why);
	raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

bool virtio_mmio_queue_live(const struct virtio_mmio *t, uint16_t q)
{
	return (t->status & VIRTIO_STATUS_DRIVER_OK) && !t->needs_reset &&
	       q < t->ops->num_queues && t->vq[q].ready;
}

int virtio_mmio_pop(struct virtio_mmio *t, uint16_t q, struct vq_chain *c)
{
	if (!virtio_mmio_queue_live(t, q))
		return 0;
	int r = vq_pop(&t->vq[q], t->mem, c);
	if (r < 0) {
		char why[80];
		snprintf(why, sizeof(why), "queue %u: %s", q, vq_err_str((enum vq_err)-r));
		virtio_mmio_fail(t, why);
		return -1;
	}
	return r;
}

void virtio_mmio_push_many(struct virtio_mmio *t, uint16_t q, const uint16_t *heads,
			   const uint32_t *written, uint16_t n)
{
	struct virtqueue *vq = &t->vq[q];
	vq_push_many(vq, t->mem, heads, written, n);
	if (vq_should_interrupt(vq, t->mem))
		raise_irq(t, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_push(struct virtio_mmio *t, uint16_t q, uint16_t head, uint32_t written)
{
	virtio_mmio_push_many(t, q, &head, &written, 1);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	t->config_generation++;
	if ((t->status & VIRTIO_STATUS_DRIVER_OK) && !t->needs_reset)
		raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_rekick(struct virtio_mmio *t, uint16_t q)
{
	if (t->kickfd[q] >= 0 && virtio_mmio_queue_live(t, q) && vq_has_avail(&t->vq[q], t->mem))
		eventfd_write(t->kickfd[q], 1);
}

static void kick_locked(struct virtio_mmio *t, uint16_t q)
{
	t->n_notify++;
	if (virtio_mmio_queue_live(t, q))
		t->ops->notify(t->dev, q);
}

void virtio_mmio_kick(struct virtio_mmio *t, uint16_t q)
{
	pthread_mutex_lock(&t->lock);
	kick_locked(t, q);
	pthread_mutex_unlock(&t->lock);
}

static struct virtqueue *selected_vq(struct virtio_mmio *t)
{
	return t->queue_sel < t->ops->num_queues ? &t->vq[t->queue_sel] : NULL;
}

static void apply_ring_features(struct virtio_mmio *t, struct virtqueue *vq)
{
	vq->event_idx = virtio_mmio_has_feature(t, VIRTIO_F_EVENT_IDX);
	vq->indirect = virtio_mmio_has_feature(t, VIRTIO_F_INDIRECT_DESC);
}

static void set_queue_ready(struct virtio_mmio *t, struct virtqueue *vq, uint32_t v)
{
	if (!v) {
		vq->ready = false;
		return;
	}
	if (vq->ready)
		return;
	enum vq_err e = vq_validate(vq, t->mem);
	if (!e && vq->size > t->ops->queue_max)
		e = VQ_ERR_RING;
	if (e) {
		char why[80];
		snprintf(why, sizeof(why), "queue %u: %s", t->queue_sel, vq_err_str(e));
		virtio_mmio_fail(t, why);
		return;
	}
	apply_ring_features(t, vq);
	vq->last_avail = vq->used_idx = 0;
	vq->signalled_valid = false;
	vq->ready = true;
}

static bool features_acceptable(const struct virtio_mmio *t)
{
	return !(t->driver_features & ~t->device_features) &&
	       virtio_mmio_has_feature(t, VIRTIO_F_VERSION_1);
}

static void reset_device(struct virtio_mmio *t)
{
	if (t->ops->reset)
		t->ops->reset(t->dev);
	reset_state(t);
}

static void set_status(struct virtio_mmio *t, uint32_t v)
{
	uint32_t old = t->status;

	if (v == 0) {
		reset_device(t);
		return;
	}
	v &= ~VIRTIO_STATUS_NEEDS_RESET;
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		if (!features_acceptable(t))
			v &= ~VIRTIO_STATUS_FEATURES_OK; /* driver reads it back: refused */
		else
			for (int q = 0; q < t->ops->num_queues; q++)
				apply_ring_features(t, &t->vq[q]);
	}
	t->status = v;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		if (!(v & VIRTIO_STATUS_FEATURES_OK))
			virtio_mmio_fail(t, "DRIVER_OK without FEATURES_OK");
		else if (t->ops->activate && t->ops->activate(t->dev))
			virtio_mmio_fail(t, "device could not start");
		else /* buffers the driver queued (and kicked) before DRIVER_OK */
			for (uint16_t q = 0; q < t->ops->num_queues; q++)
				if (virtio_mmio_queue_live(t, q))
					t->ops->notify(t->dev, q);
	}
}

static uint32_t half(uint64_t v, uint32_t sel)
{
	return sel == 0 ? (uint32_t)v : sel == 1 ? (uint32_t)(v >> 32) : 0;
}

static void set_half(uint64_t *v, bool high, uint32_t x)
{
	if (high)
		*v = (*v & 0xffffffffULL) | ((uint64_t)x << 32);
	else
		*v = (*v & ~0xffffffffULL) | x;
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct virtqueue *vq = selected_vq(t);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return 2;
	case VIRTIO_MMIO_DEVICE_ID: return t->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES: return half(t->device_features, t->dev_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return vq ? t->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY: return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return t->interrupt_status;
	case VIRTIO_MMIO_STATUS:
		return t->status | (t->needs_reset ? VIRTIO_STATUS_NEEDS_RESET : 0);
	case VIRTIO_MMIO_SHM_LEN_LOW: case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW: case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff; /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION: return t->config_generation;
	}
	return 0;
}

/* Queue layout registers; ignored for a missing or already-live queue. */
static void queue_reg_write(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	struct virtqueue *vq = selected_vq(t);
	if (!vq || vq->ready)
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM: vq->size = v > 0xffff ? 0 : (uint16_t)v; break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: set_half(&vq->desc_gpa, false, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: set_half(&vq->desc_gpa, true, v); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW: set_half(&vq->avail_gpa, false, v); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: set_half(&vq->avail_gpa, true, v); break;
	case VIRTIO_MMIO_QUEUE_USED_LOW: set_half(&vq->used_gpa, false, v); break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH: set_half(&vq->used_gpa, true, v); break;
	}
}

static void notify_write(struct virtio_mmio *t, uint32_t q)
{
	if (q >= t->ops->num_queues)
		return;
	if (t->kickfd[q] >= 0)
		eventfd_write(t->kickfd[q], 1); /* the device thread serves it */
	else
		kick_locked(t, (uint16_t)q);
}

static void reg_write(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	bool features_open = (t->status & VIRTIO_STATUS_DRIVER) &&
			     !(t->status & VIRTIO_STATUS_FEATURES_OK);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: t->dev_features_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (features_open && t->drv_features_sel < 2)
			set_half(&t->driver_features, t->drv_features_sel == 1, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: t->drv_features_sel = v; break;
	case VIRTIO_MMIO_QUEUE_SEL: t->queue_sel = v; break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (selected_vq(t))
			set_queue_ready(t, selected_vq(t), v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY: notify_write(t, v); break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		t->interrupt_status &= ~v;
		if (!t->interrupt_status)
			t->irq_pending_since_ns = 0;
		break;
	case VIRTIO_MMIO_STATUS: set_status(t, v); break;
	case VIRTIO_MMIO_SHM_SEL: t->shm_sel = v; break;
	default: queue_reg_write(t, off, v); break;
	}
}

static void config_access(struct virtio_mmio *t, uint64_t off, uint8_t *data, uint32_t len,
			  bool is_write)
{
	bool inside = off < t->ops->config_size && len <= t->ops->config_size - off;

	if (!is_write) {
		memset(data, 0, len);
		if (inside && t->ops->config_read)
			t->ops->config_read(t->dev, (uint32_t)off, data, len);
	} else if (inside && t->ops->config_write) {
		t->ops->config_write(t->dev, (uint32_t)off, data, len);
	}
}

void virtio_mmio_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct virtio_mmio *t = opaque;

	if (len == 0 || len > 8 || off >= VIRTIO_MMIO_WINDOW)
		return;
	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		config_access(t, off - VIRTIO_MMIO_CONFIG, data, len, is_write);
	} else if (len != 4 || (off & 3)) {
		if (!is_write) /* registers are 32-bit only */
			memset(data, 0, len);
	} else if (is_write) {
		uint32_t v;
		memcpy(&v, data, 4);
		reg_write(t, off, v);
	} else {
		uint32_t v = reg_read(t, off);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&t->lock);
}

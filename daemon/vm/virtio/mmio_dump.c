/* mmio_dump.c - a transport's state on stderr (virtio_mmio_dump in mmio.h).
 *
 * Used by the VMM's SIGUSR2 dump (debug_dump.c). Each queue is shown as we
 * keep it (last_avail, used_idx) next to the ring fields in guest memory:
 *   avail.idx != last_avail         chains we have not taken (a lost kick?)
 *   used.idx  != used_event + 1 ... the driver has not caught up with our
 *                                   used entries (a lost interrupt?)
 *   int_status != 0                 an interrupt the guest has not acked
 *                                   (for how long: irq_pending_since_ns)
 */
#include "daemon/vm/virtio/mmio.h"

#include <stdio.h>
#include <time.h>

/* A guest takes an interrupt in microseconds; one left unacked this long
 * means its vCPU stopped taking interrupts (seen with the emulated KVM
 * host's nested SVM; script/test looks for this line). */
#define VIRTIO_IRQ_NOT_TAKEN_MS 5000

static void dump_queue(const struct virtio_mmio *t, uint16_t q)
{
	const struct virtqueue *vq = &t->vq[q];
	struct vq_guest_view g;
	vq_guest_view(vq, t->mem, &g);
	if (!g.mapped) {
		fprintf(stderr, "dump:   q%u: not ready\n", q);
		return;
	}
	fprintf(stderr, "dump:   q%u: size=%u last_avail=%u avail.idx=%u avail.flags=%#x "
		"used_idx=%u used.idx=%u used_event=%u avail_event=%u signalled=%u%s\n",
		q, vq->size, vq->last_avail, g.avail_idx, g.avail_flags, vq->used_idx, g.used_idx,
		g.used_event, g.avail_event, vq->signalled_used, vq->event_idx ? " event_idx" : "");
}

void virtio_mmio_dump(struct virtio_mmio *t, const char *what)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	int locked = pthread_mutex_timedlock(&t->lock, &until) == 0;
	fprintf(stderr, "dump: virtio-%s %s at %#llx gsi %u: status=%#x int_status=%#x "
		"notifications=%llu interrupts=%llu%s%s%s\n", t->ops->name, what,
		(unsigned long long)t->base, t->gsi, t->status, t->interrupt_status,
		(unsigned long long)t->n_notify, (unsigned long long)t->n_irq,
		t->needs_reset ? " needs-reset: " : "", t->needs_reset ? t->fail_reason : "",
		locked ? "" : " (lock held by a stuck thread: read unlocked)");
	int64_t pending_ms = t->irq_pending_since_ns ?
		(virtio_mmio_now_ns() - t->irq_pending_since_ns) / 1000000 : 0;
	if (pending_ms >= VIRTIO_IRQ_NOT_TAKEN_MS)
		fprintf(stderr, "dump: virtio-%s: the guest has not taken this device's interrupt "
			"for %lld ms: no vCPU is accepting interrupts\n", t->ops->name,
			(long long)pending_ms);
	for (uint16_t q = 0; q < t->ops->num_queues; q++)
		dump_queue(t, q);
	if (t->ops->dump)
		t->ops->dump(t->dev);
	if (locked)
		pthread_mutex_unlock(&t->lock);
}

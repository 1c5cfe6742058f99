/* mmio_loop.c - serve a transport's queue notifications on the device thread.
 *
 * Each queue's kick eventfd (a KVM_IOEVENTFD on QueueNotify with the queue
 * index as datamatch, or a plain eventfd in tests) is watched by the VMM's
 * event loop; when it fires we drain it and run the device's notify
 * callback under the transport lock (virtio_mmio_kick()).
 */
#include "daemon/vm/virtio/mmio_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void on_kick(void *opaque, uint32_t events)
{
	struct virtio_mmio_kick *k = opaque;
	eventfd_t n;
	if (eventfd_read(k->t->kickfd[k->q], &n) == 0)
		virtio_mmio_kick(k->t, k->q);
}

int virtio_mmio_watch_kicks(struct virtio_mmio *t, struct event_loop *loop, struct vm_err *err)
{
	for (uint16_t q = 0; q < t->ops->num_queues; q++) {
		t->kick[q] = (struct virtio_mmio_kick){ t, q };
		if (t->kickfd[q] < 0)
			continue;
		if (event_loop_add(loop, t->kickfd[q], EPOLLIN, on_kick, &t->kick[q]) < 0)
			return vm_errno(err, "virtio-%s: watch queue %u", t->ops->name, q);
	}
	return 0;
}

void virtio_mmio_close_fds(struct virtio_mmio *t, struct event_loop *loop)
{
	for (int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		if (t->kickfd[q] < 0)
			continue;
		if (loop)
			event_loop_del(loop, t->kickfd[q]);
		close(t->kickfd[q]);
		t->kickfd[q] = -1;
	}
	if (t->irqfd >= 0)
		close(t->irqfd);
	t->irqfd = -1;
}

/* mmio_loop.h - hook a virtio-mmio transport's kick eventfds into the
 * device thread's event loop (see mmio_loop.c). */
#ifndef SM_VIRTIO_MMIO_LOOP_H
#define SM_VIRTIO_MMIO_LOOP_H

#include "daemon/vm/event_loop.h"
#include "daemon/vm/virtio/mmio.h"
#include "daemon/vm/vm_err.h"

/* Event loop cookie: which transport and queue a kick fd belongs to. */
struct virtio_mmio_kick {
	struct virtio_mmio *t;
	uint16_t q;
};

/* Watch t->kickfd[q] (those >= 0) on loop; kick[] must outlive the watch.
 * 0, or -1 with err. */
int virtio_mmio_watch_kicks(struct virtio_mmio *t, struct event_loop *loop,
			    struct virtio_mmio_kick kick[VIRTIO_MMIO_MAX_QUEUES],
			    struct vm_err *err);

#endif

/* mmio_loop.h - hook a virtio-mmio transport's kick eventfds into the
 * device thread's event loop (see mmio_loop.c). */
#ifndef SM_VIRTIO_MMIO_LOOP_H
#define SM_VIRTIO_MMIO_LOOP_H

#include "daemon/vm/event_loop.h"
#include "daemon/vm/virtio/mmio.h"
#include "daemon/vm/vm_err.h"

/* Watch t->kickfd[q] (those >= 0) on loop. 0, or -1 with err. */
int virtio_mmio_watch_kicks(struct virtio_mmio *t, struct event_loop *loop, struct vm_err *err);
/* Stop watching and close the kick fds and the irqfd. */
void virtio_mmio_close_fds(struct virtio_mmio *t, struct event_loop *loop);

#endif

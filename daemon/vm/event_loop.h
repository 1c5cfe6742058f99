/* event_loop.h - the VMM's device thread: one epoll loop for all devices.
 *
 * Virtqueue notifications (ioeventfds), host sockets (vsock), timers and
 * the control channel are all file descriptors registered here with a
 * callback. The loop runs in one thread, so device models driven only from
 * it need no locks against each other.
 */
#ifndef SM_EVENT_LOOP_H
#define SM_EVENT_LOOP_H

#include <stdint.h>

struct event_loop;
typedef void (*event_fn)(void *opaque, uint32_t epoll_events);

struct event_loop *event_loop_new(void);
void event_loop_free(struct event_loop *loop);
/* Watch fd for epoll events; 0 or -1 with errno. */
int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *opaque);
int event_loop_mod(struct event_loop *loop, int fd, uint32_t events);
int event_loop_del(struct event_loop *loop, int fd);
/* Run until event_loop_stop() (from any thread); returns 0 or -1 on error. */
int event_loop_run(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);
/* How many epoll batches the loop has handled (diagnostics: a number that
 * stops moving means the device thread is stuck in a callback). */
uint64_t event_loop_batches(struct event_loop *loop);

#endif

/* event_loop.c - the device thread's epoll loop (see event_loop.h).
 *
 * Each watched fd has a small heap entry {fn, opaque} whose address is the
 * epoll user data. Stopping writes to an eventfd the loop itself watches,
 * so event_loop_stop() works from any thread, including signal-free vCPU
 * threads. Entries removed while a batch of events is being handled are
 * parked on a free list and released after the batch, so a callback may
 * delete its own or another fd safely.
 */
#include "event_loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct watch {
	int fd;
	event_fn fn;
	void *opaque;
	bool dead;
	struct watch *next; /* all watches, for lookup by fd and for freeing */
};

struct event_loop {
	int epfd, stopfd;
	pthread_mutex_t lock; /* guards the watch list */
	struct watch *watches;
	bool stop;
	uint64_t batches;
};

struct event_loop *event_loop_new(void)
{
	struct event_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	pthread_mutex_init(&l->lock, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (l->epfd < 0 || l->stopfd < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stopfd, &ev) < 0) {
		int e = errno;
		event_loop_free(l);
		errno = e;
		return NULL;
	}
	return l;
}

void event_loop_free(struct event_loop *l)
{
	if (!l)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->stopfd >= 0)
		close(l->stopfd);
	for (struct watch *w = l->watches, *n; w; w = n) {
		n = w->next;
		free(w);
	}
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static struct watch *find_watch(struct event_loop *l, int fd)
{
	for (struct watch *w = l->watches; w; w = w->next)
		if (w->fd == fd && !w->dead)
			return w;
	return NULL;
}

int event_loop_add(struct event_loop *l, int fd, uint32_t events, event_fn fn, void *opaque)
{
	struct watch *w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	*w = (struct watch){ .fd = fd, .fn = fn, .opaque = opaque };
	struct epoll_event ev = { .events = events, .data.ptr = w };
	pthread_mutex_lock(&l->lock);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		pthread_mutex_unlock(&l->lock);
		int e = errno;
		free(w);
		errno = e;
		return -1;
	}
	w->next = l->watches;
	l->watches = w;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int event_loop_mod(struct event_loop *l, int fd, uint32_t events)
{
	pthread_mutex_lock(&l->lock);
	struct watch *w = find_watch(l, fd);
	int r = -1;
	if (!w) {
		errno = ENOENT;
	} else {
		struct epoll_event ev = { .events = events, .data.ptr = w };
		r = epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
	}
	pthread_mutex_unlock(&l->lock);
	return r;
}

int event_loop_del(struct event_loop *l, int fd)
{
	pthread_mutex_lock(&l->lock);
	struct watch *w = find_watch(l, fd);
	int r = -1;
	if (!w) {
		errno = ENOENT;
	} else {
		r = epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		w->dead = true; /* freed after the current batch */
	}
	pthread_mutex_unlock(&l->lock);
	return r;
}

/* Free entries deleted during the last batch. */
static void reap_dead(struct event_loop *l)
{
	pthread_mutex_lock(&l->lock);
	for (struct watch **p = &l->watches; *p;) {
		struct watch *w = *p;
		if (w->dead) {
			*p = w->next;
			free(w);
		} else {
			p = &w->next;
		}
	}
	pthread_mutex_unlock(&l->lock);
}

int event_loop_run(struct event_loop *l)
{
	struct epoll_event evs[32];
	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(l->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;
			if (!w) {
				uint64_t v;
				if (read(l->stopfd, &v, sizeof(v)) < 0) { /* drained */ }
				continue;
			}
			if (!__atomic_load_n(&w->dead, __ATOMIC_ACQUIRE))
				w->fn(w->opaque, evs[i].events);
		}
		reap_dead(l);
		__atomic_add_fetch(&l->batches, 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&l->stop, false, __ATOMIC_RELEASE);
	return 0;
}

uint64_t event_loop_batches(struct event_loop *l)
{
	return __atomic_load_n(&l->batches, __ATOMIC_RELAXED);
}

void event_loop_stop(struct event_loop *l)
{
	uint64_t one = 1;
	__atomic_store_n(&l->stop, true, __ATOMIC_RELEASE);
	if (write(l->stopfd, &one, sizeof(one)) < 0) { /* counter full: already woken */ }
}

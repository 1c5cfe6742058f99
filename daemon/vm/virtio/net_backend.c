/* net_backend.c - the socket to passt: attaching it, its epoll interest,
 * reading and writing without blocking, and the link state it decides.
 *
 * Interest: EPOLLIN unless rx waits for guest buffers (then passt's writes
 * back up in the socket: backpressure), EPOLLOUT while tx bytes are
 * buffered. EPOLLHUP and EPOLLERR come regardless: the peer closed or
 * failed, and the link goes down (after reading what can still be given
 * to the guest), so a dead socket never makes the loop spin. EOF or an
 * error on a read or write takes the link down too.
 *
 * The link is up exactly while a socket is attached. Going down closes
 * it and drops both streams: a new passt starts a new stream, and half a
 * frame of the old one must not prefix it.
 *
 * A replaced socket's events may still be in the loop's current batch:
 * each attach registers a cookie with a new generation, and events that
 * carry an older one are ignored. The new socket is registered before the
 * old one is closed, so an attach that fails leaves the old backend up.
 *
 * virtio_net_connect (NET_ATTACH) does an attach, a policy and a MAC at
 * once under the transport lock: no frame is decided by the old policy
 * on the new backend, nor by the new one on the old.
 */
#include "daemon/vm/virtio/net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void close_socket(struct virtio_net *n)
{
	if (n->fd < 0)
		return;
	if (n->loop && n->watched)
		event_loop_del(n->loop, n->fd);
	close(n->fd);
	n->fd = -1;
	n->watched = false;
	n->events = 0;
}

static void drop_streams(struct virtio_net *n)
{
	n->tx_head = n->tx_len = 0;
	n->rx_head = n->rx_len = n->rx_skip = 0;
	n->tx_stalled = n->rx_readable = n->rx_blocked = false;
}

void net_link_down(struct virtio_net *n, const char *why)
{
	close_socket(n);
	drop_streams(n);
	snprintf(n->down_reason, sizeof(n->down_reason), "%s", why);
	if (!n->link_up)
		return;
	n->link_up = false;
	n->stats.link_downs++;
	fprintf(stderr, "virtio-net: link down: %s\n", why);
	virtio_mmio_config_changed(&n->t);
}

static void link_down_errno(struct virtio_net *n, const char *what)
{
	char why[64];
	snprintf(why, sizeof(why), "%s: %s", what, strerror(errno));
	net_link_down(n, why);
}

void net_update_events(struct virtio_net *n)
{
	if (!n->loop || n->fd < 0 || !n->watched)
		return;
	uint32_t want = (n->rx_blocked ? 0 : EPOLLIN) | (n->tx_len > 0 ? EPOLLOUT : 0);
	if (want != n->events && event_loop_mod(n->loop, n->fd, want) == 0)
		n->events = want;
}

void net_tx_flush(struct virtio_net *n)
{
	while (n->fd >= 0 && n->tx_len > 0) {
		ssize_t r = send(n->fd, n->tx_buf + n->tx_head, n->tx_len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r < 0) {
			link_down_errno(n, "write to passt");
			return;
		}
		n->tx_head += (uint32_t)r;
		n->tx_len -= (uint32_t)r;
	}
	if (n->tx_len == 0)
		n->tx_head = 0;
}

int net_rx_read(struct virtio_net *n)
{
	if (NET_BUF_SIZE - (n->rx_head + n->rx_len) < NET_STREAM_MAX) {
		memmove(n->rx_buf, n->rx_buf + n->rx_head, n->rx_len); /* room for a whole frame */
		n->rx_head = 0;
	}
	uint32_t room = NET_BUF_SIZE - (n->rx_head + n->rx_len);
	ssize_t r;
	do
		r = recv(n->fd, n->rx_buf + n->rx_head + n->rx_len, room, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		n->rx_len += (uint32_t)r;
		return (int)r;
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		n->rx_readable = false;
		return 0;
	}
	if (r == 0)
		net_link_down(n, "passt closed the socket");
	else
		link_down_errno(n, "read from passt");
	return -1;
}

static void backend_event(struct virtio_net *n, uint32_t events)
{
	if (events & EPOLLERR) {
		net_link_down(n, "passt socket error (EPOLLERR)");
	} else {
		if (events & (EPOLLIN | EPOLLHUP))
			n->rx_readable = true;
		net_rx_pump(n); /* a hang-up is read to its EOF when the guest has room */
		if ((events & EPOLLHUP) && n->fd >= 0)
			net_link_down(n, "passt hung up");
	}
	net_tx_process(n); /* flushes (EPOLLOUT); resumes a stall; drops after link down */
	net_rx_pump(n);    /* replies the tx frames asked for */
	net_update_events(n);
}

void net_on_backend(void *opaque, uint32_t events)
{
	struct net_backend_watch *w = opaque;
	struct virtio_net *n = w->n;
	pthread_mutex_lock(&n->t.lock);
	if (w->gen == n->backend_gen && n->fd >= 0)
		backend_event(n, events);
	pthread_mutex_unlock(&n->t.lock);
}

/* Only fcntl: a jailed VMM (jail.c) may not call getsockopt or fstat, so
 * that fd is a connected stream socket is the caller's word. */
static int prepare_socket(int fd, struct vm_err *err)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return vm_errno(err, "virtio-net: backend fd %d: O_NONBLOCK", fd);
	return 0;
}

static void link_up(struct virtio_net *n, int fd)
{
	n->fd = fd;
	n->link_up = true;
	n->rx_readable = true;
	n->stats.link_ups++;
	n->down_reason[0] = 0;
	virtio_mmio_config_changed(&n->t);
}

/* Watch fd (non-blocking already) in place of the current backend, under
 * a new generation, and bring the link up. The new socket is watched
 * before the old one goes, so on failure nothing has changed (fd is
 * still the caller's). With the lock held. */
static int replace_backend(struct virtio_net *n, int fd, struct vm_err *err)
{
	uint32_t gen = n->backend_gen + 1;
	struct net_backend_watch *w = &n->watch[gen % 2]; /* not the current one's */
	*w = (struct net_backend_watch){ n, gen };
	if (n->loop && event_loop_add(n->loop, fd, EPOLLIN, net_on_backend, w) < 0)
		return vm_errno(err, "virtio-net: watch the backend socket");
	if (n->fd >= 0)
		net_link_down(n, "replaced by a new backend");
	n->backend_gen = gen;
	n->watched = n->loop != NULL;
	n->events = n->watched ? EPOLLIN : 0;
	link_up(n, fd);
	return 0;
}

int virtio_net_attach(struct virtio_net *n, int fd, struct vm_err *err)
{
	if (prepare_socket(fd, err) < 0) {
		close(fd);
		return -1;
	}
	pthread_mutex_lock(&n->t.lock);
	int rc = replace_backend(n, fd, err);
	if (rc == 0) {
		net_rx_pump(n);
		net_update_events(n);
	} else {
		close(fd);
	}
	pthread_mutex_unlock(&n->t.lock);
	return rc;
}

/* The guest is told of a new MAC by a config change (net.h). */
static bool take_mac(struct virtio_net *n, const uint8_t mac[6])
{
	if (!memcmp(n->mac, mac, 6))
		return false;
	memcpy(n->mac, mac, 6);
	n->stats.mac_changes++;
	virtio_mmio_config_changed(&n->t);
	return true;
}

int virtio_net_connect(struct virtio_net *n, int fd, const struct egress_policy *p,
		       bool *mac_changed, struct vm_err *err)
{
	struct egress_policy *copy = malloc(sizeof(*copy));
	if (!copy || prepare_socket(fd, err) < 0) {
		if (!copy)
			vm_errno(err, "virtio-net: egress policy");
		free(copy);
		close(fd);
		return -1;
	}
	memcpy(copy, p, sizeof(*copy));
	pthread_mutex_lock(&n->t.lock);
	int rc = replace_backend(n, fd, err);
	if (rc == 0) {
		free(n->policy);
		n->policy = copy;
		*mac_changed = take_mac(n, p->vm_mac);
		net_rx_pump(n);
		net_update_events(n);
	}
	pthread_mutex_unlock(&n->t.lock);
	if (rc < 0) {
		free(copy);
		close(fd);
	}
	return rc;
}

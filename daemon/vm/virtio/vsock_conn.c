/* vsock_conn.c - one vsock stream connection: credit arithmetic and the
 * guest->host byte buffer.
 *
 * Credit (virtio 1.x 5.10.6.3): each side tells the other its buf_alloc and
 * fwd_cnt (bytes it has passed on to its application). A sender may have at
 * most buf_alloc - (tx_cnt - fwd_cnt) bytes in flight. All counters are
 * free-running u32 and compared by difference.
 *
 * Guest->host: payload goes straight to the host socket when it takes it;
 * what it does not take is kept in a ring of VSOCK_BUF_ALLOC bytes (the
 * credit we advertise), allocated on first use.
 */
#include "daemon/vm/virtio/vsock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

uint32_t vsock_conn_peer_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

uint32_t vsock_conn_our_free(const struct vsock_conn *c)
{
	return VSOCK_BUF_ALLOC - c->buf_used;
}

bool vsock_conn_credit_due(const struct vsock_conn *c)
{
	/* The guest thinks it may send BUF_ALLOC - (rx_cnt - fwd_cnt_told)
	 * more. Tell it about freed space once that view is below half the
	 * buffer AND we can grant at least a quarter more. Granting whatever
	 * a slow host reader just drained would let the guest send packets
	 * that small, each with its kick and interrupt (silly window
	 * syndrome). No deadlock: a guest waiting for credit has the whole
	 * buffer in flight, so the host draining a quarter of it is due. */
	uint32_t seen_free = VSOCK_BUF_ALLOC - (c->rx_cnt - c->fwd_cnt_told);
	uint32_t freed = c->fwd_cnt - c->fwd_cnt_told;
	return freed >= VSOCK_BUF_ALLOC / 4 && seen_free < VSOCK_BUF_ALLOC / 2;
}

void vsock_conn_hdr(const struct vsock_conn *c, uint64_t guest_cid, enum vsock_op op,
		    uint32_t len, uint32_t flags, struct vsock_hdr *h)
{
	*h = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = guest_cid,
		.src_port = c->local_port, .dst_port = c->peer_port,
		.len = len, .type = VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = VSOCK_BUF_ALLOC, .fwd_cnt = c->fwd_cnt,
	};
}

/* Send iov to the host socket without blocking; bytes sent or -1. */
static ssize_t send_some(int fd, struct iovec *iov, int n)
{
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
	ssize_t r;
	do
		r = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return r;
}

int vsock_conn_take(struct vsock_conn *c, const struct vq_chain *ch, uint64_t off, uint32_t len)
{
	if (len > vsock_conn_our_free(c))
		return -2;
	c->rx_cnt += len;
	if (c->buf_used == 0 && len > 0) { /* nothing queued: try the socket first */
		struct iovec iov[VQ_MAX_SIZE];
		int n = vq_chain_iov(ch, false, off, len, iov, VQ_MAX_SIZE);
		ssize_t sent = send_some(c->fd, iov, n);
		if (sent < 0)
			return -1;
		c->fwd_cnt += sent;
		off += sent;
		len -= sent;
	}
	if (len == 0)
		return 0;
	if (!c->buf && !(c->buf = malloc(VSOCK_BUF_ALLOC)))
		return -1;
	uint32_t tail = (c->buf_head + c->buf_used) % VSOCK_BUF_ALLOC;
	uint32_t first = len < VSOCK_BUF_ALLOC - tail ? len : VSOCK_BUF_ALLOC - tail;
	vq_chain_read(ch, off, c->buf + tail, first);
	vq_chain_read(ch, off + first, c->buf, len - first);
	c->buf_used += len;
	return 0;
}

int vsock_conn_flush(struct vsock_conn *c)
{
	while (c->buf_used > 0) {
		uint32_t first = c->buf_used;
		if (first > VSOCK_BUF_ALLOC - c->buf_head)
			first = VSOCK_BUF_ALLOC - c->buf_head;
		struct iovec iov[2] = { { c->buf + c->buf_head, first },
					{ c->buf, c->buf_used - first } };
		ssize_t sent = send_some(c->fd, iov, iov[1].iov_len ? 2 : 1);
		if (sent < 0)
			return -1;
		if (sent == 0)
			return 0;
		c->buf_head = (c->buf_head + sent) % VSOCK_BUF_ALLOC;
		c->buf_used -= sent;
		c->fwd_cnt += sent;
	}
	return 0;
}

void vsock_conn_free(struct vsock_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->state = VSOCK_FREE;
}

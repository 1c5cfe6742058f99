/* net_tx.c - frames the guest sends: checked, decided, put on the stream.
 *
 * Each tx chain is one frame after its virtio_net_hdr. The rules:
 *   - a device-writable buffer in a tx chain is a driver bug: NEEDS_RESET;
 *   - shorter than the header, a header asking for a checksum or
 *     segmentation we never offered, a frame under 14 bytes: dropped
 *     (tx_drop_malformed);
 *   - a frame over NET_MAX_FRAME (MTU + Ethernet header): dropped
 *     (tx_drop_oversize);
 *   - no backend: dropped (tx_drop_link_down), like a NIC without carrier.
 * Every chain goes back to the guest at once, used length 0.
 *
 * A frame is copied from the guest once, straight behind its 4-byte
 * length in the tx stream buffer, and the egress policy (if any) is asked
 * about those bytes, so the guest cannot change them between the check
 * and the write (with the recent peers of served UDP ports, which net_rx.c
 * records: the answers to them pass). ALLOW commits the length and frame to the stream; DROP
 * and REJECT leave them uncommitted. A REJECT is answered (net_reply.h)
 * while the token bucket has a token and the reply queue has room.
 *
 * The stream buffer holds NET_BUF_SIZE bytes. Before taking a chain we
 * make sure a frame of the largest size fits, writing to the socket if
 * needed; if it still does not, tx stalls: chains stay in the ring and
 * the guest waits, until EPOLLOUT says the socket drained.
 */
#include "daemon/vm/virtio/net.h"

#include <string.h>

/* Room left in the stream buffer for frames. */
static uint32_t tx_room(const struct virtio_net *n)
{
	return NET_BUF_SIZE - n->tx_len;
}

/* Where the next frame's length prefix goes, with len bytes behind it. */
static uint8_t *tx_tail(struct virtio_net *n, uint32_t len)
{
	if (NET_BUF_SIZE - (n->tx_head + n->tx_len) < NET_STREAM_LEN + len) {
		memmove(n->tx_buf, n->tx_buf + n->tx_head, n->tx_len);
		n->tx_head = 0;
	}
	return n->tx_buf + n->tx_head + n->tx_len;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int64_t tokens_now(struct virtio_net *n)
{
	int64_t now = virtio_mmio_now_ns(), dt = now - n->reply_refill_ns;
	if (dt > 1000000000LL || dt < 0)
		dt = 1000000000LL; /* a second refills the whole burst anyway */
	n->reply_refill_ns = now;
	n->reply_tokens_milli += dt * NET_REPLY_RATE / 1000000;
	if (n->reply_tokens_milli > NET_REPLY_BURST * 1000LL)
		n->reply_tokens_milli = NET_REPLY_BURST * 1000LL;
	return n->reply_tokens_milli;
}

void net_tx_queue_reply(struct virtio_net *n, const uint8_t *frame, uint32_t len,
			const struct net_frame *f)
{
	if (n->nreply == NET_REPLY_QUEUE || tokens_now(n) < 1000) {
		n->stats.tx_replies_limited++;
		return;
	}
	struct net_reply *r = &n->reply[(n->reply_head + n->nreply) % NET_REPLY_QUEUE];
	size_t got = net_reply_build(frame, len, f, r->data, sizeof(r->data));
	if (got == 0)
		return; /* not something to answer (the policy never REJECTs those) */
	r->len = (uint16_t)got;
	n->nreply++;
	n->reply_tokens_milli -= 1000;
}

/* Decide the frame at p[NET_STREAM_LEN..] and commit it if it may leave. */
static void decide(struct virtio_net *n, uint8_t *p, uint32_t len)
{
	const uint8_t *frame = p + NET_STREAM_LEN;
	struct net_frame f;
	enum egress_verdict v = EGRESS_ALLOW;
	if (n->policy)
		v = egress_policy_check_peers(n->policy, &n->peers, virtio_mmio_now_ns(), frame,
					      len, &f).verdict;
	if (v == EGRESS_DROP) {
		n->stats.tx_drop_policy++;
	} else if (v == EGRESS_REJECT) {
		n->stats.tx_rejects++;
		net_tx_queue_reply(n, frame, len, &f);
	} else {
		put_be32(p, len);
		n->tx_len += NET_STREAM_LEN + len;
		n->stats.tx_frames++;
		n->stats.tx_bytes += len;
	}
}

/* Is the chain's header one we can honour? */
static bool header_plain(const struct vq_chain *c)
{
	struct virtio_net_hdr h;
	vq_chain_read(c, 0, &h, sizeof(h));
	return !(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && h.gso_type == VIRTIO_NET_HDR_GSO_NONE;
}

/* One popped tx chain; false if the device failed. */
static bool take_frame(struct virtio_net *n)
{
	const struct vq_chain *c = &n->chain;
	if (c->nseg > c->nread) {
		virtio_mmio_fail(&n->t, "tx chain with a device-writable buffer");
		return false;
	}
	if (c->read_len < NET_HDR_SIZE || !header_plain(c) ||
	    c->read_len - NET_HDR_SIZE < NET_ETH_HLEN) {
		n->stats.tx_drop_malformed++;
		return true;
	}
	uint64_t len = c->read_len - NET_HDR_SIZE;
	if (len > NET_MAX_FRAME) {
		n->stats.tx_drop_oversize++;
		return true;
	}
	if (!n->link_up) {
		n->stats.tx_drop_link_down++;
		return true;
	}
	uint8_t *p = tx_tail(n, (uint32_t)len);
	vq_chain_read(c, NET_HDR_SIZE, p + NET_STREAM_LEN, len);
	decide(n, p, (uint32_t)len);
	return true;
}

/* Can the stream take a frame of the largest size? Writes to make room. */
static bool tx_has_room(struct virtio_net *n)
{
	if (!n->link_up || tx_room(n) >= NET_STREAM_MAX)
		return true;
	net_tx_flush(n);
	return !n->link_up || tx_room(n) >= NET_STREAM_MAX;
}

void net_tx_process(struct virtio_net *n)
{
	net_tx_flush(n);
	if (!virtio_mmio_queue_live(&n->t, NET_QUEUE_TX))
		return;
	for (int budget = n->t.vq[NET_QUEUE_TX].size; budget > 0; budget--) {
		if (!tx_has_room(n)) {
			if (!n->tx_stalled)
				n->stats.tx_stalls++;
			n->tx_stalled = true;
			return; /* EPOLLOUT brings us back */
		}
		n->tx_stalled = false;
		if (virtio_mmio_pop(&n->t, NET_QUEUE_TX, &n->chain) <= 0)
			break;
		if (!take_frame(n))
			return;
		virtio_mmio_push(&n->t, NET_QUEUE_TX, n->chain.head, 0);
	}
	net_tx_flush(n);
	virtio_mmio_rekick(&n->t, NET_QUEUE_TX);
}

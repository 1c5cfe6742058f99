/* net_rx.c - frames for the guest: replies to REJECTed frames, then the
 * frames of passt's stream, into the guest's rx buffers; a datagram to a
 * served UDP port records its sender (egress_peers.h) as it is given.
 *
 * The stream is read into a reassembly buffer (net_rx_read); a frame is
 * given to the guest once all of it is there. Its length prefix must say
 * 14..NET_MAX_FRAME bytes; any other frame is skipped, its bytes read and
 * discarded as they come (rx_drop_bad_length), so the stream stays in step.
 *
 * One frame, header first, fills rx chains in ring order, each completely
 * but the last (virtio 1.x 5.1.6.3.2); num_buffers says how many. All of
 * them are returned with one used idx update, so the driver never sees
 * the first without the rest. Without MRG_RXBUF a frame must fit one
 * chain: one that does not is dropped (rx_drop_small_buffer) and the chain
 * left for the next frame. A chain with a device-readable buffer, or
 * shorter than the header, is a driver bug: NEEDS_RESET.
 *
 * When the ring runs out part-way, the chains taken for the frame go back
 * (last_avail is rewound: nothing was published) and rx waits: rx_blocked
 * turns EPOLLIN off, and the guest's next rx kick (vq_pop asked for one
 * with event idx) tries again. Frames are never dropped for want of
 * buffers.
 */
#include "daemon/vm/virtio/net.h"

#include <string.h>

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void unpop_rx(struct virtio_net *n, uint16_t k)
{
	n->t.vq[NET_QUEUE_RX].last_avail -= k; /* nothing of them was published */
}

/* Pop an rx chain into c: 1, 0 (ring empty) or -1 (the device failed). */
static int pop_rx(struct virtio_net *n, struct vq_chain *c)
{
	int r = virtio_mmio_pop(&n->t, NET_QUEUE_RX, c);
	if (r <= 0)
		return r;
	if (c->nread > 0 || c->write_len < NET_HDR_SIZE) {
		virtio_mmio_fail(&n->t, "rx buffer not device-writable or shorter than the header");
		return -1;
	}
	return 1;
}

/* Copy bytes [done, done+take) of header + frame into c; the header
 * itself is written last, once num_buffers is known. */
static void fill_chain(const struct vq_chain *c, const uint8_t *frame, uint64_t done,
		       uint64_t take)
{
	if (done == 0)
		vq_chain_write(c, NET_HDR_SIZE, frame, take - NET_HDR_SIZE);
	else
		vq_chain_write(c, 0, frame + done - NET_HDR_SIZE, take);
}

static void publish(struct virtio_net *n, uint16_t k)
{
	struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE, .num_buffers = k };
	vq_chain_write(&n->rx_first, 0, &h, sizeof(h));
	virtio_mmio_push_many(&n->t, NET_QUEUE_RX, n->heads, n->lens, k);
}

enum rx_result {
	RX_GIVEN,      /* in the guest's buffers */
	RX_DROPPED,    /* it can never fit (no MRG_RXBUF): gone */
	RX_NO_BUFFERS, /* not enough rx buffers now: nothing taken */
	RX_FAILED,     /* the guest broke a rule: the device needs a reset */
};

/* Give one frame to the guest. */
static enum rx_result deliver(struct virtio_net *n, const uint8_t *frame, uint32_t len)
{
	bool merge = virtio_mmio_has_feature(&n->t, VIRTIO_NET_F_MRG_RXBUF);
	uint64_t need = NET_HDR_SIZE + (uint64_t)len, done = 0;
	uint16_t k = 0;

	while (done < need) {
		struct vq_chain *c = k == 0 ? &n->rx_first : &n->chain;
		int r = pop_rx(n, c);
		if (r < 0)
			return RX_FAILED;
		if (r == 0) {
			unpop_rx(n, k);
			return RX_NO_BUFFERS;
		}
		if (!merge && c->write_len < need) {
			unpop_rx(n, 1);
			n->stats.rx_drop_small_buffer++;
			return RX_DROPPED;
		}
		uint64_t take = c->write_len < need - done ? c->write_len : need - done;
		fill_chain(c, frame, done, take);
		n->heads[k] = c->head;
		n->lens[k++] = (uint32_t)take;
		done += take;
	}
	publish(n, k);
	return RX_GIVEN;
}

/* The next whole stream frame (true: *frame, *len), skipping refused ones;
 * false while bytes are missing. */
static bool stream_frame(struct virtio_net *n, const uint8_t **frame, uint32_t *len)
{
	for (;;) {
		if (n->rx_skip) {
			uint32_t k = n->rx_skip < n->rx_len ? n->rx_skip : n->rx_len;
			n->rx_head += k;
			n->rx_len -= k;
			n->rx_skip -= k;
			if (n->rx_skip)
				return false;
		}
		if (n->rx_len < NET_STREAM_LEN)
			return false;
		uint32_t l = get_be32(n->rx_buf + n->rx_head);
		if (l < NET_ETH_HLEN || l > NET_MAX_FRAME) {
			n->stats.rx_drop_bad_length++;
			n->rx_head += NET_STREAM_LEN;
			n->rx_len -= NET_STREAM_LEN;
			n->rx_skip = l;
			continue;
		}
		if (n->rx_len < NET_STREAM_LEN + l)
			return false;
		*frame = n->rx_buf + n->rx_head + NET_STREAM_LEN;
		*len = l;
		return true;
	}
}

static void consume_frame(struct virtio_net *n, uint32_t len)
{
	n->rx_head += NET_STREAM_LEN + len;
	n->rx_len -= NET_STREAM_LEN + len;
	if (n->rx_len == 0)
		n->rx_head = 0;
}

/* The oldest reply owed to the guest. */
static enum rx_result give_reply(struct virtio_net *n)
{
	const struct net_reply *r = &n->reply[n->reply_head];
	enum rx_result d = deliver(n, r->data, r->len);
	if (d == RX_GIVEN)
		n->stats.tx_replies++;
	if (d == RX_GIVEN || d == RX_DROPPED) {
		n->reply_head = (n->reply_head + 1) % NET_REPLY_QUEUE;
		n->nreply--;
	}
	return d;
}

/* A datagram to a served UDP port: remember its sender, whose answers
 * may then leave (egress_peers.h). */
static void note_peer(struct virtio_net *n, const uint8_t *frame, uint32_t len)
{
	struct net_frame f;
	if (!n->policy || n->policy->n_served == 0)
		return;
	net_frame_parse(frame, len, &f);
	egress_peers_note(&n->peers, n->policy, &f, virtio_mmio_now_ns());
}

/* The whole stream frame stream_frame() found. */
static enum rx_result give_stream_frame(struct virtio_net *n, const uint8_t *frame,
					uint32_t len)
{
	enum rx_result d = deliver(n, frame, len);
	if (d == RX_GIVEN) {
		n->stats.rx_frames++;
		n->stats.rx_bytes += len;
		note_peer(n, frame, len);
	}
	if (d == RX_GIVEN || d == RX_DROPPED)
		consume_frame(n, len);
	return d;
}

/* One step: true on progress, false to stop (waiting for guest buffers or
 * the socket, or the device failed). */
static bool rx_step(struct virtio_net *n)
{
	const uint8_t *frame;
	uint32_t len;
	enum rx_result d;

	if (n->nreply > 0)
		d = give_reply(n);
	else if (n->fd >= 0 && stream_frame(n, &frame, &len))
		d = give_stream_frame(n, frame, len);
	else
		return n->fd >= 0 && n->rx_readable && net_rx_read(n) > 0;
	if (d == RX_NO_BUFFERS && !n->rx_blocked) {
		n->rx_blocked = true;
		n->stats.rx_waits++;
	}
	return d == RX_GIVEN || d == RX_DROPPED;
}

void net_rx_pump(struct virtio_net *n)
{
	if (!virtio_mmio_queue_live(&n->t, NET_QUEUE_RX)) {
		n->rx_blocked = true; /* until DRIVER_OK kicks every live queue */
		return;
	}
	n->rx_blocked = false;
	int budget = n->t.vq[NET_QUEUE_RX].size;
	while (budget > 0 && rx_step(n))
		budget--;
	if (budget == 0) /* more to do: come back after serving the others */
		virtio_mmio_rekick(&n->t, NET_QUEUE_RX);
}

void net_rx_forget(struct virtio_net *n)
{
	n->reply_head = n->nreply = 0;
	n->rx_blocked = false;
	n->tx_stalled = false;
	egress_peers_clear(&n->peers);
}

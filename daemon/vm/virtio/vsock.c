/* vsock.c - the virtio-vsock device: queues, packet dispatch, event queue.
 *
 * Queues: rx (0) holds guest buffers we fill with packets to the guest, tx
 * (1) packets from the guest, event (2) buffers for TRANSPORT_RESET events.
 *
 * Guest -> host (tx): each packet is checked (header present, len inside
 * the chain, our CIDs, stream type) and dispatched by op on the connection
 * it names; anything for an unknown connection gets a RST. Malformed
 * packets are dropped and counted; they never stop the device.
 *
 * Host -> guest (rx): rx_pump() fills rx buffers in priority order: RSTs
 * owed for dead connections, control packets connections owe (REQUEST,
 * RESPONSE, SHUTDOWN, CREDIT_UPDATE), then data read from host sockets
 * straight into the guest buffer, never more than the guest's credit.
 * Host sockets are watched with EPOLLIN only while data could be moved
 * (credit and rx buffers available) and EPOLLOUT only while bytes are
 * buffered, so a full guest or a slow host never makes the loop spin.
 */
#include "daemon/vm/virtio/vsock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void update_events(struct virtio_vsock *v, struct vsock_conn *c);

static void queue_rst(struct virtio_vsock *v, uint32_t local_port, uint32_t peer_port)
{
	if (v->nrst < sizeof(v->rst) / sizeof(v->rst[0]))
		v->rst[v->nrst++] = (struct vsock_rst){ local_port, peer_port };
}

static void conn_close(struct virtio_vsock *v, struct vsock_conn *c, bool rst_guest)
{
	if (rst_guest)
		queue_rst(v, c->local_port, c->peer_port);
	if (v->loop && c->watched)
		event_loop_del(v->loop, c->fd);
	vsock_conn_free(c);
}

static struct vsock_conn *find_conn(struct virtio_vsock *v, uint32_t local, uint32_t peer)
{
	for (int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conn[i];
		if (c->state != VSOCK_FREE && c->state != VSOCK_HOST_LINE &&
		    c->local_port == local && c->peer_port == peer)
			return c;
	}
	return NULL;
}

static struct vsock_conn *new_conn(struct virtio_vsock *v, int fd, enum vsock_conn_state st)
{
	for (int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conn[i];
		if (c->state == VSOCK_FREE) {
			c->state = st;
			c->fd = fd;
			update_events(v, c);
			return c;
		}
	}
	close(fd);
	return NULL;
}

static bool local_port_used(struct virtio_vsock *v, uint32_t port)
{
	for (int i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->conn[i].state != VSOCK_FREE && v->conn[i].local_port == port)
			return true;
	return false;
}

static uint32_t ephemeral_port(struct virtio_vsock *v)
{
	do {
		if (++v->next_ephemeral < VSOCK_EPHEMERAL_BASE || v->next_ephemeral == UINT32_MAX)
			v->next_ephemeral = VSOCK_EPHEMERAL_BASE;
	} while (local_port_used(v, v->next_ephemeral));
	return v->next_ephemeral;
}

/* ---- epoll interest ---- */

/* Does the guest have rx buffers for us? When it has none we wait for its
 * kick, so with event idx the kick is asked for here (the guest kicks only
 * when it crosses avail_event; one left behind by our last pop would let it
 * refill the ring silently, and a pending CREDIT_UPDATE or REQUEST would
 * wait for an unrelated tx packet). */
static bool rx_buffers(struct virtio_vsock *v)
{
	return virtio_mmio_queue_live(&v->t, VSOCK_QUEUE_RX) &&
	       vq_has_avail_arm(&v->t.vq[VSOCK_QUEUE_RX], v->t.mem);
}

/* May host bytes go to the guest on c (given an rx buffer)? */
static bool may_send_data(const struct vsock_conn *c)
{
	return c->state == VSOCK_CONNECTED && !c->host_eof && !c->guest_no_rcv &&
	       vsock_conn_peer_credit(c) > 0;
}

static bool can_read_host(struct virtio_vsock *v, const struct vsock_conn *c)
{
	return may_send_data(c) && rx_buffers(v);
}

static uint32_t wanted_events(struct virtio_vsock *v, const struct vsock_conn *c)
{
	if (c->state == VSOCK_HOST_LINE)
		return EPOLLIN;
	uint32_t ev = 0;
	if (can_read_host(v, c))
		ev |= EPOLLIN;
	if (c->buf_used > 0)
		ev |= EPOLLOUT;
	return ev;
}

static void update_events(struct virtio_vsock *v, struct vsock_conn *c)
{
	struct vsock_slot *slot = &v->slot[c - v->conn];
	if (!v->loop || c->state == VSOCK_FREE)
		return;
	uint32_t want = wanted_events(v, c);
	if (c->host_hup && !want) { /* HUP would fire forever: stop watching */
		if (c->watched)
			event_loop_del(v->loop, c->fd);
		c->watched = false;
		return;
	}
	if (!c->watched) {
		if (event_loop_add(v->loop, c->fd, want, vsock_on_conn, slot) == 0)
			c->watched = true;
	} else if (want != c->events) {
		event_loop_mod(v->loop, c->fd, want);
	}
	c->events = want;
}

static void update_all_events(struct virtio_vsock *v)
{
	for (int i = 0; i < VSOCK_MAX_CONNS; i++)
		update_events(v, &v->conn[i]);
}

/* Close once both directions are finished and nothing is left to forward. */
static void maybe_finish(struct virtio_vsock *v, struct vsock_conn *c)
{
	if (c->state != VSOCK_CONNECTED || c->buf_used > 0)
		return;
	if (c->guest_no_send && !c->shut_wr_done) {
		shutdown(c->fd, SHUT_WR);
		c->shut_wr_done = true;
	}
	if (c->guest_no_send && (c->guest_no_rcv || c->host_eof))
		conn_close(v, c, true); /* the guest waits for our RST to finish close() */
}

/* ---- host -> guest ---- */

/* Pop an rx chain able to hold a header; 1, 0 (none) or -1 (device failed). */
static int pop_rx(struct virtio_vsock *v)
{
	int r = virtio_mmio_pop(&v->t, VSOCK_QUEUE_RX, &v->chain);
	if (r <= 0)
		return r;
	if (v->chain.nread > 0 || v->chain.write_len < VSOCK_HDR_SIZE) {
		virtio_mmio_fail(&v->t, "rx buffer not device-writable or shorter than a header");
		return -1;
	}
	return 1;
}

static void push_rx(struct virtio_vsock *v, const struct vsock_hdr *h)
{
	vq_chain_write(&v->chain, 0, h, VSOCK_HDR_SIZE);
	virtio_mmio_push(&v->t, VSOCK_QUEUE_RX, v->chain.head, VSOCK_HDR_SIZE + h->len);
	v->n_rx_pkts++;
}

static void unpop_rx(struct virtio_vsock *v)
{
	v->t.vq[VSOCK_QUEUE_RX].last_avail--; /* nothing was written to it */
}

static bool send_rst(struct virtio_vsock *v)
{
	struct vsock_conn tmp = { .local_port = v->rst[0].local_port,
				  .peer_port = v->rst[0].peer_port };
	struct vsock_hdr h;
	vsock_conn_hdr(&tmp, v->guest_cid, VSOCK_OP_RST, 0, 0, &h);
	h.fwd_cnt = 0;
	push_rx(v, &h);
	memmove(v->rst, v->rst + 1, --v->nrst * sizeof(v->rst[0]));
	return true;
}

static void send_control(struct virtio_vsock *v, struct vsock_conn *c)
{
	struct vsock_hdr h;
	enum vsock_op op = VSOCK_OP_CREDIT_UPDATE;
	uint32_t flags = 0;
	uint8_t bit = VSOCK_PEND_CREDIT;

	if (c->pending & VSOCK_PEND_REQUEST)
		op = VSOCK_OP_REQUEST, bit = VSOCK_PEND_REQUEST;
	else if (c->pending & VSOCK_PEND_RESPONSE)
		op = VSOCK_OP_RESPONSE, bit = VSOCK_PEND_RESPONSE;
	else if (c->pending & VSOCK_PEND_SHUTDOWN)
		op = VSOCK_OP_SHUTDOWN, bit = VSOCK_PEND_SHUTDOWN, flags = c->shutdown_flags;
	c->pending &= ~bit;
	vsock_conn_hdr(c, v->guest_cid, op, 0, flags, &h);
	c->fwd_cnt_told = c->fwd_cnt;
	push_rx(v, &h);
}

/* Read host bytes into the popped chain. true if a chain was used. */
static bool send_data(struct virtio_vsock *v, struct vsock_conn *c)
{
	uint64_t room = v->chain.write_len - VSOCK_HDR_SIZE;
	uint32_t want = vsock_conn_peer_credit(c);
	if (room < want)
		want = (uint32_t)room;
	struct iovec iov[VQ_MAX_SIZE];
	int n = vq_chain_iov(&v->chain, true, VSOCK_HDR_SIZE, want, iov, VQ_MAX_SIZE);
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
	ssize_t got = want ? recvmsg(c->fd, &m, MSG_DONTWAIT) : 0;

	if (got > 0) {
		struct vsock_hdr h;
		vsock_conn_hdr(c, v->guest_cid, VSOCK_OP_RW, (uint32_t)got, 0, &h);
		c->tx_cnt += got;
		c->fwd_cnt_told = c->fwd_cnt;
		push_rx(v, &h);
		return true;
	}
	unpop_rx(v);
	if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		c->host_readable = false;
		return false;
	}
	if (got < 0) {
		conn_close(v, c, true);
		return true;
	}
	c->host_eof = true; /* read 0: the host will send no more */
	c->host_readable = false;
	c->shutdown_flags = VSOCK_SHUTDOWN_SEND | (c->host_hup ? VSOCK_SHUTDOWN_RCV : 0);
	c->pending |= VSOCK_PEND_SHUTDOWN;
	maybe_finish(v, c);
	return true;
}

static bool reset_handled(struct virtio_vsock *v);

/* Fill one rx buffer; false when there is nothing to send or no buffer. */
static bool rx_one(struct virtio_vsock *v)
{
	if (!rx_buffers(v) || pop_rx(v) <= 0)
		return false;
	if (v->nrst > 0)
		return send_rst(v);
	bool hold_requests = !reset_handled(v);
	for (int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conn[i];
		if (c->state != VSOCK_FREE && c->pending &&
		    !(hold_requests && c->pending == VSOCK_PEND_REQUEST)) {
			send_control(v, c);
			return true;
		}
	}
	for (int k = 0; k < VSOCK_MAX_CONNS; k++) { /* round robin: no stream starves */
		struct vsock_conn *c = &v->conn[(v->rr + k) % VSOCK_MAX_CONNS];
		if (c->host_readable && may_send_data(c)) { /* the chain is popped already */
			v->rr = (v->rr + k + 1) % VSOCK_MAX_CONNS;
			if (send_data(v, c))
				return true;
			if (pop_rx(v) <= 0) /* send_data gave the chain back */
				return false;
		}
	}
	unpop_rx(v);
	return false;
}

static void rx_pump(struct virtio_vsock *v)
{
	if (!virtio_mmio_queue_live(&v->t, VSOCK_QUEUE_RX))
		return;
	for (int budget = v->t.vq[VSOCK_QUEUE_RX].size; budget > 0 && rx_one(v); budget--)
		;
	update_all_events(v);
}

/* ---- guest -> host ---- */

static void guest_connect(struct virtio_vsock *v, const struct vsock_hdr *h)
{
	int fd = vsock_host_connect(v->uds_path, h->dst_port);
	struct vsock_conn *c = fd < 0 ? NULL : new_conn(v, fd, VSOCK_CONNECTED);
	if (!c) {
		queue_rst(v, h->dst_port, h->src_port);
		return;
	}
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->pending |= VSOCK_PEND_RESPONSE;
}

static void guest_rw(struct virtio_vsock *v, struct vsock_conn *c, const struct vsock_hdr *h)
{
	if (c->state != VSOCK_CONNECTED || c->guest_no_send) {
		conn_close(v, c, true);
		return;
	}
	if (vsock_conn_take(c, &v->chain, VSOCK_HDR_SIZE, h->len) < 0) {
		conn_close(v, c, true); /* host socket gone, or the guest broke credit */
		return;
	}
	if (vsock_conn_credit_due(c))
		c->pending |= VSOCK_PEND_CREDIT;
}

static void guest_op(struct virtio_vsock *v, struct vsock_conn *c, const struct vsock_hdr *h)
{
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VSOCK_OP_RESPONSE:
		if (c->state != VSOCK_HOST_REQUEST || vsock_host_send_ok(c->fd, c->local_port) < 0)
			conn_close(v, c, true);
		else
			c->state = VSOCK_CONNECTED;
		break;
	case VSOCK_OP_RW: guest_rw(v, c, h); break;
	case VSOCK_OP_CREDIT_UPDATE: break;
	case VSOCK_OP_CREDIT_REQUEST: c->pending |= VSOCK_PEND_CREDIT; break;
	case VSOCK_OP_SHUTDOWN:
		c->guest_no_rcv |= (h->flags & VSOCK_SHUTDOWN_RCV) != 0;
		c->guest_no_send |= (h->flags & VSOCK_SHUTDOWN_SEND) != 0;
		maybe_finish(v, c);
		break;
	case VSOCK_OP_RST: conn_close(v, c, false); break;
	default: conn_close(v, c, true); break; /* REQUEST on a live connection, junk */
	}
}

static void guest_packet(struct virtio_vsock *v)
{
	struct vq_chain *ch = &v->chain;
	struct vsock_hdr h;

	if (ch->read_len < VSOCK_HDR_SIZE) {
		v->n_bad_pkts++;
		return;
	}
	vq_chain_read(ch, 0, &h, VSOCK_HDR_SIZE);
	if (h.len > ch->read_len - VSOCK_HDR_SIZE || h.src_cid != v->guest_cid ||
	    h.dst_cid != VSOCK_HOST_CID) {
		v->n_bad_pkts++;
		return;
	}
	v->n_tx_pkts++;
	struct vsock_conn *c = find_conn(v, h.dst_port, h.src_port);
	if (h.type != VSOCK_TYPE_STREAM || (!c && h.op != VSOCK_OP_REQUEST)) {
		if (h.op != VSOCK_OP_RST)
			queue_rst(v, h.dst_port, h.src_port);
		return;
	}
	if (!c)
		guest_connect(v, &h);
	else
		guest_op(v, c, &h);
}

static void tx_process(struct virtio_vsock *v)
{
	for (int budget = v->t.vq[VSOCK_QUEUE_TX].size; budget > 0; budget--) {
		if (virtio_mmio_pop(&v->t, VSOCK_QUEUE_TX, &v->chain) <= 0)
			return;
		guest_packet(v);
		virtio_mmio_push(&v->t, VSOCK_QUEUE_TX, v->chain.head, 0);
	}
	virtio_mmio_rekick(&v->t, VSOCK_QUEUE_TX);
}

/* ---- event queue ---- */

static void send_reset_event(struct virtio_vsock *v)
{
	if (!v->reset_event_pending || !virtio_mmio_queue_live(&v->t, VSOCK_QUEUE_EVENT))
		return;
	if (virtio_mmio_pop(&v->t, VSOCK_QUEUE_EVENT, &v->chain) <= 0)
		return;
	uint32_t id = VSOCK_EVENT_TRANSPORT_RESET;
	if (v->chain.nread > 0 || v->chain.write_len < sizeof(id)) {
		virtio_mmio_fail(&v->t, "event buffer not device-writable or too short");
		return;
	}
	vq_chain_write(&v->chain, 0, &id, sizeof(id));
	int idx = vq_watch_avail(&v->t.vq[VSOCK_QUEUE_EVENT], v->t.mem);
	virtio_mmio_push(&v->t, VSOCK_QUEUE_EVENT, v->chain.head, sizeof(id));
	v->reset_event_pending = false;
	v->reset_unacked = idx >= 0;
	v->reset_avail_idx = (uint16_t)idx;
}

/* Has the guest handled the TRANSPORT_RESET (refilled its event queue)? */
static bool reset_handled(struct virtio_vsock *v)
{
	if (v->reset_unacked &&
	    vq_avail_idx(&v->t.vq[VSOCK_QUEUE_EVENT], v->t.mem) != v->reset_avail_idx)
		v->reset_unacked = false;
	return !v->reset_unacked && !v->reset_event_pending;
}

static void close_all(struct virtio_vsock *v)
{
	for (int i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->conn[i].state != VSOCK_FREE)
			conn_close(v, &v->conn[i], false);
	v->nrst = 0;
}

void virtio_vsock_transport_reset_locked(struct virtio_vsock *v)
{
	close_all(v);
	v->reset_event_pending = true;
	send_reset_event(v);
}

void virtio_vsock_transport_reset(struct virtio_vsock *v)
{
	pthread_mutex_lock(&v->t.lock);
	virtio_vsock_transport_reset_locked(v);
	pthread_mutex_unlock(&v->t.lock);
}

/* ---- device ops and host fd handlers ---- */

static void vsock_notify(void *opaque, uint16_t q)
{
	struct virtio_vsock *v = opaque;
	if (q == VSOCK_QUEUE_TX)
		tx_process(v);
	else if (q == VSOCK_QUEUE_EVENT)
		send_reset_event(v);
	rx_pump(v); /* new rx buffers, or replies the tx packets asked for */
}

static void vsock_reset(void *opaque)
{
	struct virtio_vsock *v = opaque;
	close_all(v);
	v->reset_event_pending = false;
	v->reset_unacked = false;
}

static void vsock_config_read(void *opaque, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_vsock *v = opaque;
	memcpy(data, (uint8_t *)&v->guest_cid + off, len);
}

const struct virtio_dev_ops virtio_vsock_ops = {
	.name = "vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.num_queues = 3,
	.queue_max = VSOCK_QUEUE_SIZE,
	.config_size = sizeof(uint64_t),
	.config_read = vsock_config_read,
	.reset = vsock_reset,
	.notify = vsock_notify,
	.dump = virtio_vsock_dump,
};

void vsock_on_listener(void *opaque, uint32_t events)
{
	struct virtio_vsock *v = opaque;
	pthread_mutex_lock(&v->t.lock);
	for (;;) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		new_conn(v, fd, VSOCK_HOST_LINE); /* closes fd if the table is full */
	}
	pthread_mutex_unlock(&v->t.lock);
}

static void host_line(struct virtio_vsock *v, struct vsock_conn *c)
{
	uint32_t port;
	int r = vsock_host_read_line(c, &port);
	if (r < 0) {
		conn_close(v, c, false);
	} else if (r > 0) {
		c->local_port = ephemeral_port(v);
		c->peer_port = port;
		c->state = VSOCK_HOST_REQUEST;
		c->pending |= VSOCK_PEND_REQUEST;
	}
}

static void host_event(struct virtio_vsock *v, struct vsock_conn *c, uint32_t events)
{
	if (c->state == VSOCK_HOST_LINE) {
		host_line(v, c);
		return;
	}
	if ((events & EPOLLERR) || (c->state == VSOCK_HOST_REQUEST && (events & EPOLLHUP))) {
		conn_close(v, c, !(c->pending & VSOCK_PEND_REQUEST));
		return;
	}
	if (events & EPOLLHUP)
		c->host_hup = c->host_readable = true;
	if (events & EPOLLIN)
		c->host_readable = true;
	if ((events & EPOLLOUT) && vsock_conn_flush(c) < 0) {
		conn_close(v, c, true);
		return;
	}
	if (vsock_conn_credit_due(c))
		c->pending |= VSOCK_PEND_CREDIT;
	maybe_finish(v, c);
}

void vsock_on_conn(void *opaque, uint32_t events)
{
	struct vsock_slot *slot = opaque;
	struct virtio_vsock *v = slot->v;
	struct vsock_conn *c = &v->conn[slot->idx];

	pthread_mutex_lock(&v->t.lock);
	if (c->state != VSOCK_FREE) /* may have been closed by a reset meanwhile */
		host_event(v, c, events);
	rx_pump(v);
	update_all_events(v);
	pthread_mutex_unlock(&v->t.lock);
}

int virtio_vsock_init(struct virtio_vsock *v, const struct guest_mem *mem, uint64_t cid,
		      const char *uds_path, struct event_loop *loop, struct vm_err *err)
{
	memset(v, 0, sizeof(*v));
	if (cid < 3 || cid > UINT32_MAX - 1)
		return vm_errf(err, "vsock: guest CID %llu out of range (3..2^32-2)",
			       (unsigned long long)cid);
	if (strlen(uds_path) + 12 >= sizeof(v->uds_path))
		return vm_errf(err, "vsock: socket path %s too long", uds_path);
	virtio_mmio_init(&v->t, &virtio_vsock_ops, v, mem, 0);
	v->guest_cid = cid;
	strcpy(v->uds_path, uds_path);
	v->loop = loop;
	v->next_ephemeral = VSOCK_EPHEMERAL_BASE;
	for (int i = 0; i < VSOCK_MAX_CONNS; i++) {
		v->conn[i].fd = -1;
		v->slot[i] = (struct vsock_slot){ v, i };
	}
	v->listen_fd = vsock_host_listen(uds_path, err);
	if (v->listen_fd < 0)
		return -1;
	if (loop && event_loop_add(loop, v->listen_fd, EPOLLIN, vsock_on_listener, v) < 0) {
		vm_errno(err, "vsock: watch %s", uds_path);
		close(v->listen_fd);
		return -1;
	}
	return 0;
}

void virtio_vsock_destroy(struct virtio_vsock *v)
{
	close_all(v);
	if (v->listen_fd >= 0) {
		if (v->loop)
			event_loop_del(v->loop, v->listen_fd);
		close(v->listen_fd);
	}
	v->listen_fd = -1;
	virtio_mmio_destroy(&v->t);
}

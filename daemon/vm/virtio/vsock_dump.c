/* vsock_dump.c - the vsock device's connections on stderr, for the VMM's
 * SIGUSR2 dump (debug_dump.c); runs under the transport lock from
 * virtio_mmio_dump(). A connection waiting for guest credit, a control
 * packet owed but not sent (no rx buffer), or a host socket we stopped
 * watching shows up here. */
#include "daemon/vm/virtio/vsock.h"

#include <stdio.h>

static const char *state_name(enum vsock_conn_state s)
{
	switch (s) {
	case VSOCK_FREE: return "free";
	case VSOCK_HOST_LINE: return "host-line";
	case VSOCK_HOST_REQUEST: return "requested";
	case VSOCK_CONNECTED: return "connected";
	}
	return "?";
}

static void dump_conn(const struct vsock_conn *c, int i)
{
	fprintf(stderr, "dump:   conn %d %s host:%u guest:%u fd=%d events=%#x pending=%#x "
		"rx_cnt=%u fwd_cnt=%u told=%u tx_cnt=%u peer_alloc=%u peer_fwd=%u credit=%u "
		"buffered=%u%s%s%s%s%s\n",
		i, state_name(c->state), c->local_port, c->peer_port, c->fd, c->events, c->pending,
		c->rx_cnt, c->fwd_cnt, c->fwd_cnt_told, c->tx_cnt, c->peer_buf_alloc,
		c->peer_fwd_cnt, vsock_conn_peer_credit(c), c->buf_used,
		c->host_readable ? " host-readable" : "", c->host_eof ? " host-eof" : "",
		c->host_hup ? " host-hup" : "", c->guest_no_send ? " guest-no-send" : "",
		c->guest_no_rcv ? " guest-no-rcv" : "");
}

void virtio_vsock_dump(void *dev)
{
	const struct virtio_vsock *v = dev;
	fprintf(stderr, "dump:   vsock cid %llu: rx_pkts=%llu tx_pkts=%llu bad_pkts=%llu "
		"rst_owed=%u\n", (unsigned long long)v->guest_cid,
		(unsigned long long)v->n_rx_pkts, (unsigned long long)v->n_tx_pkts,
		(unsigned long long)v->n_bad_pkts, v->nrst);
	/* Until the guest handles a TRANSPORT_RESET, new host connections wait. */
	if (v->reset_event_pending || v->reset_unacked)
		fprintf(stderr, "dump:   vsock: host CONNECTs held: TRANSPORT_RESET %s\n",
			v->reset_event_pending ? "not sent yet (no event buffer)" :
						 "sent, the guest has not refilled its event queue");
	for (int i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->conn[i].state != VSOCK_FREE)
			dump_conn(&v->conn[i], i);
}

/* net_dump.c - the virtio-net device's state on stderr, for the VMM's
 * SIGUSR2 dump (debug_dump.c); runs under the transport lock from
 * virtio_mmio_dump(). What to look for: rx-blocked with guest buffers
 * posted (a lost kick), tx-stalled with an empty socket (a lost EPOLLOUT),
 * the link down and why, and the counters of dropped frames by reason. */
#include "daemon/vm/virtio/net.h"

#include <stdio.h>

static void dump_backend(const struct virtio_net *n)
{
	const uint8_t *m = n->mac;
	fprintf(stderr, "dump:   net %02x:%02x:%02x:%02x:%02x:%02x link %s%s%s fd=%d events=%#x "
		"gen=%u policy=%s\n", m[0], m[1], m[2], m[3], m[4], m[5],
		n->link_up ? "up" : "down", n->down_reason[0] ? ": " : "", n->down_reason, n->fd,
		n->events, n->backend_gen, n->policy ? "yes" : "none (all allowed)");
	fprintf(stderr, "dump:   net streams: tx buffered=%u%s rx buffered=%u skip=%u%s%s "
		"replies owed=%u tokens=%lld.%03lld\n", n->tx_len,
		n->tx_stalled ? " tx-stalled" : "", n->rx_len, n->rx_skip,
		n->rx_readable ? " rx-readable" : "", n->rx_blocked ? " rx-blocked" : "", n->nreply,
		(long long)(n->reply_tokens_milli / 1000), (long long)(n->reply_tokens_milli % 1000));
}

static void dump_counters(const struct virtio_net_stats *s)
{
	fprintf(stderr, "dump:   net tx: frames=%llu bytes=%llu policy-drops=%llu rejects=%llu "
		"replies=%llu replies-limited=%llu link-down-drops=%llu malformed=%llu "
		"oversize=%llu stalls=%llu\n",
		(unsigned long long)s->tx_frames, (unsigned long long)s->tx_bytes,
		(unsigned long long)s->tx_drop_policy, (unsigned long long)s->tx_rejects,
		(unsigned long long)s->tx_replies, (unsigned long long)s->tx_replies_limited,
		(unsigned long long)s->tx_drop_link_down, (unsigned long long)s->tx_drop_malformed,
		(unsigned long long)s->tx_drop_oversize, (unsigned long long)s->tx_stalls);
	fprintf(stderr, "dump:   net rx: frames=%llu bytes=%llu bad-length=%llu small-buffer=%llu "
		"waits=%llu; link ups=%llu downs=%llu; mac-changes=%llu\n",
		(unsigned long long)s->rx_frames, (unsigned long long)s->rx_bytes,
		(unsigned long long)s->rx_drop_bad_length,
		(unsigned long long)s->rx_drop_small_buffer, (unsigned long long)s->rx_waits,
		(unsigned long long)s->link_ups, (unsigned long long)s->link_downs,
		(unsigned long long)s->mac_changes);
}

void virtio_net_dump(void *dev)
{
	const struct virtio_net *n = dev;
	dump_backend(n);
	dump_counters(&n->stats);
}

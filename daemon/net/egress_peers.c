/* egress_peers.c - the table of recent UDP peers of served ports
 * (egress_peers.h): recording on the receive side, matching answers on
 * the send side. */
#include "daemon/net/egress_peers.h"

#include <string.h>

void egress_peers_clear(struct egress_peers *t)
{
	memset(t, 0, sizeof *t);
}

/* A whole UDP datagram (its header there, not a later fragment). */
static bool is_udp(const struct net_frame *f)
{
	return (f->kind == NET_FRAME_IPV4 || f->kind == NET_FRAME_IPV6) &&
	       f->l4_proto == NET_PROTO_UDP && f->has_l4_header;
}

static bool live(const struct egress_peer *e, int64_t now_ns)
{
	return e->used && now_ns - e->seen_ns < EGRESS_PEER_TTL_NS && now_ns >= e->seen_ns;
}

static bool same(const struct egress_peer *e, uint8_t version, const uint8_t addr[16],
		 uint16_t peer_port, uint16_t served_port)
{
	return e->used && e->ip_version == version && e->peer_port == peer_port &&
	       e->served_port == served_port && !memcmp(e->addr, addr, 16);
}

/* The entry for this peer, else an empty one, else the oldest (an
 * expired entry is older than every live one). */
static struct egress_peer *slot_for(struct egress_peers *t, const struct net_frame *f)
{
	struct egress_peer *oldest = &t->e[0];
	for (size_t i = 0; i < EGRESS_PEERS_MAX; i++) {
		struct egress_peer *e = &t->e[i];
		if (same(e, f->ip_version, f->src_ip, f->src_port, f->dst_port))
			return e;
		if (!e->used)
			oldest = oldest->used ? e : oldest;
		else if (oldest->used && e->seen_ns < oldest->seen_ns)
			oldest = e;
	}
	return oldest;
}

bool egress_peers_note(struct egress_peers *t, const struct egress_policy *p,
                       const struct net_frame *f, int64_t now_ns)
{
	if (!is_udp(f) || !egress_policy_serves(p, EGRESS_PROTO_UDP, f->dst_port))
		return false;
	struct egress_peer *e = slot_for(t, f);
	e->used = true;
	e->ip_version = f->ip_version;
	e->peer_port = f->src_port;
	e->served_port = f->dst_port;
	memcpy(e->addr, f->src_ip, 16);
	e->seen_ns = now_ns;
	return true;
}

bool egress_peers_match(const struct egress_peers *t, const struct egress_policy *p,
                        const struct net_frame *f, int64_t now_ns)
{
	if (!is_udp(f) || !egress_policy_serves(p, EGRESS_PROTO_UDP, f->src_port))
		return false;
	for (size_t i = 0; i < EGRESS_PEERS_MAX; i++) {
		const struct egress_peer *e = &t->e[i];
		if (same(e, f->ip_version, f->dst_ip, f->dst_port, f->src_port) && live(e, now_ns))
			return true;
	}
	return false;
}

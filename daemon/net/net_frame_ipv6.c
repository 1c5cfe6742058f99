/* net_frame_ipv6.c - the IPv6 header of a guest's frame and its chain of
 * extension headers, walked to the L4 protocol (see net_frame.h for what
 * is accepted). The walk is bounded by the packet's end and by
 * NET_FRAME_MAX_EXT_HEADERS, and each header advances it by at least 8
 * bytes, so no chain can loop. */
#include "daemon/net/net_frame_int.h"

#include <string.h>

#define IPV6_HLEN 40
#define EXT_MIN_LEN 8
#define NH_HOP_BY_HOP 0
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_DEST_OPTS 60
#define OPT_PAD1 0
#define OPT_JUMBO 0xc2

struct ext_walk {
	uint8_t next;   /* the next header's type */
	size_t off;     /* where it starts in the frame */
	size_t end;     /* the end of the IP packet in the frame */
	unsigned count; /* extension headers seen */
	bool fragment;  /* a fragment header seen */
	bool done;      /* a later fragment: nothing more to walk */
};

/* Options of a hop-by-hop or destination options header: TLVs filling
 * the header exactly, no jumbo payload. */
static bool check_options(const uint8_t *opt, size_t len, struct net_frame *f)
{
	size_t i = 0;
	while (i < len) {
		if (opt[i] == OPT_PAD1) {
			i++;
			continue;
		}
		if (len - i < 2 || opt[i + 1] > len - i - 2)
			return net_frame_fail(f, "IPv6 option length out of bounds");
		if (opt[i] == OPT_JUMBO)
			return net_frame_fail(f, "IPv6 jumbo payload (unsupported)");
		i += 2 + (size_t)opt[i + 1];
	}
	return true;
}

/* Hop-by-hop, routing, destination options: (length + 1) * 8 bytes. */
static bool walk_sized_header(const uint8_t *buf, struct ext_walk *w,
                              struct net_frame *f)
{
	const uint8_t *h = buf + w->off;
	if (w->end - w->off < EXT_MIN_LEN)
		return net_frame_fail(f, "IPv6 extension header truncated");
	size_t hlen = ((size_t)h[1] + 1) * 8;
	if (hlen > w->end - w->off)
		return net_frame_fail(f, "IPv6 extension header longer than the packet");
	if (w->next == NH_ROUTING && h[3] != 0)
		return net_frame_fail(f, "IPv6 routing header with segments left");
	if (w->next != NH_ROUTING && !check_options(h + 2, hlen - 2, f))
		return false;
	w->next = h[0];
	w->off += hlen;
	return true;
}

static bool walk_fragment_header(const uint8_t *buf, struct ext_walk *w,
                                 struct net_frame *f)
{
	const uint8_t *h = buf + w->off;
	if (w->end - w->off < EXT_MIN_LEN)
		return net_frame_fail(f, "IPv6 fragment header truncated");
	if (w->fragment)
		return net_frame_fail(f, "IPv6 packet with two fragment headers");
	w->fragment = true;
	uint16_t field = net_get16(h + 2);
	size_t offset = field & 0xfff8;
	bool more = field & 1;
	w->next = h[0];
	w->off += EXT_MIN_LEN;
	if (offset == 0 && !more)
		return true; /* an atomic fragment: a whole packet */
	f->frag = offset ? NET_FRAG_LATER : NET_FRAG_FIRST;
	f->l4_proto = w->next;
	if (!net_frame_check_fragment(f, offset, w->end - w->off, more))
		return false;
	if (f->frag == NET_FRAG_LATER) {
		if (w->next != NET_PROTO_TCP && w->next != NET_PROTO_UDP &&
		    w->next != NET_PROTO_ICMPV6)
			return net_frame_fail(f, "later IPv6 fragment not of TCP, UDP or ICMPv6");
		w->done = true;
	}
	return true;
}

/* One step of the walk; w->done once the L4 protocol is reached. */
static bool walk_one(const uint8_t *buf, struct ext_walk *w, struct net_frame *f)
{
	switch (w->next) {
	case NET_PROTO_TCP:
	case NET_PROTO_UDP:
	case NET_PROTO_ICMPV6:
	case NET_PROTO_NONE:
		w->done = true;
		return true;
	case NH_HOP_BY_HOP:
		if (w->count != 0)
			return net_frame_fail(f, "IPv6 hop-by-hop header not first");
		break;
	case NH_ROUTING:
	case NH_DEST_OPTS:
	case NH_FRAGMENT:
		break;
	default:
		return net_frame_fail(f, "unsupported IPv6 next header");
	}
	if (++w->count > NET_FRAME_MAX_EXT_HEADERS)
		return net_frame_fail(f, "too many IPv6 extension headers");
	if (w->next == NH_FRAGMENT)
		return walk_fragment_header(buf, w, f);
	return walk_sized_header(buf, w, f);
}

static bool walk_chain(const uint8_t *buf, struct ext_walk *w, struct net_frame *f)
{
	while (!w->done) {
		if (!walk_one(buf, w, f))
			return false;
	}
	f->l4_proto = w->next;
	f->l4_off = w->off;
	f->l4_len = w->end - w->off;
	return true;
}

bool net_frame_parse_ipv6(const uint8_t *buf, size_t len, struct net_frame *f)
{
	const uint8_t *ip = buf + f->l3_off;
	size_t avail = len - f->l3_off;
	if (avail < IPV6_HLEN)
		return net_frame_fail(f, "IPv6 header truncated");
	if (ip[0] >> 4 != 6)
		return net_frame_fail(f, "IPv6 ethertype with another IP version");
	f->l3_len = IPV6_HLEN + (size_t)net_get16(ip + 4);
	if (f->l3_len > avail)
		return net_frame_fail(f, "IPv6 payload length beyond the frame");
	f->ip_version = 6;
	f->hop_limit = ip[7];
	memcpy(f->src_ip, ip + 8, 16);
	memcpy(f->dst_ip, ip + 24, 16);
	struct ext_walk w = { .next = ip[6], .off = f->l3_off + IPV6_HLEN,
	                      .end = f->l3_off + f->l3_len };
	if (!walk_chain(buf, &w, f))
		return false;
	return net_frame_parse_l4(buf, f);
}

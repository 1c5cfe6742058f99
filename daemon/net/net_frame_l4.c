/* net_frame_l4.c - the L4 headers of a guest's IP packet (TCP, UDP, ICMP,
 * ICMPv6) and the fragment rules that keep ports and flags trustworthy:
 * a first fragment holds the whole L4 header, a later one cannot overlap
 * it (see net_frame.h). */
#include "daemon/net/net_frame_int.h"

#define TCP_MIN_HLEN 20
#define UDP_HLEN 8
#define ICMP_MIN_LEN 8
#define IP_MAX_PACKET 65535

/* The smallest L4 header of a protocol: a later fragment starting below
 * it would overwrite part of the first fragment's header. */
static size_t min_l4_header(uint8_t proto)
{
	switch (proto) {
	case NET_PROTO_TCP: return TCP_MIN_HLEN;
	case NET_PROTO_UDP: return UDP_HLEN;
	case NET_PROTO_ICMP:
	case NET_PROTO_ICMPV6: return ICMP_MIN_LEN;
	default: return 0;
	}
}

bool net_frame_check_fragment(struct net_frame *f, size_t offset,
                              size_t payload_len, bool more_fragments)
{
	if (payload_len == 0)
		return net_frame_fail(f, "empty fragment");
	if (offset + payload_len > IP_MAX_PACKET)
		return net_frame_fail(f, "fragment reaches past 65535 bytes");
	if (more_fragments && payload_len % 8 != 0)
		return net_frame_fail(f, "non-last fragment not a multiple of 8 bytes");
	if (offset != 0 && offset < min_l4_header(f->l4_proto))
		return net_frame_fail(f, "fragment overlapping the L4 header");
	return true;
}

static bool parse_tcp(const uint8_t *t, struct net_frame *f)
{
	if (f->l4_len < TCP_MIN_HLEN)
		return net_frame_fail(f, "TCP header truncated");
	size_t hlen = (size_t)(t[12] >> 4) * 4;
	if (hlen < TCP_MIN_HLEN)
		return net_frame_fail(f, "TCP data offset below 5");
	if (hlen > f->l4_len)
		return net_frame_fail(f, "TCP data offset beyond the packet");
	f->src_port = net_get16(t);
	f->dst_port = net_get16(t + 2);
	f->tcp_seq = net_get32(t + 4);
	f->tcp_ack = net_get32(t + 8);
	f->tcp_flags = t[13];
	f->l4_hdr_len = hlen;
	return true;
}

static bool parse_udp(const uint8_t *u, struct net_frame *f)
{
	if (f->l4_len < UDP_HLEN)
		return net_frame_fail(f, "UDP header truncated");
	size_t udp_len = net_get16(u + 4);
	if (udp_len < UDP_HLEN)
		return net_frame_fail(f, "UDP length below 8");
	if (f->frag == NET_FRAG_NONE && udp_len > f->l4_len)
		return net_frame_fail(f, "UDP length beyond the packet");
	f->src_port = net_get16(u);
	f->dst_port = net_get16(u + 2);
	f->l4_hdr_len = UDP_HLEN;
	return true;
}

static bool parse_icmp(const uint8_t *m, struct net_frame *f)
{
	if (f->l4_len < ICMP_MIN_LEN)
		return net_frame_fail(f, "ICMP header truncated");
	f->icmp_type = m[0];
	f->icmp_code = m[1];
	f->l4_hdr_len = ICMP_MIN_LEN;
	return true;
}

static bool is_icmp_of_family(const struct net_frame *f)
{
	return (f->ip_version == 4 && f->l4_proto == NET_PROTO_ICMP) ||
	       (f->ip_version == 6 && f->l4_proto == NET_PROTO_ICMPV6);
}

bool net_frame_parse_l4(const uint8_t *buf, struct net_frame *f)
{
	if (f->frag == NET_FRAG_LATER)
		return true;
	const uint8_t *l4 = buf + f->l4_off;
	bool ok;
	if (f->l4_proto == NET_PROTO_TCP)
		ok = parse_tcp(l4, f);
	else if (f->l4_proto == NET_PROTO_UDP)
		ok = parse_udp(l4, f);
	else if (is_icmp_of_family(f))
		ok = parse_icmp(l4, f);
	else
		return true;
	f->has_l4_header = ok;
	return ok;
}

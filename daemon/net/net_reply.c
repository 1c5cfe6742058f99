/* net_reply.c - TCP RST and ICMP "administratively prohibited" answers to
 * refused frames (see net_reply.h): Ethernet and IP headers with source
 * and destination swapped, then the L4 part and its checksum. */
#include "daemon/net/net_reply.h"

#include "daemon/net/net_csum.h"

#include <string.h>

#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define TCP_HLEN 20
#define ICMP_HLEN 8
#define REPLY_TTL 64
#define IPV4_FLAG_DF 0x4000
#define ICMP_MAX_V4 576   /* RFC 1812 4.3.2.3 */
#define ICMP_MAX_V6 1280  /* RFC 4443 2.4 (c) */
#define ICMP_UNREACH 3
#define ICMP_CODE_PROHIBITED 13
#define ICMP_ECHO_REQUEST 8
#define ICMPV6_UNREACH 1
#define ICMPV6_CODE_PROHIBITED 1
#define ICMPV6_ECHO_REQUEST 128

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static size_t ip_header_len(const struct net_frame *f)
{
	return f->ip_version == 4 ? IPV4_HLEN : IPV6_HLEN;
}

static void write_ipv4(uint8_t *ip, const struct net_frame *f, uint8_t proto, size_t l4_len)
{
	memset(ip, 0, IPV4_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint32_t)(IPV4_HLEN + l4_len));
	put16(ip + 6, IPV4_FLAG_DF);
	ip[8] = REPLY_TTL;
	ip[9] = proto;
	memcpy(ip + 12, f->dst_ip + 12, 4);
	memcpy(ip + 16, f->src_ip + 12, 4);
	put16(ip + 10, net_csum_finish(net_csum_add(0, ip, IPV4_HLEN)));
}

static void write_ipv6(uint8_t *ip, const struct net_frame *f, uint8_t proto, size_t l4_len)
{
	memset(ip, 0, IPV6_HLEN);
	ip[0] = 0x60;
	put16(ip + 4, (uint32_t)l4_len);
	ip[6] = proto;
	ip[7] = REPLY_TTL;
	memcpy(ip + 8, f->dst_ip, 16);
	memcpy(ip + 24, f->src_ip, 16);
}

/* Ethernet and IP headers of a reply to f carrying l4_len bytes of proto;
 * returns where the L4 part starts. */
static size_t write_headers(const struct net_frame *f, uint8_t proto, size_t l4_len,
                            uint8_t *out)
{
	memcpy(out, f->src_mac, 6);
	memcpy(out + 6, f->dst_mac, 6);
	put16(out + 12, f->ethertype);
	if (f->ip_version == 4)
		write_ipv4(out + NET_ETH_HLEN, f, proto, l4_len);
	else
		write_ipv6(out + NET_ETH_HLEN, f, proto, l4_len);
	return NET_ETH_HLEN + ip_header_len(f);
}

/* The checksum of the L4 part l4 (len bytes) under the IP header ip;
 * ICMP for IPv4 has no pseudo header. */
static uint16_t l4_checksum(const uint8_t *ip, uint8_t proto, const uint8_t *l4, size_t len)
{
	uint32_t sum = 0;
	if (ip[0] >> 4 == 6)
		sum = net_csum_pseudo_v6(ip + 8, ip + 24, proto, len);
	else if (proto != NET_PROTO_ICMP)
		sum = net_csum_pseudo_v4(ip + 12, ip + 16, proto, len);
	return net_csum_finish(net_csum_add(sum, l4, len));
}

static size_t build_rst(const struct net_frame *f, uint8_t *out, size_t size)
{
	size_t total = NET_ETH_HLEN + ip_header_len(f) + TCP_HLEN;
	if (size < total)
		return 0;
	uint8_t *t = out + write_headers(f, NET_PROTO_TCP, TCP_HLEN, out);
	uint32_t syn_len = 1 + (uint32_t)(f->l4_len - f->l4_hdr_len);
	memset(t, 0, TCP_HLEN);
	put16(t, f->dst_port);
	put16(t + 2, f->src_port);
	put32(t + 8, f->tcp_seq + syn_len);
	t[12] = (TCP_HLEN / 4) << 4;
	t[13] = NET_TCP_RST | NET_TCP_ACK;
	put16(t + 16, l4_checksum(out + NET_ETH_HLEN, NET_PROTO_TCP, t, TCP_HLEN));
	return total;
}

static size_t build_prohibited(const uint8_t *frame, const struct net_frame *f,
                               uint8_t *out, size_t size)
{
	bool v4 = f->ip_version == 4;
	size_t limit = (v4 ? ICMP_MAX_V4 : ICMP_MAX_V6) - ip_header_len(f) - ICMP_HLEN;
	size_t quote = f->l3_len < limit ? f->l3_len : limit;
	size_t total = NET_ETH_HLEN + ip_header_len(f) + ICMP_HLEN + quote;
	uint8_t proto = v4 ? NET_PROTO_ICMP : NET_PROTO_ICMPV6;
	if (size < total)
		return 0;
	uint8_t *m = out + write_headers(f, proto, ICMP_HLEN + quote, out);
	memset(m, 0, ICMP_HLEN);
	m[0] = v4 ? ICMP_UNREACH : ICMPV6_UNREACH;
	m[1] = v4 ? ICMP_CODE_PROHIBITED : ICMPV6_CODE_PROHIBITED;
	memcpy(m + ICMP_HLEN, frame + f->l3_off, quote);
	put16(m + 2, l4_checksum(out + NET_ETH_HLEN, proto, m, ICMP_HLEN + quote));
	return total;
}

static bool is_lone_syn(const struct net_frame *f)
{
	uint8_t flags = f->tcp_flags & (NET_TCP_SYN | NET_TCP_ACK | NET_TCP_RST | NET_TCP_FIN);
	return flags == NET_TCP_SYN;
}

static bool is_echo_request(const struct net_frame *f)
{
	return (f->l4_proto == NET_PROTO_ICMP && f->icmp_type == ICMP_ECHO_REQUEST) ||
	       (f->l4_proto == NET_PROTO_ICMPV6 && f->icmp_type == ICMPV6_ECHO_REQUEST);
}

bool net_reply_possible(const struct net_frame *f)
{
	if ((f->kind != NET_FRAME_IPV4 && f->kind != NET_FRAME_IPV6) ||
	    f->frag != NET_FRAG_NONE || !f->has_l4_header)
		return false;
	if (f->l4_proto == NET_PROTO_TCP)
		return is_lone_syn(f);
	return f->l4_proto == NET_PROTO_UDP || is_echo_request(f);
}

size_t net_reply_build(const uint8_t *frame, size_t len, const struct net_frame *f,
                       uint8_t *out, size_t size)
{
	if (!net_reply_possible(f) || len < f->l3_off + f->l3_len)
		return 0;
	if (f->l4_proto == NET_PROTO_TCP)
		return build_rst(f, out, size);
	return build_prohibited(frame, f, out, size);
}

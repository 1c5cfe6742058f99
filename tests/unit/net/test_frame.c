/* test_frame.c - the frame parser (daemon/net/net_frame*.c): well-formed
 * frames of each kind field by field, IPv4 options, IPv6 extension header
 * chains, fragments, a table of malformed frames each refused for its own
 * reason, every truncation of every good frame, and random bytes. */
#include "../check_main.h"
#include "daemon/net/net_frame.h"
#include "frames.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct net_frame parse(const struct fb *b)
{
	struct net_frame f;
	net_frame_parse(b->buf, b->len, &f);
	return f;
}

static void assert_v4(const uint8_t addr[16], const char *text)
{
	uint8_t want[16] = { [10] = 0xff, [11] = 0xff };
	ck_assert_int_eq(inet_pton(AF_INET, text, want + 12), 1);
	ck_assert_mem_eq(addr, want, 16);
}

static void assert_v6(const uint8_t addr[16], const char *text)
{
	uint8_t want[16];
	ck_assert_int_eq(inet_pton(AF_INET6, text, want), 1);
	ck_assert_mem_eq(addr, want, 16);
}

START_TEST(arp_request)
{
	struct fb b;
	fb_arp(&b, vm_mac, VM_IP4, "10.0.2.2");
	struct net_frame f = parse(&b);
	ck_assert_int_eq(f.kind, NET_FRAME_ARP);
	ck_assert_ptr_null(f.error);
	ck_assert_uint_eq(f.arp.op, 1);
	ck_assert_mem_eq(f.arp.sender_mac, vm_mac, 6);
	ck_assert_mem_eq(f.src_mac, vm_mac, 6);
	const uint8_t target[4] = { 10, 0, 2, 2 }, sender[4] = { 10, 0, 2, 15 };
	ck_assert_mem_eq(f.arp.target_ip, target, 4);
	ck_assert_mem_eq(f.arp.sender_ip, sender, 4);
}
END_TEST

START_TEST(ipv4_tcp)
{
	struct fb b;
	fb_tcp4(&b, "93.184.216.34", 443, NET_TCP_SYN);
	struct net_frame f = parse(&b);
	ck_assert_int_eq(f.kind, NET_FRAME_IPV4);
	ck_assert_mem_eq(f.dst_mac, gw_mac, 6);
	ck_assert_uint_eq(f.ethertype, NET_ETHERTYPE_IPV4);
	ck_assert_uint_eq(f.ip_version, 4);
	assert_v4(f.src_ip, VM_IP4);
	assert_v4(f.dst_ip, "93.184.216.34");
	ck_assert_uint_eq(f.hop_limit, 64);
	ck_assert_uint_eq(f.l4_proto, NET_PROTO_TCP);
	ck_assert_int_eq(f.frag, NET_FRAG_NONE);
	ck_assert_uint_eq(f.l3_off, 14);
	ck_assert_uint_eq(f.l3_len, 40);
	ck_assert_uint_eq(f.l4_off, 34);
	ck_assert_uint_eq(f.l4_len, 20);
	ck_assert(f.has_l4_header);
	ck_assert_uint_eq(f.l4_hdr_len, 20);
	ck_assert_uint_eq(f.src_port, 40000);
	ck_assert_uint_eq(f.dst_port, 443);
	ck_assert_uint_eq(f.tcp_flags, NET_TCP_SYN);
	ck_assert_uint_eq(f.tcp_seq, 1000);
}
END_TEST

START_TEST(ipv4_udp_and_icmp)
{
	struct fb b;
	fb_udp4(&b, "9.9.9.9", 53);
	struct net_frame f = parse(&b);
	ck_assert_int_eq(f.kind, NET_FRAME_IPV4);
	ck_assert_uint_eq(f.l4_proto, NET_PROTO_UDP);
	ck_assert_uint_eq(f.dst_port, 53);
	ck_assert_uint_eq(f.l4_len, 20);
	ck_assert_uint_eq(f.l4_hdr_len, 8);

	fb_icmp4(&b, "9.9.9.9", 8);
	f = parse(&b);
	ck_assert_int_eq(f.kind, NET_FRAME_IPV4);
	ck_assert_uint_eq(f.l4_proto, NET_PROTO_ICMP);
	ck_assert(f.has_l4_header);
	ck_assert_uint_eq(f.icmp_type, 8);
	ck_assert_uint_eq(f.icmp_code, 0);
	ck_assert_uint_eq(f.dst_port, 0);
}
END_TEST

START_TEST(ipv6_tcp_udp_icmp)
{
	struct fb b;
	fb_tcp6(&b, "2001:db8::80", 80, NET_TCP_SYN | NET_TCP_ACK);
	struct net_frame f = parse(&b);
	ck_assert_int_eq(f.kind, NET_FRAME_IPV6);
	ck_assert_uint_eq(f.ip_version, 6);
	assert_v6(f.src_ip, VM_IP6);
	assert_v6(f.dst_ip, "2001:db8::80");
	ck_assert_uint_eq(f.l3_len, 60);
	ck_assert_uint_eq(f.l4_off, 54);
	ck_assert_uint_eq(f.dst_port, 80);
	ck_assert_uint_eq(f.tcp_flags, NET_TCP_SYN | NET_TCP_ACK);

	fb_udp6(&b, "2001:db8::53", 53);
	f = parse(&b);
	ck_assert_int_eq(f.kind, NET_FRAME_IPV6);
	ck_assert_uint_eq(f.l4_proto, NET_PROTO_UDP);
	ck_assert_uint_eq(f.dst_port, 53);

	fb_icmp6(&b, "fe80::1", "ff02::2", 133, 255);
	f = parse(&b);
	ck_assert_int_eq(f.kind, NET_FRAME_IPV6);
	ck_assert_uint_eq(f.l4_proto, NET_PROTO_ICMPV6);
	ck_assert_uint_eq(f.icmp_type, 133);
	ck_assert_uint_eq(f.hop_limit, 255);
}
END_TEST

START_TEST(ipv4_options)
{
	const uint8_t opts[] = { 0x94, 4, 0, 0, /* router alert */ 1, /* NOP */
				 7, 7, 4, 0, 0, 0, 0, /* record route, one slot */
				 0, 0, 0, 0 /* EOL, padding */ };
	struct fb b;
	fb_eth(&b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "1.1.1.1", opts, sizeof(opts));
	fb_udp(&b, 1234, 53);
	fb_finish(&b);
	struct net_frame f = parse(&b);
	ck_assert_msg(f.kind == NET_FRAME_IPV4, "%s", f.error);
	ck_assert_uint_eq(f.l4_off, 14 + 20 + sizeof(opts));
	ck_assert_uint_eq(f.dst_port, 53);
}
END_TEST

/* HBH (PadN), routing with no segments left, destination options, an
 * atomic fragment, then TCP. */
static size_t ipv6_chain(struct fb *b)
{
	const uint8_t padn[6] = { 1, 4, 0, 0, 0, 0 };
	const uint8_t routing[6] = { 4, 0, 0, 0, 0, 0 };
	fb_eth(b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(b, VM_IP6, "2001:db8::443");
	fb_ext(b, 0, padn, sizeof(padn));
	fb_ext(b, 43, routing, sizeof(routing));
	fb_ext(b, 60, padn, sizeof(padn));
	fb_ipv6_frag(b, 0, false, 6);
	fb_tcp(b, 1, 443, NET_TCP_SYN, 7);
	return fb_finish(b);
}

START_TEST(ipv6_extension_chain)
{
	struct fb b;
	ipv6_chain(&b);
	struct net_frame f = parse(&b);
	ck_assert_msg(f.kind == NET_FRAME_IPV6, "%s", f.error);
	ck_assert_uint_eq(f.l4_proto, NET_PROTO_TCP);
	ck_assert_int_eq(f.frag, NET_FRAG_NONE);
	ck_assert_uint_eq(f.l4_off, 14 + 40 + 4 * 8);
	ck_assert_uint_eq(f.dst_port, 443);
}
END_TEST

/* Eight destination options headers pass, nine are too many. */
static size_t ipv6_dest_opts_chain(struct fb *b, int n)
{
	const uint8_t pad[6] = { 1, 4, 0, 0, 0, 0 };
	fb_eth(b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(b, VM_IP6, "2001:db8::1");
	for (int i = 0; i < n; i++)
		fb_ext(b, 60, pad, sizeof(pad));
	fb_udp(b, 1, 53);
	return fb_finish(b);
}

START_TEST(ipv6_chain_limit)
{
	struct fb b;
	ipv6_dest_opts_chain(&b, NET_FRAME_MAX_EXT_HEADERS);
	ck_assert_int_eq(parse(&b).kind, NET_FRAME_IPV6);
	ipv6_dest_opts_chain(&b, NET_FRAME_MAX_EXT_HEADERS + 1);
	struct net_frame f = parse(&b);
	ck_assert_int_eq(f.kind, NET_FRAME_MALFORMED);
	ck_assert_str_eq(f.error, "too many IPv6 extension headers");
}
END_TEST

START_TEST(ipv4_fragments)
{
	struct fb b;
	fb_eth(&b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "10.1.2.3", NULL, 0);
	fb_ipv4_frag(&b, 0, true);
	fb_tcp(&b, 5, 443, NET_TCP_ACK, 1);
	fb_payload(&b, 4);
	fb_finish(&b);
	struct net_frame f = parse(&b);
	ck_assert_msg(f.kind == NET_FRAME_IPV4, "%s", f.error);
	ck_assert_int_eq(f.frag, NET_FRAG_FIRST);
	ck_assert(f.has_l4_header);
	ck_assert_uint_eq(f.dst_port, 443);

	fb_eth(&b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "10.1.2.3", NULL, 0);
	b.buf[b.nh] = NET_PROTO_TCP;
	fb_ipv4_frag(&b, 24, false);
	fb_payload(&b, 13);
	fb_finish(&b);
	f = parse(&b);
	ck_assert_msg(f.kind == NET_FRAME_IPV4, "%s", f.error);
	ck_assert_int_eq(f.frag, NET_FRAG_LATER);
	ck_assert(!f.has_l4_header);
	ck_assert_uint_eq(f.l4_proto, NET_PROTO_TCP);
	ck_assert_uint_eq(f.dst_port, 0);
	ck_assert_uint_eq(f.l4_len, 13);
}
END_TEST

START_TEST(ipv6_fragments)
{
	struct fb b;
	const uint8_t pad[6] = { 1, 4, 0, 0, 0, 0 };
	fb_eth(&b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(&b, VM_IP6, "2001:db8::1");
	fb_ipv6_frag(&b, 0, true, 60);
	fb_ext(&b, 60, pad, sizeof(pad));
	fb_udp(&b, 5, 53);
	fb_finish(&b);
	struct net_frame f = parse(&b);
	ck_assert_msg(f.kind == NET_FRAME_IPV6, "%s", f.error);
	ck_assert_int_eq(f.frag, NET_FRAG_FIRST);
	ck_assert_uint_eq(f.l4_proto, NET_PROTO_UDP);
	ck_assert_uint_eq(f.dst_port, 53);

	fb_eth(&b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(&b, VM_IP6, "2001:db8::1");
	fb_ipv6_frag(&b, 16, false, NET_PROTO_UDP);
	fb_payload(&b, 5);
	fb_finish(&b);
	f = parse(&b);
	ck_assert_msg(f.kind == NET_FRAME_IPV6, "%s", f.error);
	ck_assert_int_eq(f.frag, NET_FRAG_LATER);
	ck_assert_uint_eq(f.l4_proto, NET_PROTO_UDP);
	ck_assert(!f.has_l4_header);
	ck_assert_uint_eq(f.l4_len, 5);
}
END_TEST

START_TEST(padding_and_other_ethertypes)
{
	struct fb b;
	fb_tcp4(&b, "1.2.3.4", 22, NET_TCP_SYN);
	memset(b.buf + b.len, 0, 6); /* Ethernet padding up to 60 bytes */
	b.len += 6;
	struct net_frame f = parse(&b);
	ck_assert_int_eq(f.kind, NET_FRAME_IPV4);
	ck_assert_uint_eq(f.l3_len, 40);

	fb_eth(&b, vm_mac, gw_mac, 0x88cc); /* LLDP */
	fb_payload(&b, 30);
	ck_assert_int_eq(parse(&b).kind, NET_FRAME_OTHER);
	fb_eth(&b, vm_mac, gw_mac, 0x0842); /* wake-on-LAN */
	ck_assert_int_eq(parse(&b).kind, NET_FRAME_OTHER);
}
END_TEST

/* Malformed frames, each refused for its own reason. */
struct bad_case {
	const char *name;
	void (*build)(struct fb *b);
	const char *error;
};

static void set_byte(struct fb *b, size_t off, uint8_t v)
{
	b->buf[off] = v;
}

static void bad_vlan(struct fb *b) { fb_tcp4(b, "1.1.1.1", 1, 2); set_byte(b, 12, 0x81); set_byte(b, 13, 0); }
static void bad_qinq(struct fb *b) { fb_tcp4(b, "1.1.1.1", 1, 2); set_byte(b, 12, 0x88); set_byte(b, 13, 0xa8); }
static void bad_arp_htype(struct fb *b) { fb_arp(b, vm_mac, VM_IP4, "10.0.2.2"); set_byte(b, 15, 6); }
static void bad_arp_op(struct fb *b) { fb_arp(b, vm_mac, VM_IP4, "10.0.2.2"); set_byte(b, 21, 3); }
static void bad_ihl(struct fb *b) { fb_tcp4(b, "1.1.1.1", 1, 2); set_byte(b, 14, 0x44); }
static void bad_ihl_long(struct fb *b) { fb_tcp4(b, "1.1.1.1", 1, 2); set_byte(b, 14, 0x4f); b->len = 14 + 40; }
static void bad_v4_version(struct fb *b) { fb_tcp4(b, "1.1.1.1", 1, 2); set_byte(b, 14, 0x65); }
static void bad_total_long(struct fb *b) { fb_tcp4(b, "1.1.1.1", 1, 2); set_byte(b, 17, 41); }
static void bad_total_short(struct fb *b) { fb_tcp4(b, "1.1.1.1", 1, 2); set_byte(b, 17, 19); }
static void bad_reserved_flag(struct fb *b) { fb_tcp4(b, "1.1.1.1", 1, 2); set_byte(b, 20, 0x80); }
static void bad_tcp_doff_long(struct fb *b) { fb_tcp4(b, "1.1.1.1", 1, 2); set_byte(b, 34 + 12, 0x60); }
static void bad_tcp_doff_short(struct fb *b) { fb_tcp4(b, "1.1.1.1", 1, 2); set_byte(b, 34 + 12, 0x40); }
static void bad_udp_len_long(struct fb *b) { fb_udp4(b, "1.1.1.1", 53); set_byte(b, 34 + 5, 21); }
static void bad_udp_len_short(struct fb *b) { fb_udp4(b, "1.1.1.1", 53); set_byte(b, 34 + 5, 7); }

static void ipv4_with_options(struct fb *b, const uint8_t *opts, size_t len)
{
	fb_eth(b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(b, VM_IP4, "1.1.1.1", opts, len);
	fb_udp(b, 1, 53);
	fb_finish(b);
}

static void bad_lsrr(struct fb *b)
{
	const uint8_t o[] = { 0x83, 7, 4, 10, 9, 9, 9, 0 };
	ipv4_with_options(b, o, sizeof(o));
}

static void bad_ssrr(struct fb *b)
{
	const uint8_t o[] = { 1, 0x89, 7, 4, 10, 9, 9, 9 };
	ipv4_with_options(b, o, sizeof(o));
}

static void bad_option_len(struct fb *b)
{
	const uint8_t o[] = { 1, 1, 0x94, 3 }; /* runs past the header */
	ipv4_with_options(b, o, sizeof(o));
}

static void bad_option_len_one(struct fb *b)
{
	const uint8_t o[] = { 0x94, 1, 0, 0 };
	ipv4_with_options(b, o, sizeof(o));
}

static void bad_icmp_short(struct fb *b)
{
	fb_eth(b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(b, VM_IP4, "1.1.1.1", NULL, 0);
	b->buf[b->nh] = NET_PROTO_ICMP;
	fb_payload(b, 4);
	fb_finish(b);
}

static void v4_fragment(struct fb *b, size_t offset, bool more, size_t payload)
{
	fb_eth(b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(b, VM_IP4, "1.1.1.1", NULL, 0);
	b->buf[b->nh] = NET_PROTO_TCP;
	fb_ipv4_frag(b, offset, more);
	fb_payload(b, payload);
	fb_finish(b);
}

static void bad_tiny_first_fragment(struct fb *b) { v4_fragment(b, 0, true, 8); }
static void bad_overlapping_fragment(struct fb *b) { v4_fragment(b, 8, false, 24); }
static void bad_fragment_not_8(struct fb *b) { v4_fragment(b, 24, true, 12); }
static void bad_ping_of_death(struct fb *b) { v4_fragment(b, 65528, false, 16); }
static void bad_empty_fragment(struct fb *b) { v4_fragment(b, 64, false, 0); }

static void bad_v6_version(struct fb *b) { fb_tcp6(b, "2001:db8::1", 1, 2); set_byte(b, 14, 0x40); }
static void bad_v6_payload_long(struct fb *b) { fb_tcp6(b, "2001:db8::1", 1, 2); set_byte(b, 19, 21); }
static void bad_v6_tcp_short(struct fb *b) { fb_tcp6(b, "2001:db8::1", 1, 2); set_byte(b, 19, 19); }

static void v6_ext(struct fb *b, uint8_t type, const uint8_t *body, size_t len)
{
	fb_eth(b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(b, VM_IP6, "2001:db8::1");
	fb_ext(b, type, body, len);
	fb_udp(b, 1, 53);
	fb_finish(b);
}

static void bad_routing(struct fb *b)
{
	const uint8_t r[14] = { 0, 1 }; /* type 0, one segment left */
	v6_ext(b, 43, r, sizeof(r));
}

static void bad_hbh_second(struct fb *b)
{
	const uint8_t pad[6] = { 1, 4 };
	fb_eth(b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(b, VM_IP6, "2001:db8::1");
	fb_ext(b, 60, pad, sizeof(pad));
	fb_ext(b, 0, pad, sizeof(pad));
	fb_udp(b, 1, 53);
	fb_finish(b);
}

static void bad_two_fragment_headers(struct fb *b)
{
	fb_eth(b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(b, VM_IP6, "2001:db8::1");
	fb_ipv6_frag(b, 0, false, 44);
	fb_ipv6_frag(b, 0, true, 17);
	fb_udp(b, 1, 53);
	fb_finish(b);
}

static void bad_esp(struct fb *b)
{
	fb_tcp6(b, "2001:db8::1", 1, 2);
	set_byte(b, 20, 50);
}

static void bad_option_overrun(struct fb *b)
{
	const uint8_t o[6] = { 1, 5 }; /* PadN of 5 in 4 bytes */
	v6_ext(b, 60, o, sizeof(o));
}

static void bad_jumbo(struct fb *b)
{
	const uint8_t o[6] = { 0xc2, 4, 0, 1, 0, 0 };
	v6_ext(b, 0, o, sizeof(o));
}

static void bad_ext_len(struct fb *b)
{
	const uint8_t o[6] = { 1, 4 };
	v6_ext(b, 60, o, sizeof(o));
	set_byte(b, 54 + 1, 2); /* 24 bytes, but only 16 follow */
}

static void bad_v6_later_dest_opts(struct fb *b)
{
	fb_eth(b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(b, VM_IP6, "2001:db8::1");
	fb_ipv6_frag(b, 64, false, 60);
	fb_payload(b, 16);
	fb_finish(b);
}

static void bad_v6_overlapping(struct fb *b)
{
	fb_eth(b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(b, VM_IP6, "2001:db8::1");
	fb_ipv6_frag(b, 8, true, NET_PROTO_TCP);
	fb_payload(b, 16);
	fb_finish(b);
}

static void bad_v6_tiny_first(struct fb *b)
{
	fb_eth(b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(b, VM_IP6, "2001:db8::1");
	fb_ipv6_frag(b, 0, true, NET_PROTO_TCP);
	fb_payload(b, 8);
	fb_finish(b);
}

static const struct bad_case bad_cases[] = {
	{ "vlan", bad_vlan, "VLAN" },
	{ "qinq", bad_qinq, "VLAN" },
	{ "arp htype", bad_arp_htype, "ARP not for Ethernet" },
	{ "arp op", bad_arp_op, "ARP operation" },
	{ "ihl < 5", bad_ihl, "below 20 bytes" },
	{ "ihl > frame", bad_ihl_long, "IPv4 header longer than the frame" },
	{ "v4 version", bad_v4_version, "another IP version" },
	{ "total > frame", bad_total_long, "total length beyond the frame" },
	{ "total < header", bad_total_short, "shorter than its header" },
	{ "reserved flag", bad_reserved_flag, "reserved flag" },
	{ "tcp doff > packet", bad_tcp_doff_long, "data offset beyond the packet" },
	{ "tcp doff < 5", bad_tcp_doff_short, "data offset below 5" },
	{ "udp len > packet", bad_udp_len_long, "UDP length beyond" },
	{ "udp len < 8", bad_udp_len_short, "UDP length below 8" },
	{ "lsrr", bad_lsrr, "source route" },
	{ "ssrr", bad_ssrr, "source route" },
	{ "option past header", bad_option_len, "option length" },
	{ "option length 1", bad_option_len_one, "option length" },
	{ "icmp short", bad_icmp_short, "ICMP header truncated" },
	{ "tiny first fragment", bad_tiny_first_fragment, "TCP header truncated" },
	{ "overlapping fragment", bad_overlapping_fragment, "overlapping the L4 header" },
	{ "fragment not 8", bad_fragment_not_8, "multiple of 8" },
	{ "ping of death", bad_ping_of_death, "past 65535" },
	{ "empty fragment", bad_empty_fragment, "empty fragment" },
	{ "v6 version", bad_v6_version, "another IP version" },
	{ "v6 payload > frame", bad_v6_payload_long, "payload length beyond" },
	{ "v6 tcp short", bad_v6_tcp_short, "TCP header truncated" },
	{ "routing segments left", bad_routing, "segments left" },
	{ "hop-by-hop second", bad_hbh_second, "hop-by-hop header not first" },
	{ "two fragment headers", bad_two_fragment_headers, "two fragment headers" },
	{ "esp", bad_esp, "unsupported IPv6 next header" },
	{ "option overrun", bad_option_overrun, "option length" },
	{ "jumbo", bad_jumbo, "jumbo" },
	{ "extension past packet", bad_ext_len, "longer than the packet" },
	{ "later fragment of dest opts", bad_v6_later_dest_opts, "not of TCP, UDP or ICMPv6" },
	{ "v6 overlapping fragment", bad_v6_overlapping, "overlapping the L4 header" },
	{ "v6 tiny first fragment", bad_v6_tiny_first, "TCP header truncated" },
};

START_TEST(malformed_frames)
{
	const struct bad_case *c = &bad_cases[_i];
	struct fb b;
	c->build(&b);
	struct net_frame f = parse(&b);
	ck_assert_msg(f.kind == NET_FRAME_MALFORMED, "%s: parsed as %s", c->name,
		      net_frame_kind_name(f.kind));
	ck_assert_msg(f.error && strstr(f.error, c->error), "%s: error \"%s\", want \"%s\"",
		      c->name, f.error, c->error);
}
END_TEST

/* Good frames, for truncation. */
static void good_arp(struct fb *b) { fb_arp(b, vm_mac, VM_IP4, "10.0.2.2"); }
static void good_tcp4(struct fb *b) { fb_tcp4(b, "1.2.3.4", 443, NET_TCP_SYN); }
static void good_udp4(struct fb *b) { fb_udp4(b, "1.2.3.4", 53); }
static void good_icmp4(struct fb *b) { fb_icmp4(b, "1.2.3.4", 8); }
static void good_tcp6(struct fb *b) { fb_tcp6(b, "2001:db8::1", 443, NET_TCP_SYN); }
static void good_udp6(struct fb *b) { fb_udp6(b, "2001:db8::1", 53); }
static void good_nd(struct fb *b) { fb_icmp6(b, "fe80::2", "ff02::2", 133, 255); }
static void good_chain(struct fb *b) { ipv6_chain(b); }
static void good_later4(struct fb *b) { v4_fragment(b, 24, false, 16); }
static void good_options(struct fb *b)
{
	const uint8_t o[] = { 0x94, 4, 0, 0 };
	ipv4_with_options(b, o, sizeof(o));
}

static void (*const good_frames[])(struct fb *) = {
	good_arp, good_tcp4, good_udp4, good_icmp4, good_tcp6, good_udp6,
	good_nd, good_chain, good_later4, good_options,
};

START_TEST(every_truncation_is_malformed)
{
	struct fb b;
	good_frames[_i](&b);
	struct net_frame f;
	ck_assert_int_ne(net_frame_parse(b.buf, b.len, &f), NET_FRAME_MALFORMED);
	for (size_t len = 0; len < b.len; len++) {
		/* a copy of exactly len bytes, so ASan sees any read past it */
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, b.buf, len);
		net_frame_parse(copy, len, &f);
		ck_assert_msg(f.kind == NET_FRAME_MALFORMED, "frame %d cut to %zu of %zu bytes: %s",
			      _i, len, b.len, net_frame_kind_name(f.kind));
		free(copy);
	}
}
END_TEST

/* Whatever parses must describe bytes within the frame. */
static void assert_consistent(const struct net_frame *f, size_t len)
{
	if (f->kind != NET_FRAME_IPV4 && f->kind != NET_FRAME_IPV6)
		return;
	ck_assert_uint_le(f->l3_off + f->l3_len, len);
	ck_assert_uint_ge(f->l4_off, f->l3_off);
	ck_assert_uint_eq(f->l4_off + f->l4_len, f->l3_off + f->l3_len);
	if (f->has_l4_header)
		ck_assert_uint_le(f->l4_hdr_len, f->l4_len);
	ck_assert(f->frag != NET_FRAG_LATER || !f->has_l4_header);
}

/* Random bytes behind a random common ethertype. */
static size_t random_frame(uint8_t *buf)
{
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x0806, 0x8100, 0x1234 };
	size_t len = (size_t)random() % 160;
	for (size_t j = 0; j < len; j++)
		buf[j] = (uint8_t)random();
	if (len >= 14) {
		uint16_t t = types[random() % 5];
		buf[12] = (uint8_t)(t >> 8);
		buf[13] = (uint8_t)t;
	}
	return len;
}

/* A good frame with a few bytes changed, maybe cut or extended. */
static size_t mutated_frame(uint8_t *buf)
{
	struct fb b;
	good_frames[random() % (sizeof(good_frames) / sizeof(good_frames[0]))](&b);
	int changes = 1 + (int)(random() % 4);
	for (int k = 0; k < changes; k++)
		b.buf[random() % b.len] = (uint8_t)random();
	size_t len = b.len;
	if (random() % 4 == 0)
		len = (size_t)random() % (b.len + 16);
	memcpy(buf, b.buf, len);
	return len;
}

START_TEST(random_bytes)
{
	int kinds[NET_FRAME_IPV6 + 1] = { 0 }, with_l4 = 0;
	srandom(1301);
	for (int i = 0; i < 100000; i++) {
		uint8_t *buf = malloc(FB_MAX);
		size_t len = i % 2 ? random_frame(buf) : mutated_frame(buf);
		uint8_t *exact = malloc(len ? len : 1); /* ASan sees reads past len */
		memcpy(exact, buf, len);
		struct net_frame f;
		kinds[net_frame_parse(exact, len, &f)]++;
		with_l4 += f.has_l4_header;
		assert_consistent(&f, len);
		free(exact);
		free(buf);
	}
	/* the mutations reach past the IP headers often */
	ck_assert_int_gt(kinds[NET_FRAME_IPV4], 1000);
	ck_assert_int_gt(kinds[NET_FRAME_IPV6], 1000);
	ck_assert_int_gt(kinds[NET_FRAME_ARP], 100);
	ck_assert_int_gt(with_l4, 1000);
	printf("random: %d malformed, %d ipv4, %d ipv6, %d arp, %d with an L4 header\n",
	       kinds[NET_FRAME_MALFORMED], kinds[NET_FRAME_IPV4], kinds[NET_FRAME_IPV6],
	       kinds[NET_FRAME_ARP], with_l4);
}
END_TEST

static Suite *frame_suite(void)
{
	Suite *s = suite_create("net_frame");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, arp_request);
	tcase_add_test(tc, ipv4_tcp);
	tcase_add_test(tc, ipv4_udp_and_icmp);
	tcase_add_test(tc, ipv6_tcp_udp_icmp);
	tcase_add_test(tc, ipv4_options);
	tcase_add_test(tc, ipv6_extension_chain);
	tcase_add_test(tc, ipv6_chain_limit);
	tcase_add_test(tc, ipv4_fragments);
	tcase_add_test(tc, ipv6_fragments);
	tcase_add_test(tc, padding_and_other_ethertypes);
	tcase_add_loop_test(tc, malformed_frames, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_loop_test(tc, every_truncation_is_malformed, 0,
			    sizeof(good_frames) / sizeof(good_frames[0]));
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, random_bytes);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(frame_suite)

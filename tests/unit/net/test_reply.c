/* test_reply.c - the answers to refused frames (daemon/net/net_reply.c):
 * TCP RST+ACK and ICMP/ICMPv6 "administratively prohibited", field by
 * field, with every checksum recomputed here (frames.c's own, not
 * net_csum.c), the quote's size limits, and the frames never answered. */
#include "../check_main.h"
#include "daemon/net/net_reply.h"
#include "frames.h"

#include <arpa/inet.h>
#include <string.h>

static uint8_t reply[NET_REPLY_MAX];

static size_t answer(const struct fb *b)
{
	struct net_frame f;
	ck_assert_int_ne(net_frame_parse(b->buf, b->len, &f), NET_FRAME_MALFORMED);
	memset(reply, 0xee, sizeof(reply));
	return net_reply_build(b->buf, b->len, &f, reply, sizeof(reply));
}

static void assert_addr(int family, const uint8_t *p, const char *text)
{
	uint8_t want[16];
	ck_assert_int_eq(inet_pton(family, text, want), 1);
	ck_assert_mem_eq(p, want, family == AF_INET ? 4 : 16);
}

static void assert_ethernet(uint16_t type)
{
	ck_assert_mem_eq(reply, vm_mac, 6);
	ck_assert_mem_eq(reply + 6, gw_mac, 6);
	ck_assert_uint_eq(rd16(reply + 12), type);
}

/* The IPv4 header of the reply: from peer to the VM, checksum right. */
static const uint8_t *assert_ipv4(const char *peer, uint8_t proto, size_t total)
{
	const uint8_t *ip = reply + 14;
	assert_ethernet(0x0800);
	ck_assert_uint_eq(ip[0], 0x45);
	ck_assert_uint_eq(rd16(ip + 2), total);
	ck_assert_uint_eq(rd16(ip + 6), 0x4000);
	ck_assert_uint_eq(ip[8], 64);
	ck_assert_uint_eq(ip[9], proto);
	assert_addr(AF_INET, ip + 12, peer);
	assert_addr(AF_INET, ip + 16, VM_IP4);
	ck_assert_uint_eq(ref_csum(ip, 20, 0), 0);
	return ip;
}

static const uint8_t *assert_ipv6(const char *peer, uint8_t proto, size_t payload)
{
	const uint8_t *ip = reply + 14;
	assert_ethernet(0x86dd);
	ck_assert_uint_eq(rd32(ip), 0x60000000);
	ck_assert_uint_eq(rd16(ip + 4), payload);
	ck_assert_uint_eq(ip[6], proto);
	ck_assert_uint_eq(ip[7], 64);
	assert_addr(AF_INET6, ip + 8, peer);
	assert_addr(AF_INET6, ip + 24, VM_IP6);
	return ip;
}

static void assert_rst(const uint8_t *ip, uint32_t ack)
{
	const uint8_t *t = ip + (ip[0] >> 4 == 4 ? 20 : 40);
	ck_assert_uint_eq(rd16(t), 443);
	ck_assert_uint_eq(rd16(t + 2), 40000);
	ck_assert_uint_eq(rd32(t + 4), 0);
	ck_assert_uint_eq(rd32(t + 8), ack);
	ck_assert_uint_eq(t[12], 0x50);
	ck_assert_uint_eq(t[13], NET_TCP_RST | NET_TCP_ACK);
	ck_assert_uint_eq(rd16(t + 14), 0);
	ck_assert_uint_eq(ref_csum(t, 20, ref_pseudo(ip, NET_PROTO_TCP, 20)), 0);
}

START_TEST(rst_ipv4)
{
	struct fb b;
	fb_tcp4(&b, "93.184.216.34", 443, NET_TCP_SYN);
	ck_assert_uint_eq(answer(&b), 14 + 20 + 20);
	assert_rst(assert_ipv4("93.184.216.34", NET_PROTO_TCP, 40), 1001);
	struct net_frame r;
	ck_assert_int_eq(net_frame_parse(reply, 54, &r), NET_FRAME_IPV4);
	ck_assert_uint_eq(r.tcp_flags, NET_TCP_RST | NET_TCP_ACK);
}
END_TEST

/* A SYN with data (TCP Fast Open) near the sequence wrap: ACK covers
 * SYN and data, modulo 2^32. */
START_TEST(rst_counts_syn_data)
{
	struct fb b;
	fb_eth(&b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "1.2.3.4", NULL, 0);
	fb_tcp(&b, 40000, 443, NET_TCP_SYN, 0xfffffffe);
	fb_payload(&b, 10);
	fb_finish(&b);
	ck_assert_uint_eq(answer(&b), 54);
	assert_rst(assert_ipv4("1.2.3.4", NET_PROTO_TCP, 40), 9);
}
END_TEST

START_TEST(rst_ipv6)
{
	struct fb b;
	fb_tcp6(&b, "2001:db8::443", 443, NET_TCP_SYN | NET_TCP_PSH);
	ck_assert_uint_eq(answer(&b), 14 + 40 + 20);
	assert_rst(assert_ipv6("2001:db8::443", NET_PROTO_TCP, 20), 1001);
}
END_TEST

static void assert_quote(const uint8_t *icmp, const struct fb *b, size_t quote)
{
	ck_assert_mem_eq(icmp + 8, b->buf + 14, quote);
	ck_assert_uint_eq(rd32(icmp + 4), 0);
}

START_TEST(prohibited_udp4)
{
	struct fb b;
	fb_udp4(&b, "9.9.9.9", 53);
	memset(b.buf + b.len, 0, 8); /* Ethernet padding: not quoted */
	b.len += 8;
	size_t quote = 20 + 8 + 12;
	ck_assert_uint_eq(answer(&b), 14 + 20 + 8 + quote);
	const uint8_t *m = assert_ipv4("9.9.9.9", NET_PROTO_ICMP, 20 + 8 + quote) + 20;
	ck_assert_uint_eq(m[0], 3);
	ck_assert_uint_eq(m[1], 13);
	ck_assert_uint_eq(ref_csum(m, 8 + quote, 0), 0);
	assert_quote(m, &b, quote);
}
END_TEST

START_TEST(prohibited_echo4_and_6)
{
	struct fb b;
	fb_icmp4(&b, "9.9.9.9", 8);
	size_t quote = 20 + 8 + 16;
	ck_assert_uint_eq(answer(&b), 14 + 20 + 8 + quote);
	const uint8_t *m = assert_ipv4("9.9.9.9", NET_PROTO_ICMP, 28 + quote) + 20;
	ck_assert_uint_eq(m[0], 3);
	ck_assert_uint_eq(m[1], 13);
	ck_assert_uint_eq(ref_csum(m, 8 + quote, 0), 0);
	assert_quote(m, &b, quote);

	fb_icmp6(&b, VM_IP6, "2001:db8::1", 128, 64);
	quote = 40 + 8 + 16;
	ck_assert_uint_eq(answer(&b), 14 + 40 + 8 + quote);
	const uint8_t *ip = assert_ipv6("2001:db8::1", NET_PROTO_ICMPV6, 8 + quote);
	m = ip + 40;
	ck_assert_uint_eq(m[0], 1);
	ck_assert_uint_eq(m[1], 1);
	ck_assert_uint_eq(ref_csum(m, 8 + quote, ref_pseudo(ip, NET_PROTO_ICMPV6, 8 + quote)), 0);
	assert_quote(m, &b, quote);
}
END_TEST

/* Long packets are quoted up to 576 bytes of IPv4, 1280 of IPv6. */
START_TEST(quote_limits)
{
	struct fb b;
	fb_eth(&b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "9.9.9.9", NULL, 0);
	fb_udp(&b, 40000, 53);
	fb_payload(&b, 1000);
	fb_finish(&b);
	ck_assert_uint_eq(answer(&b), 14 + 576);
	const uint8_t *m = assert_ipv4("9.9.9.9", NET_PROTO_ICMP, 576) + 20;
	ck_assert_uint_eq(ref_csum(m, 576 - 20, 0), 0);
	assert_quote(m, &b, 576 - 28);

	fb_eth(&b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(&b, VM_IP6, "2001:db8::1");
	fb_udp(&b, 40000, 53);
	fb_payload(&b, 1400);
	fb_finish(&b);
	ck_assert_uint_eq(answer(&b), NET_REPLY_MAX);
	const uint8_t *ip = assert_ipv6("2001:db8::1", NET_PROTO_ICMPV6, 1280 - 40);
	m = ip + 40;
	ck_assert_uint_eq(ref_csum(m, 1240, ref_pseudo(ip, NET_PROTO_ICMPV6, 1240)), 0);
	assert_quote(m, &b, 1280 - 48);
}
END_TEST

START_TEST(buffer_size)
{
	struct fb b;
	struct net_frame f;
	fb_udp4(&b, "9.9.9.9", 53);
	net_frame_parse(b.buf, b.len, &f);
	size_t need = 14 + 20 + 8 + 40;
	ck_assert_uint_eq(net_reply_build(b.buf, b.len, &f, reply, need - 1), 0);
	ck_assert_uint_eq(net_reply_build(b.buf, b.len, &f, reply, need), need);
	ck_assert_uint_eq(net_reply_build(b.buf, b.len - 1, &f, reply, need), 0); /* not f's frame */
	fb_tcp4(&b, "9.9.9.9", 443, NET_TCP_SYN);
	net_frame_parse(b.buf, b.len, &f);
	ck_assert_uint_eq(net_reply_build(b.buf, b.len, &f, reply, 53), 0);
	ck_assert_uint_eq(net_reply_build(b.buf, b.len, &f, reply, 54), 54);
}
END_TEST

static void assert_no_answer(const struct fb *b)
{
	struct net_frame f;
	net_frame_parse(b->buf, b->len, &f);
	ck_assert(!net_reply_possible(&f));
	ck_assert_uint_eq(net_reply_build(b->buf, b->len, &f, reply, sizeof(reply)), 0);
}

START_TEST(never_answered)
{
	struct fb b;
	const uint8_t flags[] = { NET_TCP_ACK, NET_TCP_RST, NET_TCP_RST | NET_TCP_ACK,
				  NET_TCP_SYN | NET_TCP_ACK, NET_TCP_SYN | NET_TCP_FIN, 0 };
	for (size_t i = 0; i < sizeof(flags); i++) {
		fb_tcp4(&b, "9.9.9.9", 443, flags[i]);
		assert_no_answer(&b);
	}
	const uint8_t icmp4[] = { 0, 3, 4, 5, 11, 12, 13 };
	for (size_t i = 0; i < sizeof(icmp4); i++) {
		fb_icmp4(&b, "9.9.9.9", icmp4[i]);
		assert_no_answer(&b);
	}
	const uint8_t icmp6[] = { 1, 2, 3, 4, 129, 133, 135 };
	for (size_t i = 0; i < sizeof(icmp6); i++) {
		fb_icmp6(&b, VM_IP6, "2001:db8::1", icmp6[i], 64);
		assert_no_answer(&b);
	}
	fb_eth(&b, vm_mac, gw_mac, 0x0800); /* a first fragment */
	fb_ipv4(&b, VM_IP4, "9.9.9.9", NULL, 0);
	fb_ipv4_frag(&b, 0, true);
	fb_udp(&b, 1, 53);
	fb_payload(&b, 8);
	fb_finish(&b);
	assert_no_answer(&b);
	fb_ipv4_frag(&b, 64, false); /* a later one */
	assert_no_answer(&b);
	fb_arp(&b, vm_mac, VM_IP4, "10.0.2.2");
	assert_no_answer(&b);
	fb_tcp4(&b, "9.9.9.9", 443, NET_TCP_SYN);
	b.buf[14] = 0x46; /* malformed */
	assert_no_answer(&b);
}
END_TEST

static Suite *reply_suite(void)
{
	Suite *s = suite_create("net_reply");
	TCase *tc = tcase_create("reply");
	tcase_add_test(tc, rst_ipv4);
	tcase_add_test(tc, rst_counts_syn_data);
	tcase_add_test(tc, rst_ipv6);
	tcase_add_test(tc, prohibited_udp4);
	tcase_add_test(tc, prohibited_echo4_and_6);
	tcase_add_test(tc, quote_limits);
	tcase_add_test(tc, buffer_size);
	tcase_add_test(tc, never_answered);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(reply_suite)

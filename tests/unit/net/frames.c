/* frames.c - the test frame builder and reference checksum (frames.h). */
#include "frames.h"

#include <arpa/inet.h>
#include <check.h>
#include <string.h>

const uint8_t vm_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
const uint8_t gw_mac[6] = { 0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55 };

uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static void wr16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

static uint8_t *grow(struct fb *b, size_t n)
{
	ck_assert_uint_le(b->len + n, FB_MAX);
	uint8_t *p = b->buf + b->len;
	memset(p, 0, n);
	b->len += n;
	return p;
}

static void put_addr(int family, const char *text, uint8_t *out)
{
	ck_assert_msg(inet_pton(family, text, out) == 1, "bad test address %s", text);
}

void fb_eth(struct fb *b, const uint8_t src[6], const uint8_t dst[6], uint16_t type)
{
	memset(b, 0, sizeof(*b));
	uint8_t *e = grow(b, 14);
	memcpy(e, dst, 6);
	memcpy(e + 6, src, 6);
	wr16(e + 12, type);
}

void fb_ipv4(struct fb *b, const char *src, const char *dst, const uint8_t *opts, size_t optlen)
{
	ck_assert_uint_eq(optlen % 4, 0);
	b->version = 4;
	b->l3 = b->len;
	uint8_t *ip = grow(b, 20 + optlen);
	ip[0] = (uint8_t)(0x40 | (5 + optlen / 4));
	wr16(ip + 4, 0x1234);
	ip[8] = 64;
	put_addr(AF_INET, src, ip + 12);
	put_addr(AF_INET, dst, ip + 16);
	if (optlen)
		memcpy(ip + 20, opts, optlen);
	b->nh = b->l3 + 9;
}

void fb_ipv4_frag(struct fb *b, size_t offset, bool more)
{
	wr16(b->buf + b->l3 + 6, (more ? 0x2000 : 0) | offset / 8);
}

void fb_ipv6(struct fb *b, const char *src, const char *dst)
{
	b->version = 6;
	b->l3 = b->len;
	uint8_t *ip = grow(b, 40);
	ip[0] = 0x60;
	ip[7] = 64;
	put_addr(AF_INET6, src, ip + 8);
	put_addr(AF_INET6, dst, ip + 24);
	b->nh = b->l3 + 6;
}

void fb_ext(struct fb *b, uint8_t type, const uint8_t *body, size_t body_len)
{
	ck_assert_uint_eq((body_len + 2) % 8, 0);
	b->buf[b->nh] = type;
	size_t at = b->len;
	uint8_t *h = grow(b, 2 + body_len);
	h[1] = (uint8_t)((body_len + 2) / 8 - 1);
	if (body_len)
		memcpy(h + 2, body, body_len);
	b->nh = at;
}

void fb_ipv6_frag(struct fb *b, size_t offset, bool more, uint8_t proto)
{
	b->buf[b->nh] = 44;
	size_t at = b->len;
	uint8_t *h = grow(b, 8);
	h[0] = proto;
	wr16(h + 2, offset | (more ? 1 : 0));
	wr32(h + 4, 0xabcd);
	b->nh = at;
	b->proto = proto;
}

void fb_tcp(struct fb *b, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq)
{
	b->buf[b->nh] = 6;
	b->proto = 6;
	b->l4 = b->len;
	uint8_t *t = grow(b, 20);
	wr16(t, sport);
	wr16(t + 2, dport);
	wr32(t + 4, seq);
	t[12] = 5 << 4;
	t[13] = flags;
	wr16(t + 14, 65535);
}

void fb_udp(struct fb *b, uint16_t sport, uint16_t dport)
{
	b->buf[b->nh] = 17;
	b->proto = 17;
	b->l4 = b->len;
	uint8_t *u = grow(b, 8);
	wr16(u, sport);
	wr16(u + 2, dport);
}

void fb_icmp(struct fb *b, uint8_t type, uint8_t code)
{
	b->proto = b->version == 4 ? 1 : 58;
	b->buf[b->nh] = b->proto;
	b->l4 = b->len;
	uint8_t *m = grow(b, 8);
	m[0] = type;
	m[1] = code;
	wr32(m + 4, 0x00420001);
}

void fb_payload(struct fb *b, size_t n)
{
	uint8_t *p = grow(b, n);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + 3);
}

uint16_t ref_csum(const uint8_t *p, size_t len, uint32_t start)
{
	uint64_t sum = start;
	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t ref_pseudo(const uint8_t *ip, uint8_t proto, size_t len)
{
	uint8_t ph[40];
	size_t n;
	if (ip[0] >> 4 == 4) {
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = proto;
		wr16(ph + 10, len);
		n = 12;
	} else {
		memcpy(ph, ip + 8, 32);
		wr32(ph + 32, (uint32_t)len);
		memset(ph + 36, 0, 3);
		ph[39] = proto;
		n = 40;
	}
	return (uint16_t)~ref_csum(ph, n, 0);
}

static void finish_l4(struct fb *b)
{
	uint8_t *l4 = b->buf + b->l4, *ip = b->buf + b->l3;
	size_t len = b->len - b->l4;
	size_t field = b->proto == 6 ? 16 : b->proto == 17 ? 6 : 2;
	if (b->proto == 17)
		wr16(l4 + 4, len);
	wr16(l4 + field, 0);
	uint32_t start = b->proto == 1 ? 0 : ref_pseudo(ip, b->proto, len);
	wr16(l4 + field, ref_csum(l4, len, start));
}

size_t fb_finish(struct fb *b)
{
	uint8_t *ip = b->buf + b->l3;
	if (b->version == 4) {
		wr16(ip + 2, b->len - b->l3);
		wr16(ip + 10, 0);
		wr16(ip + 10, ref_csum(ip, (size_t)(ip[0] & 15) * 4, 0));
	} else if (b->version == 6) {
		wr16(ip + 4, b->len - b->l3 - 40);
	}
	if (b->l4)
		finish_l4(b);
	return b->len;
}

size_t fb_tcp4(struct fb *b, const char *dst, uint16_t dport, uint8_t flags)
{
	fb_eth(b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(b, VM_IP4, dst, NULL, 0);
	fb_tcp(b, 40000, dport, flags, 1000);
	return fb_finish(b);
}

size_t fb_udp4(struct fb *b, const char *dst, uint16_t dport)
{
	fb_eth(b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(b, VM_IP4, dst, NULL, 0);
	fb_udp(b, 40000, dport);
	fb_payload(b, 12);
	return fb_finish(b);
}

size_t fb_icmp4(struct fb *b, const char *dst, uint8_t type)
{
	fb_eth(b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(b, VM_IP4, dst, NULL, 0);
	fb_icmp(b, type, 0);
	fb_payload(b, 16);
	return fb_finish(b);
}

size_t fb_tcp6(struct fb *b, const char *dst, uint16_t dport, uint8_t flags)
{
	fb_eth(b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(b, VM_IP6, dst);
	fb_tcp(b, 40000, dport, flags, 1000);
	return fb_finish(b);
}

size_t fb_udp6(struct fb *b, const char *dst, uint16_t dport)
{
	fb_eth(b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(b, VM_IP6, dst);
	fb_udp(b, 40000, dport);
	fb_payload(b, 12);
	return fb_finish(b);
}

size_t fb_icmp6(struct fb *b, const char *src, const char *dst, uint8_t type, uint8_t hop_limit)
{
	fb_eth(b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(b, src, dst);
	b->buf[b->l3 + 7] = hop_limit;
	fb_icmp(b, type, 0);
	fb_payload(b, 16);
	return fb_finish(b);
}

size_t fb_arp(struct fb *b, const uint8_t sender_mac[6], const char *sender_ip, const char *target_ip)
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	fb_eth(b, vm_mac, broadcast, 0x0806);
	uint8_t *a = grow(b, 28);
	wr16(a, 1);
	wr16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, 1);
	memcpy(a + 8, sender_mac, 6);
	put_addr(AF_INET, sender_ip, a + 14);
	put_addr(AF_INET, target_ip, a + 24);
	return b->len;
}

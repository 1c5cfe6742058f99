/* frames.h - a builder of Ethernet frames for the daemon/net tests, piece
 * by piece (Ethernet, IP, IPv6 extension headers, L4, payload), and a
 * checksum of its own (not net_csum.c's) to check replies with. Written
 * from the RFCs' layouts, independently of the parser under test. */
#ifndef SM_TEST_NET_FRAMES_H
#define SM_TEST_NET_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FB_MAX 2048

struct fb {
	uint8_t buf[FB_MAX];
	size_t len;
	int version;   /* 4, 6 or 0 (no IP) */
	size_t l3, l4; /* offsets; l4 0 until an L4 header is added */
	size_t nh;     /* offset of the last "next header" field */
	uint8_t proto; /* the L4 protocol added */
};

extern const uint8_t vm_mac[6], gw_mac[6];
#define VM_IP4 "10.0.2.15"
#define VM_IP6 "2001:db8:1::15"

void fb_eth(struct fb *b, const uint8_t src[6], const uint8_t dst[6], uint16_t type);
/* IPv4 header with options (optlen a multiple of 4), TTL 64. */
void fb_ipv4(struct fb *b, const char *src, const char *dst, const uint8_t *opts, size_t optlen);
/* Set the IPv4 fragment offset (bytes, a multiple of 8) and MF. */
void fb_ipv4_frag(struct fb *b, size_t offset, bool more);
void fb_ipv6(struct fb *b, const char *src, const char *dst);
/* An IPv6 extension header of type with body (its first two bytes, next
 * header and length, are filled in; body_len + 2 a multiple of 8). */
void fb_ext(struct fb *b, uint8_t type, const uint8_t *body, size_t body_len);
/* An IPv6 fragment header (offset in bytes) followed by proto. */
void fb_ipv6_frag(struct fb *b, size_t offset, bool more, uint8_t proto);
void fb_tcp(struct fb *b, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq);
void fb_udp(struct fb *b, uint16_t sport, uint16_t dport);
void fb_icmp(struct fb *b, uint8_t type, uint8_t code); /* ICMPv6 under IPv6 */
void fb_payload(struct fb *b, size_t n);
/* Lengths and checksums; call last. Returns b->len. */
size_t fb_finish(struct fb *b);

/* Whole frames from the VM (vm_mac) to the gateway (gw_mac). */
size_t fb_tcp4(struct fb *b, const char *dst, uint16_t dport, uint8_t flags);
size_t fb_udp4(struct fb *b, const char *dst, uint16_t dport);
size_t fb_icmp4(struct fb *b, const char *dst, uint8_t type);
size_t fb_tcp6(struct fb *b, const char *dst, uint16_t dport, uint8_t flags);
size_t fb_udp6(struct fb *b, const char *dst, uint16_t dport);
size_t fb_icmp6(struct fb *b, const char *src, const char *dst, uint8_t type, uint8_t hop_limit);
size_t fb_arp(struct fb *b, const uint8_t sender_mac[6], const char *sender_ip, const char *target_ip);

/* RFC 1071 over a byte range, folded and complemented; 0 means a range
 * holding its own correct checksum. */
uint16_t ref_csum(const uint8_t *p, size_t len, uint32_t start);
/* The pseudo-header sum of the IP packet at ip for an L4 part of len. */
uint32_t ref_pseudo(const uint8_t *ip, uint8_t proto, size_t len);

uint16_t rd16(const uint8_t *p);
uint32_t rd32(const uint8_t *p);

#endif

/* net_frame_int.h - what the parser's files share (net_frame.c: Ethernet
 * and ARP; net_frame_ipv4.c, net_frame_ipv6.c: the IP headers;
 * net_frame_l4.c: TCP, UDP, ICMP and the fragment rules). Each step reads
 * only bytes it has checked are within the frame. */
#ifndef SM_NET_FRAME_INT_H
#define SM_NET_FRAME_INT_H

#include "daemon/net/net_frame.h"

static inline uint16_t net_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t net_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Mark f malformed for the reason why (a static string); returns false. */
bool net_frame_fail(struct net_frame *f, const char *why);

/* The IP packet at f->l3_off (the frame holds len bytes). On success f has
 * its addresses, protocol, fragment state and L3/L4 offsets set. */
bool net_frame_parse_ipv4(const uint8_t *buf, size_t len, struct net_frame *f);
bool net_frame_parse_ipv6(const uint8_t *buf, size_t len, struct net_frame *f);

/* The fragment rules once the fragment's byte offset and payload length
 * are known: offset + length within 65535, a non-last fragment a multiple
 * of 8 bytes, a later one not starting inside the minimal L4 header. */
bool net_frame_check_fragment(struct net_frame *f, size_t offset,
                              size_t payload_len, bool more_fragments);

/* The L4 header at f->l4_off (f->l4_len bytes) for TCP, UDP, ICMP and
 * ICMPv6, unless f is a later fragment; other protocols pass untouched. */
bool net_frame_parse_l4(const uint8_t *buf, struct net_frame *f);

#endif

/* net_csum.h - the Internet checksum (RFC 1071) over byte ranges, with
 * the IPv4 and IPv6 pseudo headers of TCP, UDP and ICMPv6. Sums are kept
 * unfolded in 32 bits; add pieces of even length except the last. */
#ifndef SM_NET_CSUM_H
#define SM_NET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* sum plus the big-endian 16-bit words of p (an odd last byte padded). */
uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t len);

/* The checksum field's value: the folded one's complement of sum. */
uint16_t net_csum_finish(uint32_t sum);

/* The pseudo header of an L4 packet of len bytes and protocol proto
 * between src and dst (4-byte IPv4 or 16-byte IPv6 addresses). */
uint32_t net_csum_pseudo_v4(const uint8_t src[4], const uint8_t dst[4],
                            uint8_t proto, size_t len);
uint32_t net_csum_pseudo_v6(const uint8_t src[16], const uint8_t dst[16],
                            uint8_t proto, size_t len);

#endif

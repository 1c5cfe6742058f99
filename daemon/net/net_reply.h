/* net_reply.h - the answer to a frame the egress policy REJECTed, built
 * into a caller's buffer and handed to the guest's rx queue as if the
 * peer (or its gateway) had answered, so a refused program fails at once:
 *   - a TCP SYN gets RST+ACK (RFC 9293 3.10.7.1: SEQ 0, ACK = the SYN's
 *     sequence number + its length, SYN and data counted);
 *   - UDP, and an ICMP or ICMPv6 echo request, get a destination
 *     unreachable "administratively prohibited" (ICMP type 3 code 13,
 *     RFC 1812 5.2.7.1; ICMPv6 type 1 code 1, RFC 4443 3.1), quoting the
 *     refused packet from its IP header on, as much as fits in 576 bytes
 *     of IPv4 (RFC 1812 4.3.2.3) or 1280 of IPv6 (RFC 4443 2.4 (c)).
 * The reply's source MAC and address are the refused frame's destination,
 * its destination the guest. IP and L4 checksums are complete; TTL and
 * hop limit are 64.
 */
#ifndef SM_NET_REPLY_H
#define SM_NET_REPLY_H

#include "daemon/net/net_frame.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A buffer this size holds any reply. */
#define NET_REPLY_MAX (NET_ETH_HLEN + 1280)

/* Whether f is something to answer: an unfragmented TCP SYN without ACK,
 * RST or FIN, unfragmented UDP, or an unfragmented ICMP/ICMPv6 echo
 * request. Never an answer to an answer (RST, any ACK, ICMP errors and
 * echo replies). */
bool net_reply_possible(const struct net_frame *f);

/* Build the reply to frame (len bytes, parsed into *f) into out (size
 * bytes). Returns the reply's length, or 0 when f is not something to
 * answer (net_reply_possible) or out is too small. */
size_t net_reply_build(const uint8_t *frame, size_t len, const struct net_frame *f,
                       uint8_t *out, size_t size);

#endif

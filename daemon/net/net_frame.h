/* net_frame.h - parse one Ethernet frame a guest sent (virtio-net's tx
 * queue, after the virtio_net_hdr) into a plain struct the egress policy
 * decides on. The parser trusts nothing: the guest may send any bytes.
 *
 * Every length is checked against the buffer, and whatever is not exactly
 * understood is NET_FRAME_MALFORMED with a reason, never a guess:
 *   - Ethernet: VLAN tags (0x8100, 0x88a8) are not supported (malformed);
 *     ethertypes other than ARP, IPv4 and IPv6 are NET_FRAME_OTHER.
 *   - ARP: Ethernet/IPv4 request or reply, 28 bytes, else malformed.
 *   - IPv4: IHL >= 5 and within the frame, total length within the frame
 *     (bytes after it are Ethernet padding), options well formed, no
 *     source-route options (LSRR, SSRR: the real destination would not be
 *     the header's), reserved flag clear, non-last fragments a multiple of
 *     8 bytes, no fragment reaching past 65535 bytes.
 *   - IPv6: payload length within the frame (no jumbograms), extension
 *     headers hop-by-hop (first only), routing (segments left 0 only, for
 *     the same reason as source routes), destination options, fragment (at
 *     most one), at most NET_FRAME_MAX_EXT_HEADERS of them, options padded
 *     exactly; any other next header than TCP, UDP, ICMPv6 or "no next
 *     header" is malformed (an unknown one cannot be told from an unknown
 *     extension header).
 *   - Fragments: a first fragment must hold the whole L4 header (RFC 1858,
 *     RFC 7112); a later fragment must not start inside the minimal L4
 *     header (an overlapping fragment could rewrite ports or flags) and its
 *     IPv6 fragment header must be followed by TCP, UDP or ICMPv6. Later
 *     fragments have no ports, flags or ICMP type (has_l4_header false).
 *   - TCP: data offset >= 5 and within the packet; UDP: length >= 8 and,
 *     unfragmented, within the packet; ICMP/ICMPv6: at least 8 bytes.
 *
 * Addresses are kept in the 16-byte IPv6 form; IPv4 ones are v4-mapped
 * (::ffff:a.b.c.d), and ip_version says which family the packet is.
 * Offsets count from the start of the frame.
 */
#ifndef SM_NET_FRAME_H
#define SM_NET_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_ETH_HLEN 14
#define NET_ETHERTYPE_IPV4 0x0800
#define NET_ETHERTYPE_ARP 0x0806
#define NET_ETHERTYPE_IPV6 0x86dd

#define NET_PROTO_ICMP 1
#define NET_PROTO_TCP 6
#define NET_PROTO_UDP 17
#define NET_PROTO_ICMPV6 58
#define NET_PROTO_NONE 59 /* IPv6 "no next header" */

#define NET_TCP_FIN 0x01
#define NET_TCP_SYN 0x02
#define NET_TCP_RST 0x04
#define NET_TCP_PSH 0x08
#define NET_TCP_ACK 0x10

#define NET_FRAME_MAX_EXT_HEADERS 8

enum net_frame_kind {
	NET_FRAME_MALFORMED, /* see net_frame.error */
	NET_FRAME_OTHER,     /* an ethertype we do not handle */
	NET_FRAME_ARP,
	NET_FRAME_IPV4,
	NET_FRAME_IPV6,
};

enum net_frag {
	NET_FRAG_NONE,  /* not fragmented (an IPv6 atomic fragment too) */
	NET_FRAG_FIRST, /* offset 0, more fragments follow */
	NET_FRAG_LATER, /* offset > 0: no L4 header in this packet */
};

struct net_arp {
	uint16_t op; /* 1 request, 2 reply */
	uint8_t sender_mac[6], sender_ip[4];
	uint8_t target_mac[6], target_ip[4];
};

struct net_frame {
	enum net_frame_kind kind;
	const char *error; /* MALFORMED: why (a static string), else NULL */
	uint8_t dst_mac[6], src_mac[6];
	uint16_t ethertype;
	struct net_arp arp; /* NET_FRAME_ARP */

	/* NET_FRAME_IPV4 and NET_FRAME_IPV6 */
	uint8_t ip_version;        /* 4 or 6 */
	uint8_t src_ip[16], dst_ip[16];
	uint8_t hop_limit;         /* TTL or hop limit */
	uint8_t l4_proto;          /* after the IPv6 extension headers */
	enum net_frag frag;
	size_t l3_off, l3_len;     /* the IP packet, without Ethernet padding */
	size_t l4_off, l4_len;     /* what follows the IP headers, to l3 end */

	/* TCP, UDP, ICMP and ICMPv6 when the packet holds their header
	 * (never in a later fragment) */
	bool has_l4_header;
	size_t l4_hdr_len;         /* TCP: data offset * 4; UDP, ICMP: 8 */
	uint16_t src_port, dst_port; /* TCP and UDP */
	uint8_t tcp_flags;
	uint32_t tcp_seq, tcp_ack;
	uint8_t icmp_type, icmp_code; /* ICMP and ICMPv6 */
};

/* Parse len bytes of one Ethernet frame into *f (always fully written).
 * Returns f->kind. */
enum net_frame_kind net_frame_parse(const uint8_t *buf, size_t len,
                                    struct net_frame *f);

/* The name of a kind, for logs: "malformed", "other", "arp", "ipv4", "ipv6". */
const char *net_frame_kind_name(enum net_frame_kind kind);

/* True when a 16-byte address is v4-mapped (::ffff:0:0/96). */
bool net_addr_is_v4_mapped(const uint8_t addr[16]);

#endif

/* net_frame.c - the Ethernet frame parser's entry (see net_frame.h): the
 * Ethernet header, ARP, and the hand-off to the IPv4 and IPv6 parsers. */
#include "daemon/net/net_frame_int.h"

#include <string.h>

#define ARP_LEN 28
#define ARP_HTYPE_ETHERNET 1

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool net_frame_fail(struct net_frame *f, const char *why)
{
	f->kind = NET_FRAME_MALFORMED;
	f->error = why;
	return false;
}

bool net_addr_is_v4_mapped(const uint8_t addr[16])
{
	return memcmp(addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;
}

const char *net_frame_kind_name(enum net_frame_kind kind)
{
	switch (kind) {
	case NET_FRAME_MALFORMED: return "malformed";
	case NET_FRAME_OTHER: return "other";
	case NET_FRAME_ARP: return "arp";
	case NET_FRAME_IPV4: return "ipv4";
	case NET_FRAME_IPV6: return "ipv6";
	}
	return "?";
}

/* An Ethernet/IPv4 ARP request or reply, nothing else. */
static bool parse_arp(const uint8_t *buf, size_t len, struct net_frame *f)
{
	const uint8_t *a = buf + NET_ETH_HLEN;
	if (len - NET_ETH_HLEN < ARP_LEN)
		return net_frame_fail(f, "ARP packet shorter than 28 bytes");
	if (net_get16(a) != ARP_HTYPE_ETHERNET || net_get16(a + 2) != NET_ETHERTYPE_IPV4 ||
	    a[4] != 6 || a[5] != 4)
		return net_frame_fail(f, "ARP not for Ethernet and IPv4");
	f->arp.op = net_get16(a + 6);
	if (f->arp.op != 1 && f->arp.op != 2)
		return net_frame_fail(f, "ARP operation neither request nor reply");
	memcpy(f->arp.sender_mac, a + 8, 6);
	memcpy(f->arp.sender_ip, a + 14, 4);
	memcpy(f->arp.target_mac, a + 18, 6);
	memcpy(f->arp.target_ip, a + 24, 4);
	f->kind = NET_FRAME_ARP;
	return true;
}

/* The payload after the Ethernet header, by ethertype. */
static void parse_payload(const uint8_t *buf, size_t len, struct net_frame *f)
{
	f->l3_off = NET_ETH_HLEN;
	switch (f->ethertype) {
	case NET_ETHERTYPE_ARP:
		parse_arp(buf, len, f);
		return;
	case NET_ETHERTYPE_IPV4:
		if (net_frame_parse_ipv4(buf, len, f))
			f->kind = NET_FRAME_IPV4;
		return;
	case NET_ETHERTYPE_IPV6:
		if (net_frame_parse_ipv6(buf, len, f))
			f->kind = NET_FRAME_IPV6;
		return;
	case 0x8100:
	case 0x88a8:
		net_frame_fail(f, "VLAN tagged frame (unsupported)");
		return;
	default:
		f->kind = NET_FRAME_OTHER;
		return;
	}
}

enum net_frame_kind net_frame_parse(const uint8_t *buf, size_t len,
                                    struct net_frame *f)
{
	memset(f, 0, sizeof(*f));
	if (!buf || len < NET_ETH_HLEN) {
		net_frame_fail(f, "frame shorter than an Ethernet header");
		return f->kind;
	}
	memcpy(f->dst_mac, buf, 6);
	memcpy(f->src_mac, buf + 6, 6);
	f->ethertype = net_get16(buf + 12);
	parse_payload(buf, len, f);
	return f->kind;
}

/* net_frame_ipv4.c - the IPv4 header of a guest's frame (see net_frame.h
 * for the rules): lengths, options, fragment fields, then the L4 header. */
#include "daemon/net/net_frame_int.h"

#include <string.h>

#define IPV4_MIN_HLEN 20
#define IPV4_FLAG_RESERVED 0x8000
#define IPV4_FLAG_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

#define IPV4_OPT_END 0
#define IPV4_OPT_NOP 1
#define IPV4_OPT_LSRR 0x83
#define IPV4_OPT_SSRR 0x89

static void set_v4_mapped(uint8_t out[16], const uint8_t *v4)
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

/* Options: each well formed within the header, no source route. */
static bool check_options(const uint8_t *opt, size_t len, struct net_frame *f)
{
	size_t i = 0;
	while (i < len) {
		uint8_t type = opt[i];
		if (type == IPV4_OPT_END)
			return true;
		if (type == IPV4_OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2 || opt[i + 1] < 2 || opt[i + 1] > len - i)
			return net_frame_fail(f, "IPv4 option length out of bounds");
		if (type == IPV4_OPT_LSRR || type == IPV4_OPT_SSRR)
			return net_frame_fail(f, "IPv4 source route option");
		i += opt[i + 1];
	}
	return true;
}

/* Version, header and total lengths against the frame. */
static bool check_lengths(const uint8_t *ip, size_t avail, struct net_frame *f,
                          size_t *hlen)
{
	if (avail < IPV4_MIN_HLEN)
		return net_frame_fail(f, "IPv4 header truncated");
	if (ip[0] >> 4 != 4)
		return net_frame_fail(f, "IPv4 ethertype with another IP version");
	*hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (*hlen < IPV4_MIN_HLEN)
		return net_frame_fail(f, "IPv4 header length below 20 bytes");
	if (*hlen > avail)
		return net_frame_fail(f, "IPv4 header longer than the frame");
	size_t total = net_get16(ip + 2);
	if (total < *hlen)
		return net_frame_fail(f, "IPv4 total length shorter than its header");
	if (total > avail)
		return net_frame_fail(f, "IPv4 total length beyond the frame");
	f->l3_len = total;
	return true;
}

/* Flags and fragment offset into f->frag, checked. */
static bool parse_fragment_fields(const uint8_t *ip, size_t hlen, struct net_frame *f)
{
	uint16_t field = net_get16(ip + 6);
	if (field & IPV4_FLAG_RESERVED)
		return net_frame_fail(f, "IPv4 reserved flag set");
	size_t offset = (size_t)(field & IPV4_OFFSET_MASK) * 8;
	bool more = field & IPV4_FLAG_MF;
	if (offset == 0 && !more) {
		f->frag = NET_FRAG_NONE;
		return true;
	}
	f->frag = offset ? NET_FRAG_LATER : NET_FRAG_FIRST;
	if (offset + f->l3_len > 65535)
		return net_frame_fail(f, "IPv4 fragment reaches past 65535 bytes");
	return net_frame_check_fragment(f, offset, f->l3_len - hlen, more);
}

bool net_frame_parse_ipv4(const uint8_t *buf, size_t len, struct net_frame *f)
{
	const uint8_t *ip = buf + f->l3_off;
	size_t hlen;
	if (!check_lengths(ip, len - f->l3_off, f, &hlen))
		return false;
	if (!check_options(ip + IPV4_MIN_HLEN, hlen - IPV4_MIN_HLEN, f))
		return false;
	f->ip_version = 4;
	f->hop_limit = ip[8];
	f->l4_proto = ip[9];
	set_v4_mapped(f->src_ip, ip + 12);
	set_v4_mapped(f->dst_ip, ip + 16);
	f->l4_off = f->l3_off + hlen;
	f->l4_len = f->l3_len - hlen;
	if (!parse_fragment_fields(ip, hlen, f))
		return false;
	return net_frame_parse_l4(buf, f);
}

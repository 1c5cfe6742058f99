/* net_csum.c - the Internet checksum and its pseudo headers (see
 * net_csum.h). */
#include "daemon/net/net_csum.h"

uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;
	for (i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (i < len)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

uint16_t net_csum_finish(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t add_length(uint32_t sum, uint8_t proto, uint32_t len)
{
	const uint8_t tail[] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
				 (uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, proto };
	return net_csum_add(sum, tail, sizeof(tail));
}

uint32_t net_csum_pseudo_v4(const uint8_t src[4], const uint8_t dst[4],
                            uint8_t proto, size_t len)
{
	uint32_t sum = net_csum_add(net_csum_add(0, src, 4), dst, 4);
	return add_length(sum, proto, (uint32_t)len);
}

uint32_t net_csum_pseudo_v6(const uint8_t src[16], const uint8_t dst[16],
                            uint8_t proto, size_t len)
{
	uint32_t sum = net_csum_add(net_csum_add(0, src, 16), dst, 16);
	return add_length(sum, proto, (uint32_t)len);
}

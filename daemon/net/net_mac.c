/* net_mac.c - MAC addresses as text (net_mac.h). */
#include "daemon/net/net_mac.h"

#include <stdio.h>
#include <string.h>

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly "hh:hh:hh:hh:hh:hh": 0, else -1. */
static int parse_syntax(const char *t, uint8_t mac[6])
{
	if (strlen(t) != NET_MAC_TEXT_LEN)
		return -1;
	for (int i = 0; i < 6; i++) {
		const char *p = t + 3 * i;
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

const char *net_mac_unusable(const uint8_t mac[6])
{
	if (mac[0] & 1)
		return "a multicast address (bit 0 of the first byte set), not a unicast one";
	if (!(mac[0] & 2))
		return "not locally administered (bit 1 of the first byte clear): "
		       "use one such as 52:54:00:xx:xx:xx";
	return NULL;
}

int net_mac_parse(const char *text, uint8_t mac[6], char *err, size_t errlen)
{
	uint8_t m[6];
	const char *why = NULL;
	if (!text || parse_syntax(text, m) < 0)
		why = "want six hex pairs joined by ':', as 52:54:00:12:34:56";
	else
		why = net_mac_unusable(m);
	if (why) {
		snprintf(err, errlen, "MAC \"%s\": %s", text ? text : "", why);
		return -1;
	}
	memcpy(mac, m, 6);
	return 0;
}

void net_mac_format(const uint8_t mac[6], char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

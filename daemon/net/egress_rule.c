/* egress_rule.c - the egress policy's rules and address blocks as text
 * (what a CLI flag or an API field gives), parsed strictly with an error
 * that names the input, formatted back, and matched against addresses.
 * The grammar is in egress_policy.h. */
#include "daemon/net/egress_policy.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define V4_MAPPED_BITS 96

struct parse_ctx {
	const char *what; /* "rule", "address" */
	const char *text;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(const struct parse_ctx *c, const char *fmt, ...)
{
	if (!c->err || c->errlen == 0)
		return -1;
	int n = snprintf(c->err, c->errlen, "%s \"%s\": ", c->what, c->text);
	if (n < 0 || (size_t)n >= c->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Digits only, at most 6 of them (so no overflow); false otherwise. */
static bool parse_decimal(const char *s, size_t len, unsigned long *out)
{
	if (len == 0 || len > 6)
		return false;
	unsigned long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return true;
}

static size_t digits_at(const char *s)
{
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

static size_t count_char(const char *s, size_t len, char ch)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == ch;
	return n;
}

/* One address (s, len bytes) of a family (4 or 6) as a /32 or /128. */
static int parse_address(const struct parse_ctx *c, const char *s, size_t len,
                         int family, struct egress_cidr *out)
{
	char buf[INET6_ADDRSTRLEN];
	if (len == 0)
		return fail(c, "no address");
	if (len >= sizeof(buf))
		return fail(c, "address too long");
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)family;
	out->prefix_len = 128;
	if (family == 4) {
		out->addr[10] = out->addr[11] = 0xff;
		if (inet_pton(AF_INET, buf, out->addr + 12) != 1)
			return fail(c, "\"%s\" is not an IPv4 address", buf);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->addr) != 1)
		return fail(c, "\"%s\" is not an IPv6 address", buf);
	if (net_addr_is_v4_mapped(out->addr))
		return fail(c, "IPv4-mapped IPv6 address: write the IPv4 address");
	return 0;
}

static bool host_bits_clear(const struct egress_cidr *b)
{
	for (unsigned bit = b->prefix_len; bit < 128; bit++) {
		if (b->addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	}
	return true;
}

/* "/LEN" digits (s, len bytes) applied to an address block. */
static int apply_prefix(const struct parse_ctx *c, const char *s, size_t len,
                        struct egress_cidr *b)
{
	unsigned max = b->family == 4 ? 32 : 128;
	unsigned long bits;
	if (b->family == 0)
		return fail(c, "\"any\" takes no prefix length");
	if (!parse_decimal(s, len, &bits))
		return fail(c, "bad prefix length \"/%.*s\"", (int)len, s);
	if (bits > max)
		return fail(c, "prefix /%lu too long for an IPv%u address (at most /%u)",
			    bits, b->family, max);
	b->prefix_len = (uint8_t)(b->family == 4 ? V4_MAPPED_BITS + bits : bits);
	if (!host_bits_clear(b))
		return fail(c, "address has bits set past its /%lu prefix", bits);
	return 0;
}

/* The address part of a rule at text + *pos: any, [IPV6], IPV6 or IPV4;
 * *pos moves past it. */
static int parse_rule_address(const struct parse_ctx *c, size_t *pos,
                              struct egress_cidr *b)
{
	const char *s = c->text + *pos;
	size_t len;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return fail(c, "'[' without ']'");
		*pos += (size_t)(close - s) + 1;
		return parse_address(c, s + 1, (size_t)(close - s) - 1, 6, b);
	}
	len = strcspn(s, ":/");
	if (len == 3 && strncasecmp(s, "any", 3) == 0) {
		memset(b, 0, sizeof(*b));
		*pos += 3;
		return 0;
	}
	if (count_char(s, strcspn(s, "/"), ':') >= 2) {
		len = strcspn(s, "/"); /* IPv6 without brackets */
		*pos += len;
		return parse_address(c, s, len, 6, b);
	}
	*pos += len;
	return parse_address(c, s, len, 4, b);
}

static int parse_ports(const struct parse_ctx *c, const char *s, size_t len,
                       struct egress_rule *r)
{
	const char *dash = memchr(s, '-', len);
	size_t first_len = dash ? (size_t)(dash - s) : len;
	unsigned long lo, hi;
	if (!parse_decimal(s, first_len, &lo) ||
	    (dash && !parse_decimal(dash + 1, len - first_len - 1, &hi)))
		return fail(c, "bad port or port range \"%.*s\"", (int)len, s);
	if (!dash)
		hi = lo;
	if (lo == 0 || hi == 0)
		return fail(c, "port 0 is not a port (ports are 1 to 65535)");
	if (lo > 65535 || hi > 65535)
		return fail(c, "port %lu above 65535", lo > 65535 ? lo : hi);
	if (lo > hi)
		return fail(c, "reversed port range %lu-%lu", lo, hi);
	r->port_min = (uint16_t)lo;
	r->port_max = (uint16_t)hi;
	return 0;
}

static int parse_proto(const struct parse_ctx *c, const char *s, enum egress_proto *p)
{
	static const char *const names[] = {
		[EGRESS_PROTO_ANY] = "any", [EGRESS_PROTO_TCP] = "tcp",
		[EGRESS_PROTO_UDP] = "udp", [EGRESS_PROTO_ICMP] = "icmp",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i]) == 0) {
			*p = (enum egress_proto)i;
			return 0;
		}
	}
	return fail(c, "unknown protocol \"%s\" (tcp, udp, icmp or any)", s);
}

/* What follows the address: [/LEN][:PORTS][/PROTO], then the end. */
static int parse_rule_tail(const struct parse_ctx *c, size_t pos, struct egress_rule *r)
{
	const char *s = c->text;
	if (s[pos] == '/' && digits_at(s + pos + 1) > 0) {
		size_t n = strcspn(s + pos + 1, ":/");
		if (apply_prefix(c, s + pos + 1, n, &r->dst) < 0)
			return -1;
		pos += 1 + n;
	}
	if (s[pos] == ':') {
		size_t n = strcspn(s + pos + 1, "/");
		if (parse_ports(c, s + pos + 1, n, r) < 0)
			return -1;
		pos += 1 + n;
	}
	if (s[pos] == '/')
		return parse_proto(c, s + pos + 1, &r->proto);
	if (s[pos] != '\0')
		return fail(c, "unexpected \"%s\" after the address", s + pos);
	return 0;
}

int egress_rule_parse(const char *text, bool allow, struct egress_rule *r,
                      char *err, size_t errlen)
{
	struct parse_ctx c = { "rule", text ? text : "", err, errlen };
	size_t pos = 0;
	memset(r, 0, sizeof(*r));
	r->allow = allow;
	if (!text || !*text)
		return fail(&c, "empty rule");
	if (parse_rule_address(&c, &pos, &r->dst) < 0 || parse_rule_tail(&c, pos, r) < 0)
		return -1;
	if (r->port_min && r->proto == EGRESS_PROTO_ICMP)
		return fail(&c, "ports need tcp or udp, not icmp");
	return 0;
}

int egress_cidr_parse(const char *text, struct egress_cidr *b, char *err,
                      size_t errlen)
{
	struct parse_ctx c = { "address", text ? text : "", err, errlen };
	if (!text || !*text)
		return fail(&c, "empty address");
	if (strcasecmp(text, "any") == 0) {
		memset(b, 0, sizeof(*b));
		return 0;
	}
	size_t len = strcspn(text, "/");
	int family = memchr(text, ':', len) ? 6 : 4;
	if (parse_address(&c, text, len, family, b) < 0)
		return -1;
	if (text[len] == '\0')
		return 0;
	return apply_prefix(&c, text + len + 1, strlen(text + len + 1), b);
}

static void format_cidr(const struct egress_cidr *b, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	if (b->family == 0) {
		snprintf(buf, size, "any");
	} else if (b->family == 4) {
		inet_ntop(AF_INET, b->addr + 12, addr, sizeof(addr));
		snprintf(buf, size, "%s/%u", addr, b->prefix_len - V4_MAPPED_BITS);
	} else {
		inet_ntop(AF_INET6, b->addr, addr, sizeof(addr));
		snprintf(buf, size, "[%s]/%u", addr, b->prefix_len);
	}
}

void egress_rule_format(const struct egress_rule *r, char *buf, size_t size)
{
	static const char *const protos[] = { "", "/tcp", "/udp", "/icmp" };
	char block[INET6_ADDRSTRLEN + 8], ports[16] = "";
	format_cidr(&r->dst, block, sizeof(block));
	if (r->port_min && r->port_min == r->port_max)
		snprintf(ports, sizeof(ports), ":%u", r->port_min);
	else if (r->port_min)
		snprintf(ports, sizeof(ports), ":%u-%u", r->port_min, r->port_max);
	snprintf(buf, size, "%s%s%s", block, ports, protos[r->proto]);
}

bool egress_cidr_contains(const struct egress_cidr *b, const uint8_t addr[16],
                          uint8_t ip_version)
{
	if (b->family == 0)
		return true;
	if (b->family != ip_version || b->prefix_len > 128)
		return false;
	size_t whole = b->prefix_len / 8;
	unsigned rest = b->prefix_len % 8;
	if (memcmp(b->addr, addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (b->addr[whole] & mask) == (addr[whole] & mask);
}

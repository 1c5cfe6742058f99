/* egress_text_write.c - a policy as the text egress_text_parse() reads
 * (egress_text.h): what supermachined sends with NET_ATTACH. Addresses
 * are written as ADDR/LEN (the form egress_cidr_parse reads), rules by
 * egress_rule_format. */
#include "daemon/net/egress_text.h"
#include "daemon/net/net_mac.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>

#define V4_MAPPED_BITS 96

/* snprintf into a buffer that may be too small, counting what it needs. */
struct out {
	char *buf;
	size_t size, len;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->len < o->size ? o->size - o->len : 0;
	int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* "any", "10.0.2.15/32", "2001:db8::/64" */
static void put_cidr(struct out *o, const char *directive, const struct egress_cidr *c)
{
	char addr[INET6_ADDRSTRLEN] = "";
	if (c->family == 0) {
		put(o, "%s any\n", directive);
		return;
	}
	if (c->family == 4)
		inet_ntop(AF_INET, c->addr + 12, addr, sizeof addr);
	else
		inet_ntop(AF_INET6, c->addr, addr, sizeof addr);
	put(o, "%s %s/%u\n", directive, addr,
	    c->family == 4 ? c->prefix_len - V4_MAPPED_BITS : c->prefix_len);
}

size_t egress_text_write(const struct egress_policy *p, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	char text[EGRESS_RULE_TEXT_MAX];
	if (size)
		buf[0] = 0;
	net_mac_format(p->vm_mac, text, sizeof text);
	put(&o, "mac %s\ndefault %s\n", text, p->default_allow ? "allow" : "deny");
	if (p->has_vm_ipv4)
		put_cidr(&o, "vm-address", &p->vm_ipv4);
	if (p->has_vm_ipv6)
		put_cidr(&o, "vm-address", &p->vm_ipv6);
	if (p->flags & EGRESS_RULES_OVERRIDE_BUILTIN)
		put(&o, "override-builtin\n");
	if (p->flags & EGRESS_ALLOW_DHCP)
		put(&o, "allow-dhcp\n");
	for (size_t i = 0; i < p->n_host_blocks; i++)
		put_cidr(&o, "host-block", &p->host_blocks[i]);
	for (size_t i = 0; i < p->n_served; i++)
		put(&o, "serve %s %u\n", p->served[i].proto == EGRESS_PROTO_UDP ? "udp" : "tcp",
		    p->served[i].port);
	for (size_t i = 0; i < p->n_rules; i++) {
		egress_rule_format(&p->rules[i], text, sizeof text);
		put(&o, "%s %s\n", p->rules[i].allow ? "allow" : "deny", text);
	}
	return o.len;
}

/* egress_policy.c - building an egress policy (see egress_policy.h): the
 * VM's own addresses, the host blocks, the served ports, the user's
 * rules. The decision itself is egress_decide.c. */
#include "daemon/net/egress_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void egress_policy_init(struct egress_policy *p, const uint8_t vm_mac[6],
                        bool default_allow, unsigned flags)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->vm_mac, vm_mac, 6);
	p->default_allow = default_allow;
	p->flags = flags;
}

int egress_policy_set_vm_address(struct egress_policy *p, const char *text,
                                 char *err, size_t errlen)
{
	struct egress_cidr b;
	if (egress_cidr_parse(text, &b, err, errlen) < 0)
		return -1;
	if (b.family == 0) {
		snprintf(err, errlen, "VM address \"%s\": give the VM's own address", text);
		return -1;
	}
	if (b.family == 4) {
		p->vm_ipv4 = b;
		p->has_vm_ipv4 = true;
	} else {
		p->vm_ipv6 = b;
		p->has_vm_ipv6 = true;
	}
	return 0;
}

int egress_policy_add_host_block(struct egress_policy *p, const char *text,
                                 char *err, size_t errlen)
{
	struct egress_cidr b;
	if (p->n_host_blocks == EGRESS_MAX_HOST_BLOCKS) {
		snprintf(err, errlen, "host address \"%s\": more than %d host blocks",
			 text, EGRESS_MAX_HOST_BLOCKS);
		return -1;
	}
	if (egress_cidr_parse(text, &b, err, errlen) < 0)
		return -1;
	p->host_blocks[p->n_host_blocks++] = b;
	return 0;
}

/* "1".."65535" in decimal, nothing else: the port, or 0. */
static uint16_t parse_port(const char *text)
{
	char *end;
	if (text[0] < '0' || text[0] > '9' || strlen(text) > 5)
		return 0;
	unsigned long v = strtoul(text, &end, 10);
	return *end || v > 65535 ? 0 : (uint16_t)v;
}

int egress_policy_add_served(struct egress_policy *p, const char *proto, const char *port,
                             char *err, size_t errlen)
{
	struct egress_served s = { .port = parse_port(port) };
	if (!strcmp(proto, "tcp"))
		s.proto = EGRESS_PROTO_TCP;
	else if (!strcmp(proto, "udp"))
		s.proto = EGRESS_PROTO_UDP;
	else {
		snprintf(err, errlen, "served port \"%s %s\": protocol \"%s\", want tcp or udp",
			 proto, port, proto);
		return -1;
	}
	if (s.port == 0) {
		snprintf(err, errlen, "served port \"%s %s\": port \"%s\", want 1 to 65535",
			 proto, port, port);
		return -1;
	}
	if (egress_policy_serves(p, s.proto, s.port))
		return 0;
	if (p->n_served == EGRESS_MAX_SERVED) {
		snprintf(err, errlen, "served port \"%s %s\": more than %d served ports", proto,
			 port, EGRESS_MAX_SERVED);
		return -1;
	}
	p->served[p->n_served].proto = s.proto; /* field by field: no padding */
	p->served[p->n_served++].port = s.port;  /* copied into a compared policy */
	return 0;
}

bool egress_policy_serves(const struct egress_policy *p, enum egress_proto proto,
                          uint16_t port)
{
	for (size_t i = 0; i < p->n_served; i++) {
		if (p->served[i].proto == proto && p->served[i].port == port)
			return true;
	}
	return false;
}

int egress_policy_add_rule(struct egress_policy *p, bool allow, const char *text,
                           char *err, size_t errlen)
{
	if (p->n_rules == EGRESS_MAX_RULES) {
		snprintf(err, errlen, "rule \"%s\": more than %d rules", text, EGRESS_MAX_RULES);
		return -1;
	}
	if (egress_rule_parse(text, allow, &p->rules[p->n_rules], err, errlen) < 0)
		return -1;
	p->n_rules++;
	return 0;
}

const char *egress_verdict_name(enum egress_verdict v)
{
	switch (v) {
	case EGRESS_ALLOW: return "allow";
	case EGRESS_DROP: return "drop";
	case EGRESS_REJECT: return "reject";
	}
	return "?";
}

/* egress_decide.c - the egress policy's decision on one parsed frame, in
 * the order egress_policy.h gives: malformed, spoofed, ARP, neighbour
 * discovery, bogus destinations, replies from served ports (UDP ones by
 * egress_peers.c's table), built-in denies, the user's rules, the
 * default; then whether a refusal is answered (REJECT) or silent (DROP). */
#include "daemon/net/egress_policy.h"

#include "daemon/net/egress_peers.h"
#include "daemon/net/net_reply.h"

#include <string.h>

#define V4(a, b, c, d) { [10] = 0xff, [11] = 0xff, [12] = a, [13] = b, [14] = c, [15] = d }
#define V4_BLOCK(len, a, b, c, d) { .family = 4, .prefix_len = 96 + (len), .addr = V4(a, b, c, d) }
#define V6_BLOCK(len, ...) { .family = 6, .prefix_len = (len), .addr = { __VA_ARGS__ } }

static const struct egress_cidr v4_link_local = V4_BLOCK(16, 169, 254, 0, 0);
static const struct egress_cidr v4_this_network = V4_BLOCK(8, 0, 0, 0, 0);
static const struct egress_cidr v4_unspecified = V4_BLOCK(32, 0, 0, 0, 0);
static const struct egress_cidr v4_loopback = V4_BLOCK(8, 127, 0, 0, 0);
static const struct egress_cidr v4_multicast = V4_BLOCK(4, 224, 0, 0, 0);
static const struct egress_cidr v4_broadcast = V4_BLOCK(32, 255, 255, 255, 255);
static const struct egress_cidr v6_link_local = V6_BLOCK(10, 0xfe, 0x80);
static const struct egress_cidr v6_link_multicast = V6_BLOCK(16, 0xff, 0x02);
static const struct egress_cidr v6_multicast = V6_BLOCK(8, 0xff);
static const struct egress_cidr v6_unspecified = V6_BLOCK(128, 0);
static const struct egress_cidr v6_loopback = V6_BLOCK(128, [15] = 1);
static const struct egress_cidr v6_v4_mapped = V6_BLOCK(96, [10] = 0xff, [11] = 0xff);
static const struct egress_cidr v6_dhcp_servers = V6_BLOCK(128, 0xff, 0x02, [13] = 1, [15] = 2);

#define ND_ROUTER_SOLICIT 133
#define ND_NEIGHBOR_SOLICIT 135
#define ND_REDIRECT 137
#define ND_HOP_LIMIT 255

static struct egress_decision decision(enum egress_verdict v, const char *reason, int rule)
{
	return (struct egress_decision){ .verdict = v, .reason = reason, .rule = rule };
}

static bool in(const struct egress_cidr *b, const struct net_frame *f, const uint8_t *addr)
{
	return egress_cidr_contains(b, addr, f->ip_version);
}

static bool is_own_source(const struct egress_policy *p, const struct net_frame *f)
{
	if (f->ip_version == 4)
		return p->has_vm_ipv4 && in(&p->vm_ipv4, f, f->src_ip);
	return p->has_vm_ipv6 && in(&p->vm_ipv6, f, f->src_ip);
}

static struct egress_decision decide_arp(const struct egress_policy *p,
                                         const struct net_frame *f)
{
	const struct net_arp *a = &f->arp;
	uint8_t sender[16] = { [10] = 0xff, [11] = 0xff };
	memcpy(sender + 12, a->sender_ip, 4);
	bool probe = a->op == 1 && egress_cidr_contains(&v4_unspecified, sender, 4);
	bool own_ip = p->has_vm_ipv4 && egress_cidr_contains(&p->vm_ipv4, sender, 4);
	if (memcmp(a->sender_mac, p->vm_mac, 6) != 0)
		return decision(EGRESS_DROP, "ARP sender MAC not the VM's", -1);
	if (!own_ip && !probe)
		return decision(EGRESS_DROP, "ARP sender address not the VM's", -1);
	return decision(EGRESS_ALLOW, "ARP", -1);
}

/* ICMPv6 133-136 that cannot have crossed a router, between link-local
 * addresses (or the VM's own, or :: for solicitations). */
static bool is_neighbour_discovery(const struct egress_policy *p, const struct net_frame *f)
{
	if (f->ip_version != 6 || f->l4_proto != NET_PROTO_ICMPV6 || !f->has_l4_header ||
	    f->frag != NET_FRAG_NONE || f->hop_limit != ND_HOP_LIMIT || f->icmp_code != 0 ||
	    f->icmp_type < ND_ROUTER_SOLICIT || f->icmp_type >= ND_REDIRECT)
		return false;
	bool solicit = f->icmp_type == ND_ROUTER_SOLICIT || f->icmp_type == ND_NEIGHBOR_SOLICIT;
	bool source_ok = is_own_source(p, f) || in(&v6_link_local, f, f->src_ip) ||
			 (solicit && in(&v6_unspecified, f, f->src_ip));
	bool dest_ok = in(&v6_link_local, f, f->dst_ip) || in(&v6_link_multicast, f, f->dst_ip);
	return source_ok && dest_ok;
}

/* A DHCP client's broadcast or DHCPv6 client's multicast to its servers. */
static bool is_dhcp_request(const struct egress_policy *p, const struct net_frame *f)
{
	if (!(p->flags & EGRESS_ALLOW_DHCP) || f->l4_proto != NET_PROTO_UDP ||
	    !f->has_l4_header || f->frag != NET_FRAG_NONE)
		return false;
	if (f->ip_version == 4)
		return f->src_port == 68 && f->dst_port == 67 &&
		       in(&v4_broadcast, f, f->dst_ip) &&
		       (is_own_source(p, f) || in(&v4_unspecified, f, f->src_ip));
	return f->src_port == 546 && f->dst_port == 547 && in(&v6_dhcp_servers, f, f->dst_ip) &&
	       (is_own_source(p, f) || in(&v6_link_local, f, f->src_ip));
}

/* Destinations no packet may carry off the VM. */
static bool is_bogus_destination(const struct net_frame *f)
{
	if (f->ip_version == 4)
		return in(&v4_this_network, f, f->dst_ip) || in(&v4_loopback, f, f->dst_ip);
	return in(&v6_unspecified, f, f->dst_ip) || in(&v6_loopback, f, f->dst_ip) ||
	       in(&v6_v4_mapped, f, f->dst_ip);
}

static bool is_supported_protocol(const struct net_frame *f)
{
	return f->l4_proto == NET_PROTO_TCP || f->l4_proto == NET_PROTO_UDP ||
	       f->l4_proto == (f->ip_version == 4 ? NET_PROTO_ICMP : NET_PROTO_ICMPV6);
}

/* Step 7: a TCP segment from a served port that is not a connect. */
static bool is_served_tcp_reply(const struct egress_policy *p, const struct net_frame *f)
{
	return f->l4_proto == NET_PROTO_TCP && f->has_l4_header &&
	       (f->tcp_flags & (NET_TCP_ACK | NET_TCP_RST)) &&
	       egress_policy_serves(p, EGRESS_PROTO_TCP, f->src_port);
}

static bool is_builtin_denied(const struct egress_policy *p, const struct net_frame *f,
                              const char **reason)
{
	if (in(&v4_link_local, f, f->dst_ip) || in(&v6_link_local, f, f->dst_ip)) {
		*reason = "link-local destination (built-in deny)";
		return true;
	}
	for (size_t i = 0; i < p->n_host_blocks; i++) {
		if (in(&p->host_blocks[i], f, f->dst_ip)) {
			*reason = "host address (built-in deny)";
			return true;
		}
	}
	return false;
}

static bool proto_matches(enum egress_proto proto, const struct net_frame *f)
{
	switch (proto) {
	case EGRESS_PROTO_ANY: return true;
	case EGRESS_PROTO_TCP: return f->l4_proto == NET_PROTO_TCP;
	case EGRESS_PROTO_UDP: return f->l4_proto == NET_PROTO_UDP;
	case EGRESS_PROTO_ICMP: return f->l4_proto == NET_PROTO_ICMP || f->l4_proto == NET_PROTO_ICMPV6;
	}
	return false;
}

/* A later fragment has no ports: a port rule's allow cannot be trusted
 * for it, its deny is taken. */
static bool rule_matches(const struct egress_rule *r, const struct net_frame *f)
{
	if (!in(&r->dst, f, f->dst_ip) || !proto_matches(r->proto, f))
		return false;
	if (r->port_min == 0)
		return true;
	if (f->l4_proto != NET_PROTO_TCP && f->l4_proto != NET_PROTO_UDP)
		return false;
	if (!f->has_l4_header)
		return !r->allow;
	return f->dst_port >= r->port_min && f->dst_port <= r->port_max;
}

static int first_matching_rule(const struct egress_policy *p, const struct net_frame *f)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		if (rule_matches(&p->rules[i], f))
			return (int)i;
	}
	return -1;
}

/* Steps 8 and 9: ALLOW, or DROP standing for "refused". */
static struct egress_decision decide_by_rules(const struct egress_policy *p,
                                              const struct net_frame *f)
{
	bool builtin_first = !(p->flags & EGRESS_RULES_OVERRIDE_BUILTIN);
	const char *reason;
	if (builtin_first && is_builtin_denied(p, f, &reason))
		return decision(EGRESS_DROP, reason, -1);
	int i = first_matching_rule(p, f);
	if (i >= 0)
		return p->rules[i].allow ? decision(EGRESS_ALLOW, "allowed by rule", i)
					 : decision(EGRESS_DROP, "denied by rule", i);
	if (!builtin_first && is_builtin_denied(p, f, &reason))
		return decision(EGRESS_DROP, reason, -1);
	return p->default_allow ? decision(EGRESS_ALLOW, "allowed by default", -1)
				: decision(EGRESS_DROP, "denied by default", -1);
}

static bool is_multicast_or_broadcast(const struct net_frame *f)
{
	if (f->ip_version == 4)
		return in(&v4_multicast, f, f->dst_ip) || in(&v4_broadcast, f, f->dst_ip);
	return in(&v6_multicast, f, f->dst_ip);
}

/* Whether a refused packet is answered (see egress_policy.h). */
static enum egress_verdict refusal(const struct net_frame *f)
{
	if (is_multicast_or_broadcast(f) || !net_reply_possible(f))
		return EGRESS_DROP;
	return EGRESS_REJECT;
}

/* The recent peers of the served UDP ports, and the time to judge by. */
struct peers_at {
	const struct egress_peers *peers; /* NULL: none */
	int64_t now_ns;
};

static struct egress_decision decide_ip(const struct egress_policy *p, const struct net_frame *f,
                                        struct peers_at pa)
{
	if (is_neighbour_discovery(p, f))
		return decision(EGRESS_ALLOW, "IPv6 neighbour discovery", -1);
	if (is_dhcp_request(p, f))
		return decision(EGRESS_ALLOW, "DHCP request", -1);
	if (!is_own_source(p, f))
		return decision(EGRESS_DROP, "source address not the VM's", -1);
	if (is_bogus_destination(f))
		return decision(EGRESS_DROP, "destination never valid off the VM", -1);
	if (!is_supported_protocol(f))
		return decision(EGRESS_DROP, "protocol not TCP, UDP or ICMP", -1);
	if (is_served_tcp_reply(p, f))
		return decision(EGRESS_ALLOW, "reply from a published port", -1);
	if (pa.peers && egress_peers_match(pa.peers, p, f, pa.now_ns))
		return decision(EGRESS_ALLOW, "reply to a recent peer of a published port", -1);
	struct egress_decision d = decide_by_rules(p, f);
	if (d.verdict != EGRESS_ALLOW)
		d.verdict = refusal(f);
	return d;
}

static struct egress_decision decide_frame(const struct egress_policy *p,
                                           const struct net_frame *f, struct peers_at pa)
{
	if (f->kind == NET_FRAME_MALFORMED)
		return decision(EGRESS_DROP, f->error ? f->error : "malformed frame", -1);
	if (memcmp(f->src_mac, p->vm_mac, 6) != 0)
		return decision(EGRESS_DROP, "source MAC not the VM's", -1);
	if (f->kind == NET_FRAME_ARP)
		return decide_arp(p, f);
	if (f->kind != NET_FRAME_IPV4 && f->kind != NET_FRAME_IPV6)
		return decision(EGRESS_DROP, "neither ARP, IPv4 nor IPv6", -1);
	return decide_ip(p, f, pa);
}

struct egress_decision egress_policy_decide(const struct egress_policy *p,
                                            const struct net_frame *f)
{
	return decide_frame(p, f, (struct peers_at){ NULL, 0 });
}

struct egress_decision egress_policy_check(const struct egress_policy *p,
                                           const uint8_t *buf, size_t len,
                                           struct net_frame *f)
{
	net_frame_parse(buf, len, f);
	return egress_policy_decide(p, f);
}

struct egress_decision egress_policy_check_peers(const struct egress_policy *p,
                                                 const struct egress_peers *peers,
                                                 int64_t now_ns, const uint8_t *buf,
                                                 size_t len, struct net_frame *f)
{
	net_frame_parse(buf, len, f);
	return decide_frame(p, f, (struct peers_at){ peers, now_ns });
}

/* test_policy.c - the egress policy (daemon/net/egress_*.c): rule text
 * good and bad, and decisions on ARP, neighbour discovery, spoofed
 * sources, the built-in denies, rules and ports, fragments, which refusals
 * are answered, DHCP, replies from served (published) ports; every truncation of an allowed frame is dropped,
 * and random or mutated frames are never allowed unless an independent
 * check of the bytes agrees they may be. */
#include "../check_main.h"
#include "daemon/net/egress_policy.h"
#include "daemon/net/net_reply.h"
#include "frames.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct egress_policy pol;
static char err[256];

static void policy(bool default_allow, unsigned flags)
{
	egress_policy_init(&pol, vm_mac, default_allow, flags);
	ck_assert_int_eq(egress_policy_set_vm_address(&pol, VM_IP4, err, sizeof(err)), 0);
	ck_assert_int_eq(egress_policy_set_vm_address(&pol, VM_IP6, err, sizeof(err)), 0);
}

static void rule(bool allow, const char *text)
{
	ck_assert_msg(egress_policy_add_rule(&pol, allow, text, err, sizeof(err)) == 0, "%s", err);
}

static void host_block(const char *text)
{
	ck_assert_msg(egress_policy_add_host_block(&pol, text, err, sizeof(err)) == 0, "%s", err);
}

static struct egress_decision decide(const struct fb *b)
{
	struct net_frame f;
	return egress_policy_check(&pol, b->buf, b->len, &f);
}

#define assert_verdict(b, want) do {                                              \
		struct egress_decision d_ = decide(b);                            \
		ck_assert_msg(d_.verdict == (want), "verdict %s (%s), want %s",   \
			      egress_verdict_name(d_.verdict), d_.reason,          \
			      egress_verdict_name(want));                          \
	} while (0)

static size_t tcp4_from(struct fb *b, const uint8_t mac[6], const char *src, const char *dst,
                        uint16_t dport, uint8_t flags)
{
	fb_eth(b, mac, gw_mac, 0x0800);
	fb_ipv4(b, src, dst, NULL, 0);
	fb_tcp(b, 40000, dport, flags, 1000);
	return fb_finish(b);
}

/* --- rule text --- */

struct good_rule {
	const char *text;
	uint8_t family, prefix; /* prefix in the family's own bits */
	uint16_t lo, hi;
	enum egress_proto proto;
	const char *formatted;
};

static const struct good_rule good_rules[] = {
	{ "10.0.0.0/8:443", 4, 8, 443, 443, EGRESS_PROTO_ANY, "10.0.0.0/8:443" },
	{ "10.0.0.0/8:8000-8100/tcp", 4, 8, 8000, 8100, EGRESS_PROTO_TCP, "10.0.0.0/8:8000-8100/tcp" },
	{ "192.168.1.5", 4, 32, 0, 0, EGRESS_PROTO_ANY, "192.168.1.5/32" },
	{ "[2001:db8::]/32:443", 6, 32, 443, 443, EGRESS_PROTO_ANY, "[2001:db8::]/32:443" },
	{ "0.0.0.0/0", 4, 0, 0, 0, EGRESS_PROTO_ANY, "0.0.0.0/0" },
	{ "::/0", 6, 0, 0, 0, EGRESS_PROTO_ANY, "[::]/0" },
	{ "any", 0, 0, 0, 0, EGRESS_PROTO_ANY, "any" },
	{ "any:53/udp", 0, 0, 53, 53, EGRESS_PROTO_UDP, "any:53/udp" },
	{ "2001:db8::/32/UDP", 6, 32, 0, 0, EGRESS_PROTO_UDP, "[2001:db8::]/32/udp" },
	{ "2001:db8::/32:443", 6, 32, 443, 443, EGRESS_PROTO_ANY, "[2001:db8::]/32:443" },
	{ "[::1]:1-65535", 6, 128, 1, 65535, EGRESS_PROTO_ANY, "[::1]/128:1-65535" },
	{ "10.0.0.0/8/icmp", 4, 8, 0, 0, EGRESS_PROTO_ICMP, "10.0.0.0/8/icmp" },
	{ "1.2.3.4/32/any", 4, 32, 0, 0, EGRESS_PROTO_ANY, "1.2.3.4/32" },
	{ "192.168.1.5:80", 4, 32, 80, 80, EGRESS_PROTO_ANY, "192.168.1.5/32:80" },
	{ "2001:db8::1:443", 6, 128, 0, 0, EGRESS_PROTO_ANY, "[2001:db8::1:443]/128" },
};

START_TEST(rule_text_good)
{
	const struct good_rule *g = &good_rules[_i];
	struct egress_rule r, again;
	char text[EGRESS_RULE_TEXT_MAX];
	ck_assert_msg(egress_rule_parse(g->text, true, &r, err, sizeof(err)) == 0, "%s", err);
	ck_assert(r.allow);
	ck_assert_uint_eq(r.dst.family, g->family);
	ck_assert_uint_eq(r.dst.prefix_len, g->family == 4 ? 96 + g->prefix : g->prefix);
	ck_assert_uint_eq(r.port_min, g->lo);
	ck_assert_uint_eq(r.port_max, g->hi);
	ck_assert_int_eq(r.proto, g->proto);
	egress_rule_format(&r, text, sizeof(text));
	ck_assert_str_eq(text, g->formatted);
	ck_assert_int_eq(egress_rule_parse(text, true, &again, err, sizeof(err)), 0);
	ck_assert_mem_eq(&again, &r, sizeof(r));
}
END_TEST

struct bad_rule {
	const char *text, *error;
};

static const struct bad_rule bad_rules[] = {
	{ "", "empty rule" },
	{ "10.0.0.0/33", "prefix /33 too long for an IPv4 address" },
	{ "[2001:db8::]/129", "prefix /129 too long for an IPv6 address" },
	{ "10.0.0.256", "not an IPv4 address" },
	{ "example.com:443", "not an IPv4 address" },
	{ "10.0.0.0/8:0", "port 0 is not a port" },
	{ "10.0.0.0/8:65536", "port 65536 above 65535" },
	{ "10.0.0.0/8:1-70000", "port 70000 above 65535" },
	{ "10.0.0.0/8:8100-8000", "reversed port range 8100-8000" },
	{ "10.0.0.0/8:443/sctp", "unknown protocol \"sctp\"" },
	{ "10.0.0.0/8/", "unknown protocol \"\"" },
	{ "10.0.0.1/8", "bits set past its /8 prefix" },
	{ "10.0.0.0/8:443/icmp", "ports need tcp or udp" },
	{ "[2001:db8::", "'[' without ']'" },
	{ "[2001:db8::]x", "unexpected \"x\"" },
	{ "[10.0.0.1]:80", "not an IPv6 address" },
	{ "any/8", "\"any\" takes no prefix length" },
	{ "10.0.0.0/8:", "bad port" },
	{ "10.0.0.0/8:12a", "bad port" },
	{ "10.0.0.0/8:-5", "bad port" },
	{ "10.0.0.0/8:443:5", "bad port" },
	{ "10.0.0.0/8 ", "bad prefix length" },
	{ "::ffff:10.0.0.1", "IPv4-mapped" },
};

START_TEST(rule_text_bad)
{
	const struct bad_rule *b = &bad_rules[_i];
	struct egress_rule r;
	char want_prefix[128];
	err[0] = '\0';
	ck_assert_msg(egress_rule_parse(b->text, false, &r, err, sizeof(err)) < 0,
		      "\"%s\" parsed", b->text);
	ck_assert_msg(strstr(err, b->error), "\"%s\": error \"%s\", want \"%s\"", b->text, err,
		      b->error);
	snprintf(want_prefix, sizeof(want_prefix), "rule \"%s\": ", b->text);
	ck_assert_msg(strncmp(err, want_prefix, strlen(want_prefix)) == 0, "%s", err);
}
END_TEST

START_TEST(addresses_text)
{
	egress_policy_init(&pol, vm_mac, false, 0);
	ck_assert_int_lt(egress_policy_set_vm_address(&pol, "any", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "own address"));
	ck_assert_int_lt(egress_policy_set_vm_address(&pol, "10.0.2.15/24", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "address \"10.0.2.15/24\": address has bits set"));
	ck_assert_int_lt(egress_policy_add_host_block(&pol, "300.1.1.1", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "not an IPv4 address"));
	ck_assert_int_lt(egress_policy_add_host_block(&pol, "fe80::/", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "bad prefix length"));
	ck_assert_int_eq(egress_policy_add_host_block(&pol, "fe80::/10", err, sizeof(err)), 0);
	ck_assert_int_eq(egress_policy_set_vm_address(&pol, "10.0.2.0/24", err, sizeof(err)), 0);
	ck_assert(pol.has_vm_ipv4 && !pol.has_vm_ipv6);
	for (int i = 0; i < EGRESS_MAX_RULES; i++)
		rule(true, "any");
	ck_assert_int_lt(egress_policy_add_rule(&pol, true, "any", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "more than"));
}
END_TEST

/* --- decisions --- */

START_TEST(arp)
{
	static const uint8_t other_mac[6] = { 2, 0, 0, 0, 0, 9 };
	struct fb b;
	policy(false, 0);
	fb_arp(&b, vm_mac, VM_IP4, "10.0.2.2");
	assert_verdict(&b, EGRESS_ALLOW);
	fb_arp(&b, vm_mac, "0.0.0.0", VM_IP4); /* address probe */
	assert_verdict(&b, EGRESS_ALLOW);
	fb_arp(&b, vm_mac, "10.0.2.16", "10.0.2.2");
	assert_verdict(&b, EGRESS_DROP);
	fb_arp(&b, other_mac, VM_IP4, "10.0.2.2");
	assert_verdict(&b, EGRESS_DROP);
	fb_arp(&b, vm_mac, VM_IP4, "10.0.2.2");
	b.buf[6] ^= 1; /* Ethernet source not the VM's */
	assert_verdict(&b, EGRESS_DROP);
	fb_arp(&b, vm_mac, "0.0.0.0", VM_IP4);
	b.buf[21] = 2; /* a reply from 0.0.0.0 */
	assert_verdict(&b, EGRESS_DROP);
}
END_TEST

START_TEST(neighbour_discovery)
{
	struct fb b;
	policy(false, 0);
	fb_icmp6(&b, "fe80::2", "ff02::2", 133, 255); /* router solicitation */
	assert_verdict(&b, EGRESS_ALLOW);
	fb_icmp6(&b, "::", "ff02::1:ff00:15", 135, 255); /* DAD */
	assert_verdict(&b, EGRESS_ALLOW);
	fb_icmp6(&b, VM_IP6, "fe80::1", 135, 255);
	assert_verdict(&b, EGRESS_ALLOW);
	fb_icmp6(&b, "fe80::2", "fe80::1", 136, 255);
	assert_verdict(&b, EGRESS_ALLOW);
	fb_icmp6(&b, "::", "ff02::1", 136, 255); /* an advertisement from :: */
	assert_verdict(&b, EGRESS_DROP);
	fb_icmp6(&b, "fe80::2", "ff02::2", 133, 64); /* could have been routed */
	assert_verdict(&b, EGRESS_DROP);
	fb_icmp6(&b, "fe80::2", "fe80::1", 137, 255); /* redirect */
	assert_verdict(&b, EGRESS_DROP);
	fb_icmp6(&b, VM_IP6, "2001:db8::1", 135, 255); /* not link-scope */
	assert_verdict(&b, EGRESS_DROP);
	fb_icmp6(&b, "2001:db8::99", "ff02::2", 133, 255); /* a forged global source */
	assert_verdict(&b, EGRESS_DROP);
	fb_icmp6(&b, "fe80::2", "ff02::2", 133, 255);
	b.buf[6] ^= 1;
	assert_verdict(&b, EGRESS_DROP);
}
END_TEST

START_TEST(spoofed_sources)
{
	static const uint8_t other_mac[6] = { 2, 0, 0, 0, 0, 9 };
	struct fb b;
	policy(true, 0);
	tcp4_from(&b, vm_mac, VM_IP4, "1.1.1.1", 80, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_ALLOW);
	tcp4_from(&b, vm_mac, "10.0.2.16", "1.1.1.1", 80, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_DROP);
	tcp4_from(&b, other_mac, VM_IP4, "1.1.1.1", 80, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_DROP);
	fb_eth(&b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(&b, "2001:db8:1::16", "2001:db8::1");
	fb_tcp(&b, 1, 80, NET_TCP_SYN, 1);
	fb_finish(&b);
	assert_verdict(&b, EGRESS_DROP);
	fb_tcp6(&b, "2001:db8::1", 80, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_ALLOW);
	/* a VM without an IPv6 address sends no IPv6 */
	egress_policy_init(&pol, vm_mac, true, 0);
	ck_assert_int_eq(egress_policy_set_vm_address(&pol, VM_IP4, err, sizeof(err)), 0);
	assert_verdict(&b, EGRESS_DROP);
	/* a block of sources */
	ck_assert_int_eq(egress_policy_set_vm_address(&pol, "10.0.2.0/24", err, sizeof(err)), 0);
	tcp4_from(&b, vm_mac, "10.0.2.16", "1.1.1.1", 80, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_ALLOW);
	tcp4_from(&b, vm_mac, "10.0.3.16", "1.1.1.1", 80, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_DROP);
}
END_TEST

START_TEST(builtin_denies)
{
	struct fb b;
	policy(true, 0);
	rule(true, "0.0.0.0/0");
	rule(true, "::/0");
	rule(true, "169.254.169.254:80");
	host_block("192.168.1.10");
	host_block("2001:db8:ffff::1");
	fb_tcp4(&b, "169.254.169.254", 80, NET_TCP_SYN);
	struct egress_decision d = decide(&b);
	ck_assert_int_eq(d.verdict, EGRESS_REJECT);
	ck_assert_str_eq(d.reason, "link-local destination (built-in deny)");
	ck_assert_int_eq(d.rule, -1);
	fb_tcp4(&b, "192.168.1.10", 22, NET_TCP_SYN);
	d = decide(&b);
	ck_assert_int_eq(d.verdict, EGRESS_REJECT);
	ck_assert_str_eq(d.reason, "host address (built-in deny)");
	fb_tcp4(&b, "192.168.1.11", 22, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_ALLOW);
	fb_tcp6(&b, "2001:db8:ffff::1", 22, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_REJECT);
	fb_tcp6(&b, "fe80::1", 22, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_REJECT);
	fb_icmp6(&b, VM_IP6, "fe80::1", 128, 64); /* not neighbour discovery */
	assert_verdict(&b, EGRESS_REJECT);
	fb_icmp6(&b, VM_IP6, "fe80::1", 135, 64);
	assert_verdict(&b, EGRESS_DROP);
}
END_TEST

START_TEST(builtin_override_flag)
{
	struct fb b;
	policy(false, EGRESS_RULES_OVERRIDE_BUILTIN);
	rule(true, "169.254.169.254:80/tcp");
	fb_tcp4(&b, "169.254.169.254", 80, NET_TCP_SYN);
	struct egress_decision d = decide(&b);
	ck_assert_int_eq(d.verdict, EGRESS_ALLOW);
	ck_assert_int_eq(d.rule, 0);
	fb_tcp4(&b, "169.254.169.254", 81, NET_TCP_SYN); /* the built-in deny still holds */
	d = decide(&b);
	ck_assert_int_eq(d.verdict, EGRESS_REJECT);
	ck_assert_str_eq(d.reason, "link-local destination (built-in deny)");
	pol.default_allow = true;
	assert_verdict(&b, EGRESS_REJECT);
}
END_TEST

START_TEST(bogus_destinations_and_protocols)
{
	struct fb b;
	policy(true, 0);
	rule(true, "any");
	const char *v4[] = { "127.0.0.1", "0.0.0.0", "0.1.2.3" };
	for (size_t i = 0; i < 3; i++) {
		fb_tcp4(&b, v4[i], 80, NET_TCP_SYN);
		assert_verdict(&b, EGRESS_DROP);
	}
	const char *v6[] = { "::1", "::", "::ffff:1.2.3.4" };
	for (size_t i = 0; i < 3; i++) {
		fb_tcp6(&b, v6[i], 80, NET_TCP_SYN);
		assert_verdict(&b, EGRESS_DROP);
	}
	fb_eth(&b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "1.2.3.4", NULL, 0);
	b.buf[b.nh] = 47; /* GRE */
	fb_payload(&b, 8);
	fb_finish(&b);
	assert_verdict(&b, EGRESS_DROP);
	fb_eth(&b, vm_mac, gw_mac, 0x88cc);
	fb_payload(&b, 40);
	assert_verdict(&b, EGRESS_DROP);
	fb_tcp4(&b, "1.2.3.4", 80, NET_TCP_SYN);
	b.buf[14] = 0x44; /* malformed */
	struct egress_decision d = decide(&b);
	ck_assert_int_eq(d.verdict, EGRESS_DROP);
	ck_assert_str_eq(d.reason, "IPv4 header length below 20 bytes");
}
END_TEST

START_TEST(rules_and_ports)
{
	struct fb b;
	policy(false, 0);
	rule(true, "10.0.0.0/8:443");
	rule(true, "10.0.0.0/8:8000-8100/tcp");
	rule(false, "10.1.0.0/16");
	rule(true, "10.0.0.0/8/icmp");
	rule(true, "[2001:db8::]/32:443");
	rule(true, "any:53/udp");
	fb_tcp4(&b, "10.1.2.3", 443, NET_TCP_SYN);
	struct egress_decision d = decide(&b);
	ck_assert_int_eq(d.verdict, EGRESS_ALLOW);
	ck_assert_int_eq(d.rule, 0);
	fb_udp4(&b, "10.1.2.3", 443); /* no protocol: TCP and UDP */
	assert_verdict(&b, EGRESS_ALLOW);
	fb_tcp4(&b, "10.1.2.3", 80, NET_TCP_SYN);
	d = decide(&b);
	ck_assert_int_eq(d.verdict, EGRESS_REJECT);
	ck_assert_int_eq(d.rule, 2);
	fb_tcp4(&b, "10.2.2.3", 80, NET_TCP_SYN);
	d = decide(&b);
	ck_assert_int_eq(d.verdict, EGRESS_REJECT);
	ck_assert_int_eq(d.rule, -1);
	ck_assert_str_eq(d.reason, "denied by default");
	fb_tcp4(&b, "10.2.2.3", 8000, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_ALLOW);
	fb_tcp4(&b, "10.2.2.3", 8100, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_ALLOW);
	fb_tcp4(&b, "10.2.2.3", 8101, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_REJECT);
	fb_tcp4(&b, "10.2.2.3", 7999, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_REJECT);
	fb_udp4(&b, "10.2.2.3", 8050);
	assert_verdict(&b, EGRESS_REJECT);
	fb_icmp4(&b, "10.2.2.3", 8); /* port rules never match ICMP */
	d = decide(&b);
	ck_assert_int_eq(d.verdict, EGRESS_ALLOW);
	ck_assert_int_eq(d.rule, 3);
	fb_icmp4(&b, "10.1.2.3", 8);
	assert_verdict(&b, EGRESS_REJECT);
	fb_tcp4(&b, "11.0.0.1", 443, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_REJECT);
	fb_tcp6(&b, "2001:db8:5::1", 443, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_ALLOW);
	fb_tcp6(&b, "2001:db9::1", 443, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_REJECT);
	fb_udp6(&b, "2001:db9::1", 53);
	assert_verdict(&b, EGRESS_ALLOW);
	fb_udp4(&b, "8.8.8.8", 53);
	assert_verdict(&b, EGRESS_ALLOW);
	fb_tcp4(&b, "8.8.8.8", 53, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_REJECT);
}
END_TEST

static size_t fragment4(struct fb *b, const char *dst, uint8_t proto, bool first, uint16_t dport)
{
	fb_eth(b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(b, VM_IP4, dst, NULL, 0);
	if (first) {
		fb_ipv4_frag(b, 0, true);
		if (proto == NET_PROTO_TCP)
			fb_tcp(b, 40000, dport, NET_TCP_ACK, 5);
		else
			fb_udp(b, 40000, dport);
		fb_payload(b, 32 - (b->len - b->l4));
	} else {
		b->buf[b->nh] = proto;
		fb_ipv4_frag(b, 1480, false);
		fb_payload(b, 100);
	}
	return fb_finish(b);
}

static size_t later_fragment6(struct fb *b, const char *dst, uint8_t proto)
{
	fb_eth(b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(b, VM_IP6, dst);
	fb_ipv6_frag(b, 1448, false, proto);
	fb_payload(b, 100);
	return fb_finish(b);
}

START_TEST(fragments_and_port_rules)
{
	struct fb b;
	policy(false, 0);
	rule(true, "10.0.0.0/8:443");
	rule(true, "[2001:db8::]/32:443/tcp");
	fragment4(&b, "10.1.2.3", NET_PROTO_TCP, true, 443);
	assert_verdict(&b, EGRESS_ALLOW);
	fragment4(&b, "10.1.2.3", NET_PROTO_TCP, true, 80);
	assert_verdict(&b, EGRESS_DROP); /* refused, and fragments get no answer */
	fragment4(&b, "10.1.2.3", NET_PROTO_TCP, false, 0);
	assert_verdict(&b, EGRESS_DROP); /* a port rule never allows it */
	later_fragment6(&b, "2001:db8::1", NET_PROTO_TCP);
	assert_verdict(&b, EGRESS_DROP);

	policy(false, 0);
	rule(true, "10.0.0.0/8");
	fragment4(&b, "10.1.2.3", NET_PROTO_TCP, false, 0);
	assert_verdict(&b, EGRESS_ALLOW); /* the address-level rule does */

	policy(false, 0);
	rule(false, "10.0.0.0/8:22");
	rule(false, "[2001:db8::]/32:53/udp");
	rule(true, "any");
	fragment4(&b, "10.1.2.3", NET_PROTO_TCP, false, 0);
	assert_verdict(&b, EGRESS_DROP); /* it might be port 22 */
	fragment4(&b, "10.1.2.3", NET_PROTO_UDP, false, 0);
	assert_verdict(&b, EGRESS_DROP);
	fragment4(&b, "10.1.2.3", NET_PROTO_ICMP, false, 0); /* ports are TCP's and UDP's */
	assert_verdict(&b, EGRESS_ALLOW);
	fragment4(&b, "10.1.2.3", NET_PROTO_TCP, true, 443);
	assert_verdict(&b, EGRESS_ALLOW);
	fragment4(&b, "10.1.2.3", NET_PROTO_TCP, true, 22);
	assert_verdict(&b, EGRESS_DROP);
	fragment4(&b, "11.1.2.3", NET_PROTO_TCP, false, 0);
	assert_verdict(&b, EGRESS_ALLOW);
	later_fragment6(&b, "2001:db8::1", NET_PROTO_UDP);
	assert_verdict(&b, EGRESS_DROP);
	later_fragment6(&b, "2001:db8::1", NET_PROTO_TCP); /* not UDP: the rule is not its */
	assert_verdict(&b, EGRESS_ALLOW);

	policy(true, 0); /* default allow, only a port rule: the default decides */
	rule(true, "10.0.0.0/8:443");
	fragment4(&b, "10.1.2.3", NET_PROTO_TCP, false, 0);
	assert_verdict(&b, EGRESS_ALLOW);
}
END_TEST

/* A TCP segment from sport to dst:dport, IPv4 or IPv6 by dst's form. */
static size_t tcp_from_port(struct fb *b, const char *src, const char *dst, uint16_t sport,
			    uint16_t dport, uint8_t flags)
{
	bool v6 = strchr(dst, ':') != NULL;
	fb_eth(b, vm_mac, gw_mac, v6 ? 0x86dd : 0x0800);
	if (v6)
		fb_ipv6(b, src, dst);
	else
		fb_ipv4(b, src, dst, NULL, 0);
	fb_tcp(b, sport, dport, flags, 1000);
	return fb_finish(b);
}

static void served(const char *proto, const char *port)
{
	ck_assert_msg(egress_policy_add_served(&pol, proto, port, err, sizeof(err)) == 0, "%s", err);
}

/* Answers from a served TCP port pass under default deny, even to a host
 * address or one a deny rule names; a connect from it does not. */
START_TEST(served_port_replies)
{
	struct fb b;
	policy(false, 0);
	host_block("192.168.1.10");
	host_block("2001:db8:ffff::1");
	rule(false, "any");
	served("tcp", "80");
	const uint8_t answers[] = { NET_TCP_SYN | NET_TCP_ACK, NET_TCP_ACK,
				    NET_TCP_ACK | NET_TCP_PSH, NET_TCP_FIN | NET_TCP_ACK,
				    NET_TCP_RST, NET_TCP_RST | NET_TCP_ACK };
	const char *clients[][2] = { { VM_IP4, "192.168.1.10" }, { VM_IP4, "10.0.2.2" },
				     { VM_IP4, "203.0.113.7" }, { VM_IP6, "2001:db8:ffff::1" },
				     { VM_IP6, "2001:db8::7" } };
	for (size_t c = 0; c < sizeof clients / sizeof clients[0]; c++) {
		for (size_t i = 0; i < sizeof answers; i++) {
			tcp_from_port(&b, clients[c][0], clients[c][1], 80, 41000, answers[i]);
			if (answers[i] & NET_TCP_PSH)
				fb_payload(&b, 100), fb_finish(&b);
			struct egress_decision d = decide(&b);
			ck_assert_msg(d.verdict == EGRESS_ALLOW, "%s flags %#x: %s (%s)",
				      clients[c][1], answers[i], egress_verdict_name(d.verdict),
				      d.reason);
			ck_assert_str_eq(d.reason, "reply from a published port");
		}
	}
	/* the same segments from another port: refused as before */
	tcp_from_port(&b, VM_IP4, "203.0.113.7", 81, 41000, NET_TCP_SYN | NET_TCP_ACK);
	assert_verdict(&b, EGRESS_DROP);
	tcp_from_port(&b, VM_IP6, "2001:db8::7", 8080, 41000, NET_TCP_ACK);
	assert_verdict(&b, EGRESS_DROP);
	/* to port 80 elsewhere (a served port is a source, not a destination) */
	tcp_from_port(&b, VM_IP4, "203.0.113.7", 41000, 80, NET_TCP_ACK);
	assert_verdict(&b, EGRESS_DROP);
}
END_TEST

/* A connect from a served port is no answer: refused (REJECT, answered
 * with RST+ACK) under default deny, and so are FIN or no flags at all. */
START_TEST(served_port_connect_refused)
{
	struct fb b;
	uint8_t reply[NET_REPLY_MAX];
	policy(false, 0);
	served("tcp", "80");
	tcp_from_port(&b, VM_IP4, "203.0.113.7", 80, 443, NET_TCP_SYN);
	struct net_frame f, r;
	struct egress_decision d = egress_policy_check(&pol, b.buf, b.len, &f);
	ck_assert_int_eq(d.verdict, EGRESS_REJECT);
	ck_assert_str_eq(d.reason, "denied by default");
	size_t n = net_reply_build(b.buf, b.len, &f, reply, sizeof reply);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(net_frame_parse(reply, n, &r), NET_FRAME_IPV4);
	ck_assert_uint_eq(r.tcp_flags, NET_TCP_RST | NET_TCP_ACK);
	ck_assert_uint_eq(r.dst_port, 80);
	tcp_from_port(&b, VM_IP6, "2001:db8::7", 80, 443, NET_TCP_SYN);
	assert_verdict(&b, EGRESS_REJECT);
	tcp_from_port(&b, VM_IP4, "203.0.113.7", 80, 443, NET_TCP_SYN | NET_TCP_PSH);
	assert_verdict(&b, EGRESS_REJECT);
	tcp_from_port(&b, VM_IP4, "203.0.113.7", 80, 443, NET_TCP_FIN);
	assert_verdict(&b, EGRESS_DROP);
	tcp_from_port(&b, VM_IP4, "203.0.113.7", 80, 443, 0);
	assert_verdict(&b, EGRESS_DROP);
	/* a later fragment has no ports: never taken for an answer */
	fragment4(&b, "203.0.113.7", NET_PROTO_TCP, false, 0);
	assert_verdict(&b, EGRESS_DROP);
}
END_TEST

/* Only a served port of the segment's own protocol counts; UDP from a
 * served UDP port is no answer to the policy alone. */
START_TEST(served_port_other_protocol)
{
	struct fb b;
	policy(false, 0);
	served("udp", "80");
	tcp_from_port(&b, VM_IP4, "203.0.113.7", 80, 41000, NET_TCP_ACK);
	assert_verdict(&b, EGRESS_DROP);
	served("tcp", "53");
	fb_eth(&b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "203.0.113.7", NULL, 0);
	fb_udp(&b, 53, 41000);
	fb_finish(&b);
	assert_verdict(&b, EGRESS_REJECT);
	fb_eth(&b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "203.0.113.7", NULL, 0);
	fb_udp(&b, 80, 41000);
	fb_finish(&b);
	assert_verdict(&b, EGRESS_REJECT);
}
END_TEST

/* A spoofed answer is dropped before the served ports are looked at. */
START_TEST(served_port_spoofed)
{
	static const uint8_t other_mac[6] = { 2, 0, 0, 0, 0, 9 };
	struct fb b;
	policy(false, 0);
	served("tcp", "80");
	tcp_from_port(&b, VM_IP4, "203.0.113.7", 80, 41000, NET_TCP_ACK);
	assert_verdict(&b, EGRESS_ALLOW);
	tcp_from_port(&b, "10.0.2.16", "203.0.113.7", 80, 41000, NET_TCP_ACK);
	assert_verdict(&b, EGRESS_DROP);
	tcp_from_port(&b, "2001:db8:1::16", "2001:db8::7", 80, 41000, NET_TCP_ACK);
	assert_verdict(&b, EGRESS_DROP);
	tcp_from_port(&b, VM_IP4, "203.0.113.7", 80, 41000, NET_TCP_ACK);
	memcpy(b.buf + 6, other_mac, 6);
	assert_verdict(&b, EGRESS_DROP);
	tcp_from_port(&b, VM_IP4, "127.0.0.1", 80, 41000, NET_TCP_ACK);
	assert_verdict(&b, EGRESS_DROP);
	tcp_from_port(&b, VM_IP6, "::ffff:1.2.3.4", 80, 41000, NET_TCP_ACK);
	assert_verdict(&b, EGRESS_DROP);
}
END_TEST

/* The adder: protocols, port bounds, the limit, duplicates. */
START_TEST(served_port_adder)
{
	policy(false, 0);
	const char *bad[][2] = { { "sctp", "80" }, { "", "80" }, { "tcp", "0" },
				 { "udp", "65536" }, { "tcp", "" }, { "tcp", " 80" },
				 { "tcp", "80 " }, { "tcp", "0x50" }, { "tcp", "123456" } };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(egress_policy_add_served(&pol, bad[i][0], bad[i][1], err,
						       sizeof err) == -1, "\"%s %s\" taken",
			      bad[i][0], bad[i][1]);
	ck_assert_uint_eq(pol.n_served, 0);
	served("tcp", "65535");
	served("tcp", "65535");
	served("udp", "00001");
	ck_assert_uint_eq(pol.n_served, 2);
	ck_assert(egress_policy_serves(&pol, EGRESS_PROTO_UDP, 1));
	for (int i = 2; i < EGRESS_MAX_SERVED; i++) {
		char port[8];
		snprintf(port, sizeof port, "%d", 100 + i);
		served("udp", port);
	}
	ck_assert_int_eq(egress_policy_add_served(&pol, "tcp", "9", err, sizeof err), -1);
	ck_assert_str_eq(err, "served port \"tcp 9\": more than 64 served ports");
	served("udp", "102"); /* already there: no room needed */
}
END_TEST

START_TEST(what_is_answered)
{
	struct fb b;
	policy(false, 0);
	const struct { uint8_t flags; enum egress_verdict want; } tcp[] = {
		{ NET_TCP_SYN, EGRESS_REJECT },
		{ NET_TCP_SYN | NET_TCP_PSH, EGRESS_REJECT },
		{ NET_TCP_SYN | NET_TCP_ACK, EGRESS_DROP },
		{ NET_TCP_ACK, EGRESS_DROP },
		{ NET_TCP_RST, EGRESS_DROP },
		{ NET_TCP_RST | NET_TCP_ACK, EGRESS_DROP },
		{ NET_TCP_SYN | NET_TCP_FIN, EGRESS_DROP },
		{ NET_TCP_SYN | NET_TCP_RST, EGRESS_DROP },
		{ NET_TCP_FIN | NET_TCP_ACK, EGRESS_DROP },
	};
	for (size_t i = 0; i < sizeof(tcp) / sizeof(tcp[0]); i++) {
		fb_tcp4(&b, "1.2.3.4", 80, tcp[i].flags);
		assert_verdict(&b, tcp[i].want);
		fb_tcp6(&b, "2001:db8::1", 80, tcp[i].flags);
		assert_verdict(&b, tcp[i].want);
	}
	fb_udp4(&b, "1.2.3.4", 53);
	assert_verdict(&b, EGRESS_REJECT);
	fb_udp6(&b, "2001:db8::1", 53);
	assert_verdict(&b, EGRESS_REJECT);
	const struct { uint8_t type; enum egress_verdict want; } icmp4[] = {
		{ 8, EGRESS_REJECT }, { 0, EGRESS_DROP }, { 3, EGRESS_DROP },
		{ 11, EGRESS_DROP }, { 13, EGRESS_DROP },
	}, icmp6[] = {
		{ 128, EGRESS_REJECT }, { 129, EGRESS_DROP }, { 1, EGRESS_DROP },
		{ 2, EGRESS_DROP }, { 3, EGRESS_DROP }, { 4, EGRESS_DROP },
	};
	for (size_t i = 0; i < sizeof(icmp4) / sizeof(icmp4[0]); i++) {
		fb_icmp4(&b, "1.2.3.4", icmp4[i].type);
		assert_verdict(&b, icmp4[i].want);
	}
	for (size_t i = 0; i < sizeof(icmp6) / sizeof(icmp6[0]); i++) {
		fb_icmp6(&b, VM_IP6, "2001:db8::1", icmp6[i].type, 64);
		assert_verdict(&b, icmp6[i].want);
	}
	fb_udp4(&b, "224.0.0.251", 5353);
	assert_verdict(&b, EGRESS_DROP);
	fb_udp4(&b, "255.255.255.255", 67);
	assert_verdict(&b, EGRESS_DROP);
	fb_udp6(&b, "ff02::fb", 5353);
	assert_verdict(&b, EGRESS_DROP);
	tcp4_from(&b, vm_mac, "10.0.2.99", "1.2.3.4", 80, NET_TCP_SYN); /* spoofed */
	assert_verdict(&b, EGRESS_DROP);
}
END_TEST

static size_t dhcp4(struct fb *b, const char *src, const char *dst)
{
	fb_eth(b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(b, src, dst, NULL, 0);
	fb_udp(b, 68, 67);
	fb_payload(b, 240);
	return fb_finish(b);
}

START_TEST(dhcp)
{
	struct fb b;
	policy(false, 0);
	dhcp4(&b, "0.0.0.0", "255.255.255.255");
	assert_verdict(&b, EGRESS_DROP);
	policy(false, EGRESS_ALLOW_DHCP);
	assert_verdict(&b, EGRESS_ALLOW);
	dhcp4(&b, VM_IP4, "255.255.255.255");
	assert_verdict(&b, EGRESS_ALLOW);
	dhcp4(&b, "10.0.2.99", "255.255.255.255");
	assert_verdict(&b, EGRESS_DROP);
	dhcp4(&b, VM_IP4, "10.0.2.2"); /* unicast: the rules decide */
	assert_verdict(&b, EGRESS_REJECT);
	dhcp4(&b, "0.0.0.0", "10.0.2.2");
	assert_verdict(&b, EGRESS_DROP);
	fb_eth(&b, vm_mac, gw_mac, 0x86dd);
	fb_ipv6(&b, "fe80::2", "ff02::1:2");
	fb_udp(&b, 546, 547);
	fb_payload(&b, 40);
	fb_finish(&b);
	assert_verdict(&b, EGRESS_ALLOW);
	b.buf[b.l4 + 3] = 53; /* not the DHCPv6 server port */
	assert_verdict(&b, EGRESS_DROP);
}
END_TEST

/* --- every truncation, random frames --- */

static size_t allowed_nd(struct fb *b) { return fb_icmp6(b, "fe80::2", "ff02::2", 133, 255); }
static size_t allowed_arp(struct fb *b) { return fb_arp(b, vm_mac, VM_IP4, "10.0.2.2"); }
static size_t allowed_tcp4(struct fb *b) { return fb_tcp4(b, "10.1.2.3", 443, NET_TCP_SYN); }
static size_t allowed_tcp6(struct fb *b) { return fb_tcp6(b, "2001:db8::1", 443, NET_TCP_SYN); }
static size_t allowed_udp4(struct fb *b) { return fb_udp4(b, "10.1.2.3", 443); }
static size_t allowed_icmp4(struct fb *b) { return fb_icmp4(b, "10.1.2.3", 8); }
static size_t allowed_first4(struct fb *b) { return fragment4(b, "10.1.2.3", NET_PROTO_TCP, true, 443); }
static size_t allowed_later4(struct fb *b) { return fragment4(b, "10.9.9.9", NET_PROTO_TCP, false, 0); }
static size_t denied_udp6(struct fb *b) { return fb_udp6(b, "2001:db8::1", 53); }
static size_t denied_later4(struct fb *b) { return fragment4(b, "10.1.2.3", NET_PROTO_UDP, false, 0); }

static size_t (*const sample_frames[])(struct fb *) = {
	allowed_nd, allowed_arp, allowed_tcp4, allowed_tcp6, allowed_udp4, allowed_icmp4,
	allowed_first4, allowed_later4, denied_udp6, denied_later4,
};

/* Default deny; TCP/UDP 443 to 10/8 and TCP 443 to 2001:db8::/32; ICMP
 * and anything to 10.9/16. */
static void sample_policy(void)
{
	policy(false, 0);
	rule(true, "10.0.0.0/8:443");
	rule(true, "10.0.0.0/8/icmp");
	rule(true, "10.9.0.0/16");
	rule(true, "[2001:db8::]/32:443/tcp");
}

START_TEST(every_truncation_is_dropped)
{
	struct fb b;
	sample_policy();
	size_t len = sample_frames[_i](&b);
	if (_i < 8)
		assert_verdict(&b, EGRESS_ALLOW);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, b.buf, cut);
		struct net_frame f;
		struct egress_decision d = egress_policy_check(&pol, copy, cut, &f);
		ck_assert_msg(d.verdict == EGRESS_DROP, "frame %d cut to %zu of %zu: %s (%s)", _i,
			      cut, len, egress_verdict_name(d.verdict), d.reason);
		free(copy);
	}
}
END_TEST

static bool eq_ip4(const uint8_t *p, const char *text)
{
	uint8_t a[4];
	inet_pton(AF_INET, text, a);
	return memcmp(p, a, 4) == 0;
}

static bool eq_ip6(const uint8_t *p, const char *text)
{
	uint8_t a[16];
	inet_pton(AF_INET6, text, a);
	return memcmp(p, a, 16) == 0;
}

/* What must hold of an ARP frame sample_policy allows. */
static bool arp_may_pass(const uint8_t *a, size_t len)
{
	static const uint8_t zero[4];
	return len >= 28 && rd16(a) == 1 && rd16(a + 2) == 0x0800 && a[4] == 6 && a[5] == 4 &&
	       (rd16(a + 6) == 1 || rd16(a + 6) == 2) && memcmp(a + 8, vm_mac, 6) == 0 &&
	       (eq_ip4(a + 14, VM_IP4) || (rd16(a + 6) == 1 && memcmp(a + 14, zero, 4) == 0));
}

/* ... of an IPv4 packet: from the VM to 10/8; anything to 10.9/16, ICMP,
 * or TCP/UDP to 443 with its header within the packet and not in a later
 * fragment. */
static bool ipv4_may_pass(const uint8_t *ip, size_t len)
{
	if (len < 20 || ip[0] >> 4 != 4 || (ip[0] & 15) < 5)
		return false;
	size_t hlen = (size_t)(ip[0] & 15) * 4, total = rd16(ip + 2);
	if (total > len || total < hlen || !eq_ip4(ip + 12, VM_IP4) || ip[16] != 10 ||
	    (ip[6] & 0x80))
		return false;
	bool later = (rd16(ip + 6) & 0x1fff) != 0;
	const uint8_t *l4 = ip + hlen;
	size_t l4_len = total - hlen;
	if (ip[17] == 9 || (ip[9] == NET_PROTO_ICMP && later))
		return true;
	if (later)
		return false;
	if (ip[9] == NET_PROTO_ICMP)
		return l4_len >= 8;
	if (ip[9] == NET_PROTO_TCP)
		return l4_len >= 20 && (size_t)(l4[12] >> 4) * 4 <= l4_len && (l4[12] >> 4) >= 5 &&
		       rd16(l4 + 2) == 443;
	return ip[9] == NET_PROTO_UDP && l4_len >= 8 && rd16(l4 + 4) >= 8 && rd16(l4 + 2) == 443;
}

/* ... of an IPv6 packet: neighbour discovery, or from the VM to
 * 2001:db8::/32 (and TCP to 443 if no extension header). */
static bool ipv6_may_pass(const uint8_t *ip, size_t len)
{
	if (len < 40 || ip[0] >> 4 != 6 || 40 + (size_t)rd16(ip + 4) > len)
		return false;
	bool link_dst = (ip[24] == 0xfe && (ip[25] & 0xc0) == 0x80) || (ip[24] == 0xff && ip[25] == 2);
	bool src_ok = eq_ip6(ip + 8, VM_IP6) || eq_ip6(ip + 8, "::") ||
		      (ip[8] == 0xfe && (ip[9] & 0xc0) == 0x80);
	if (ip[7] == 255 && link_dst && src_ok)
		return true;
	if (!eq_ip6(ip + 8, VM_IP6) || rd16(ip + 24) != 0x2001 || rd16(ip + 26) != 0x0db8)
		return false;
	if (ip[6] != NET_PROTO_TCP)
		return ip[6] == 0 || ip[6] == 43 || ip[6] == 44 || ip[6] == 60;
	return rd16(ip + 4) >= 20 && rd16(ip + 40 + 2) == 443 && (ip[40 + 12] >> 4) >= 5 &&
	       (size_t)(ip[40 + 12] >> 4) * 4 <= rd16(ip + 4);
}

/* An independent look at the bytes: false when sample_policy must not
 * allow the frame. */
static bool may_pass(const uint8_t *buf, size_t len)
{
	if (len < 14 || memcmp(buf + 6, vm_mac, 6) != 0)
		return false;
	switch (rd16(buf + 12)) {
	case 0x0806: return arp_may_pass(buf + 14, len - 14);
	case 0x0800: return ipv4_may_pass(buf + 14, len - 14);
	case 0x86dd: return ipv6_may_pass(buf + 14, len - 14);
	}
	return false;
}

/* A sample frame with 1-4 bytes changed and sometimes cut or extended, or
 * random bytes. */
static size_t random_frame(uint8_t *buf, int i)
{
	struct fb b;
	size_t len = sample_frames[random() % (sizeof(sample_frames) / sizeof(sample_frames[0]))](&b);
	if (i % 8 == 0) {
		len = (size_t)random() % 120;
		for (size_t j = 0; j < len; j++)
			b.buf[j] = (uint8_t)random();
	} else {
		for (int k = 1 + (int)(random() % 4); k > 0; k--)
			b.buf[random() % len] = (uint8_t)random();
		if (random() % 4 == 0)
			len = (size_t)random() % (len + 16);
	}
	memcpy(buf, b.buf, len);
	return len;
}

START_TEST(random_frames_never_pass_wrongly)
{
	int verdicts[3] = { 0 };
	uint8_t reply[NET_REPLY_MAX];
	sample_policy();
	srandom(4242);
	for (int i = 0; i < 100000; i++) {
		uint8_t *buf = malloc(FB_MAX);
		size_t len = random_frame(buf, i);
		struct net_frame f;
		struct egress_decision d = egress_policy_check(&pol, buf, len, &f);
		verdicts[d.verdict]++;
		if (d.verdict == EGRESS_ALLOW)
			ck_assert_msg(may_pass(buf, len), "iteration %d: allowed (%s), %zu bytes", i,
				      d.reason, len);
		if (d.verdict == EGRESS_REJECT) {
			struct net_frame r;
			size_t n = net_reply_build(buf, len, &f, reply, sizeof(reply));
			ck_assert_msg(n > 0, "iteration %d: a REJECT without a reply", i);
			ck_assert_int_ne(net_frame_parse(reply, n, &r), NET_FRAME_MALFORMED);
		}
		free(buf);
	}
	ck_assert_int_gt(verdicts[EGRESS_ALLOW], 1000);
	ck_assert_int_gt(verdicts[EGRESS_REJECT], 1000);
	printf("random: %d allowed, %d dropped, %d rejected\n", verdicts[EGRESS_ALLOW],
	       verdicts[EGRESS_DROP], verdicts[EGRESS_REJECT]);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("egress_policy");
	TCase *text = tcase_create("text");
	tcase_add_loop_test(text, rule_text_good, 0, sizeof(good_rules) / sizeof(good_rules[0]));
	tcase_add_loop_test(text, rule_text_bad, 0, sizeof(bad_rules) / sizeof(bad_rules[0]));
	tcase_add_test(text, addresses_text);
	suite_add_tcase(s, text);
	TCase *dec = tcase_create("decide");
	tcase_add_test(dec, arp);
	tcase_add_test(dec, neighbour_discovery);
	tcase_add_test(dec, spoofed_sources);
	tcase_add_test(dec, builtin_denies);
	tcase_add_test(dec, builtin_override_flag);
	tcase_add_test(dec, bogus_destinations_and_protocols);
	tcase_add_test(dec, rules_and_ports);
	tcase_add_test(dec, fragments_and_port_rules);
	tcase_add_test(dec, what_is_answered);
	tcase_add_test(dec, dhcp);
	tcase_add_test(dec, served_port_replies);
	tcase_add_test(dec, served_port_connect_refused);
	tcase_add_test(dec, served_port_other_protocol);
	tcase_add_test(dec, served_port_spoofed);
	tcase_add_test(dec, served_port_adder);
	suite_add_tcase(s, dec);
	TCase *hostile = tcase_create("hostile");
	tcase_set_timeout(hostile, 60);
	tcase_add_loop_test(hostile, every_truncation_is_dropped, 0,
			    sizeof(sample_frames) / sizeof(sample_frames[0]));
	tcase_add_test(hostile, random_frames_never_pass_wrongly);
	suite_add_tcase(s, hostile);
	return s;
}

CHECK_MAIN(policy_suite)

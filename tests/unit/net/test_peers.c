/* test_peers.c - the recent peers of served UDP ports (daemon/net/
 * egress_peers.c) and the decision that uses them: a datagram to a served
 * port records its sender; the guest's answer from that port to that
 * address and port passes under default deny (even to a host address)
 * until the entry expires, and nothing else does: another peer port or
 * address, another served port, another family, TCP, a later fragment, a
 * spoofed source; a full table replaces its oldest entry. */
#include "../check_main.h"
#include "daemon/net/egress_peers.h"
#include "daemon/net/egress_policy.h"
#include "frames.h"

#include <stdio.h>
#include <string.h>

#define SEC 1000000000LL
#define T0 (1000 * SEC)

static struct egress_policy pol;
static struct egress_peers peers;
static char err[256];

static void setup(void)
{
	egress_policy_init(&pol, vm_mac, false, 0);
	ck_assert_int_eq(egress_policy_set_vm_address(&pol, VM_IP4, err, sizeof err), 0);
	ck_assert_int_eq(egress_policy_set_vm_address(&pol, VM_IP6, err, sizeof err), 0);
	ck_assert_int_eq(egress_policy_add_served(&pol, "udp", "53", err, sizeof err), 0);
	ck_assert_int_eq(egress_policy_add_served(&pol, "tcp", "80", err, sizeof err), 0);
	ck_assert_int_eq(egress_policy_add_host_block(&pol, "192.168.1.10", err, sizeof err), 0);
	egress_peers_clear(&peers);
}

/* A UDP datagram src:sport -> dst:dport, the Ethernet addresses as a frame
 * from the VM (out) or to it. */
static void udp(struct fb *b, bool out, const char *src, uint16_t sport, const char *dst,
		uint16_t dport)
{
	bool v6 = strchr(src, ':') != NULL;
	fb_eth(b, out ? vm_mac : gw_mac, out ? gw_mac : vm_mac, v6 ? 0x86dd : 0x0800);
	if (v6)
		fb_ipv6(b, src, dst);
	else
		fb_ipv4(b, src, dst, NULL, 0);
	fb_udp(b, sport, dport);
	fb_payload(b, 20);
	fb_finish(b);
}

/* passt gives the guest a datagram: whether it was recorded. */
static bool heard(const char *src, uint16_t sport, const char *dst, uint16_t dport, int64_t now)
{
	struct fb b;
	struct net_frame f;
	udp(&b, false, src, sport, dst, dport);
	ck_assert_int_ne(net_frame_parse(b.buf, b.len, &f), NET_FRAME_MALFORMED);
	return egress_peers_note(&peers, &pol, &f, now);
}

static struct egress_decision send_at(const struct fb *b, int64_t now)
{
	struct net_frame f;
	return egress_policy_check_peers(&pol, &peers, now, b->buf, b->len, &f);
}

/* The guest answers src:sport -> dst:dport at now: its verdict. */
static enum egress_verdict answer(const char *src, uint16_t sport, const char *dst,
				  uint16_t dport, int64_t now)
{
	struct fb b;
	udp(&b, true, src, sport, dst, dport);
	return send_at(&b, now).verdict;
}

START_TEST(answer_to_a_recent_peer)
{
	ck_assert_int_eq(answer(VM_IP4, 53, "203.0.113.9", 5353, T0), EGRESS_REJECT);
	ck_assert(heard("203.0.113.9", 5353, VM_IP4, 53, T0));
	struct fb b;
	udp(&b, true, VM_IP4, 53, "203.0.113.9", 5353);
	struct egress_decision d = send_at(&b, T0 + SEC);
	ck_assert_int_eq(d.verdict, EGRESS_ALLOW);
	ck_assert_str_eq(d.reason, "reply to a recent peer of a published port");
	/* without the table, the policy alone refuses it */
	struct net_frame f;
	ck_assert_int_eq(egress_policy_check(&pol, b.buf, b.len, &f).verdict, EGRESS_REJECT);
	/* a host address as the peer (a client on the host) */
	ck_assert(heard("192.168.1.10", 40000, VM_IP4, 53, T0));
	ck_assert_int_eq(answer(VM_IP4, 53, "192.168.1.10", 40000, T0), EGRESS_ALLOW);
	/* IPv6 */
	ck_assert(heard("2001:db8::9", 5353, VM_IP6, 53, T0));
	ck_assert_int_eq(answer(VM_IP6, 53, "2001:db8::9", 5353, T0), EGRESS_ALLOW);
}
END_TEST

START_TEST(nothing_else_passes)
{
	ck_assert(heard("203.0.113.9", 5353, VM_IP4, 53, T0));
	ck_assert_int_eq(answer(VM_IP4, 53, "203.0.113.9", 5354, T0), EGRESS_REJECT);
	ck_assert_int_eq(answer(VM_IP4, 53, "203.0.113.10", 5353, T0), EGRESS_REJECT);
	ck_assert_int_eq(answer(VM_IP4, 54, "203.0.113.9", 5353, T0), EGRESS_REJECT);
	ck_assert_int_eq(answer(VM_IP6, 53, "::ffff:203.0.113.9", 5353, T0), EGRESS_DROP);
	ck_assert_int_eq(answer(VM_IP6, 53, "2001:db8::9", 5353, T0), EGRESS_REJECT);
	/* a spoofed source, to the peer from the served port */
	ck_assert_int_eq(answer("10.0.2.16", 53, "203.0.113.9", 5353, T0), EGRESS_DROP);
	/* TCP from the served UDP port is no answer (and port 53 is no TCP one) */
	struct fb b;
	fb_eth(&b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "203.0.113.9", NULL, 0);
	fb_tcp(&b, 53, 5353, NET_TCP_ACK, 1);
	fb_finish(&b);
	ck_assert_int_eq(send_at(&b, T0).verdict, EGRESS_DROP);
	/* a later fragment has no ports */
	fb_eth(&b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "203.0.113.9", NULL, 0);
	b.buf[b.nh] = NET_PROTO_UDP;
	fb_ipv4_frag(&b, 1480, false);
	fb_payload(&b, 100);
	fb_finish(&b);
	ck_assert_int_eq(send_at(&b, T0).verdict, EGRESS_DROP);
}
END_TEST

START_TEST(only_served_ports_recorded)
{
	ck_assert(!heard("203.0.113.9", 5353, VM_IP4, 54, T0));
	ck_assert(!heard("203.0.113.9", 5353, VM_IP4, 80, T0)); /* a TCP port */
	ck_assert_int_eq(answer(VM_IP4, 54, "203.0.113.9", 5353, T0), EGRESS_REJECT);
	struct fb b;
	struct net_frame f;
	fb_eth(&b, gw_mac, vm_mac, 0x0800); /* TCP to the served UDP port */
	fb_ipv4(&b, "203.0.113.9", VM_IP4, NULL, 0);
	fb_tcp(&b, 5353, 53, NET_TCP_SYN, 1);
	fb_finish(&b);
	net_frame_parse(b.buf, b.len, &f);
	ck_assert(!egress_peers_note(&peers, &pol, &f, T0));
	/* no longer served: the entry no longer counts */
	ck_assert(heard("203.0.113.9", 5353, VM_IP4, 53, T0));
	pol.n_served = 0;
	ck_assert_int_eq(answer(VM_IP4, 53, "203.0.113.9", 5353, T0), EGRESS_REJECT);
}
END_TEST

START_TEST(entries_expire_and_refresh)
{
	ck_assert(heard("203.0.113.9", 5353, VM_IP4, 53, T0));
	ck_assert_int_eq(answer(VM_IP4, 53, "203.0.113.9", 5353, T0 + EGRESS_PEER_TTL_NS - 1),
			 EGRESS_ALLOW);
	ck_assert_int_eq(answer(VM_IP4, 53, "203.0.113.9", 5353, T0 + EGRESS_PEER_TTL_NS),
			 EGRESS_REJECT);
	ck_assert(heard("203.0.113.9", 5353, VM_IP4, 53, T0 + 100 * SEC));
	ck_assert_int_eq(answer(VM_IP4, 53, "203.0.113.9", 5353, T0 + EGRESS_PEER_TTL_NS),
			 EGRESS_ALLOW);
	int used = 0;
	for (int i = 0; i < EGRESS_PEERS_MAX; i++)
		used += peers.e[i].used;
	ck_assert_int_eq(used, 1); /* refreshed in place */
	egress_peers_clear(&peers);
	ck_assert_int_eq(answer(VM_IP4, 53, "203.0.113.9", 5353, T0 + SEC), EGRESS_REJECT);
}
END_TEST

START_TEST(full_table_replaces_the_oldest)
{
	char a[32];
	for (int i = 0; i < EGRESS_PEERS_MAX; i++) {
		snprintf(a, sizeof a, "198.51.%d.%d", i / 200, 1 + i % 200);
		ck_assert(heard(a, 6000, VM_IP4, 53, T0 + i));
	}
	ck_assert(heard("203.0.113.9", 5353, VM_IP4, 53, T0 + SEC));
	ck_assert_int_eq(answer(VM_IP4, 53, "203.0.113.9", 5353, T0 + SEC), EGRESS_ALLOW);
	ck_assert_int_eq(answer(VM_IP4, 53, "198.51.0.1", 6000, T0 + SEC), EGRESS_REJECT);
	for (int i = 1; i < EGRESS_PEERS_MAX; i++) {
		snprintf(a, sizeof a, "198.51.%d.%d", i / 200, 1 + i % 200);
		ck_assert_msg(answer(VM_IP4, 53, a, 6000, T0 + SEC) == EGRESS_ALLOW, "%s", a);
	}
	/* the next newcomer replaces the next oldest, not the newest */
	ck_assert(heard("203.0.113.10", 5353, VM_IP4, 53, T0 + 2 * SEC));
	ck_assert_int_eq(answer(VM_IP4, 53, "198.51.0.2", 6000, T0 + 2 * SEC), EGRESS_REJECT);
	ck_assert_int_eq(answer(VM_IP4, 53, "203.0.113.9", 5353, T0 + 2 * SEC), EGRESS_ALLOW);
	ck_assert_int_eq(answer(VM_IP4, 53, "203.0.113.10", 5353, T0 + 2 * SEC), EGRESS_ALLOW);
}
END_TEST

static Suite *peers_suite(void)
{
	Suite *s = suite_create("egress_peers");
	TCase *t = tcase_create("peers");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, answer_to_a_recent_peer);
	tcase_add_test(t, nothing_else_passes);
	tcase_add_test(t, only_served_ports_recorded);
	tcase_add_test(t, entries_expire_and_refresh);
	tcase_add_test(t, full_table_replaces_the_oldest);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(peers_suite)

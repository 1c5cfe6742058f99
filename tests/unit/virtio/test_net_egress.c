/* test_net_egress.c - virtio-net with an egress policy (daemon/net): the
 * guest's frames are decided before they reach passt. Frames come from
 * tests/unit/net/frames.c (the VM is 10.0.2.15 with frames.c's vm_mac).
 *
 * Policy: allow 10.0.0.0/8 port 443 over TCP, deny the rest. Covered: an
 * allowed connect reaches passt unchanged; a denied one is answered with
 * RST+ACK in the guest's rx queue and passt sees nothing; a denied UDP
 * datagram gets ICMP "administratively prohibited"; a spoofed source MAC
 * is dropped without an answer; the replies are rate-limited; clearing
 * the policy lets everything through. With served (published) ports: a
 * TCP answer from one leaves, a connect from it does not; a UDP answer
 * from a served port leaves only to a peer whose datagram to that port
 * passt gave the guest.
 */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include "../net/frames.h"
#include "net_harness.h"
#include "../check_main.h"

static uint8_t got[NET_MAX_FRAME + 64];
static struct egress_policy policy;

static void setup(void)
{
	char err[128];
	nh_setup(NULL);
	ck_assert_mem_eq(nh_mac, vm_mac, 6);
	egress_policy_init(&policy, vm_mac, false, 0);
	ck_assert_int_eq(egress_policy_set_vm_address(&policy, VM_IP4, err, sizeof(err)), 0);
	ck_assert_int_eq(egress_policy_add_rule(&policy, true, "10.0.0.0/8:443/tcp", err,
						sizeof(err)), 0);
	struct vm_err verr = { { 0 } };
	ck_assert_int_eq(virtio_net_set_policy(nh_dev, &policy, &verr), 0);
}

static void teardown(void)
{
	nh_teardown();
}

static void passt_hears_nothing(void)
{
	ck_assert_int_eq(nh_passt_recv(nh_passt, got, sizeof(got), 200), -1);
}

START_TEST(allowed_connect_reaches_passt)
{
	struct fb b;
	size_t len = fb_tcp4(&b, "10.1.2.3", 443, NET_TCP_SYN);
	nh_send(b.buf, (uint32_t)len);
	ck_assert_int_eq(nh_passt_recv(nh_passt, got, sizeof(got), 5000), (long)len);
	ck_assert_mem_eq(got, b.buf, len);
	ck_assert_uint_eq(nh_stats().tx_frames, 1);
}
END_TEST

START_TEST(denied_connect_gets_rst)
{
	struct fb b;
	size_t len = fb_tcp4(&b, "192.0.2.1", 80, NET_TCP_SYN);
	nh_send(b.buf, (uint32_t)len);
	long n = nh_recv(got, sizeof(got), 5, NULL);
	ck_assert_int_eq(n, 14 + 20 + 20);
	ck_assert_mem_eq(got, vm_mac, 6);                  /* to the guest */
	ck_assert_mem_eq(got + 6, gw_mac, 6);              /* from where it was going */
	ck_assert_uint_eq(rd16(got + 12), 0x0800);
	ck_assert_uint_eq(got[14 + 9], NET_PROTO_TCP);
	static const uint8_t denied_ip[4] = { 192, 0, 2, 1 };
	ck_assert_mem_eq(got + 14 + 12, denied_ip, 4);
	ck_assert_uint_eq(rd16(got + 34), 80);             /* ports swapped */
	ck_assert_uint_eq(rd16(got + 36), 40000);
	ck_assert_uint_eq(got[34 + 13], NET_TCP_RST | NET_TCP_ACK);
	passt_hears_nothing();
	struct virtio_net_stats s = nh_stats();
	ck_assert_uint_eq(s.tx_rejects, 1);
	ck_assert_uint_eq(s.tx_replies, 1);
	ck_assert_uint_eq(s.tx_frames, 0);

	len = fb_tcp4(&b, "10.1.2.3", 80, NET_TCP_SYN); /* right network, wrong port */
	nh_send(b.buf, (uint32_t)len);
	ck_assert_int_eq(nh_recv(got, sizeof(got), 5, NULL), 54);
	passt_hears_nothing();
}
END_TEST

START_TEST(denied_udp_gets_unreachable)
{
	struct fb b;
	size_t len = fb_udp4(&b, "192.0.2.1", 53);
	nh_send(b.buf, (uint32_t)len);
	long n = nh_recv(got, sizeof(got), 5, NULL);
	ck_assert_int_gt(n, 14 + 20 + 8);
	ck_assert_uint_eq(got[14 + 9], NET_PROTO_ICMP);
	ck_assert_uint_eq(got[34], 3);  /* destination unreachable */
	ck_assert_uint_eq(got[35], 13); /* administratively prohibited */
	passt_hears_nothing();
}
END_TEST

START_TEST(spoofed_source_dropped_silently)
{
	struct fb b;
	static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
	fb_eth(&b, other, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "10.1.2.3", NULL, 0);
	fb_tcp(&b, 40000, 443, NET_TCP_SYN, 1);
	size_t len = fb_finish(&b);
	nh_send(b.buf, (uint32_t)len);
	passt_hears_nothing();
	ck_assert_int_eq(nh_recv(got, sizeof(got), 0.2, NULL), -1);
	ck_assert_uint_eq(nh_stats().tx_drop_policy, 1);
	ck_assert_uint_eq(nh_stats().tx_rejects, 0);
}
END_TEST

#define FLOOD 200
#define BATCH 10

/* A flood of refused connects: at most the burst plus the rate's worth
 * of answers; the rest are counted as unanswered, none is lost track of. */
START_TEST(replies_rate_limited)
{
	struct fb b;
	size_t len = fb_tcp4(&b, "192.0.2.1", 80, NET_TCP_SYN);
	uint32_t received = 0;
	double t0 = nh_now();
	for (int i = 0; i < FLOOD; i += BATCH) {
		nh_recycle_tx();
		uint32_t before = nh_tx_used();
		for (int k = 0; k < BATCH; k++)
			nh_queue_tx(NULL, b.buf, (uint32_t)len, 1);
		nh_kick_tx();
		while (nh_tx_used() < before + BATCH)
			usleep(200);
		while (nh_recv(got, sizeof(got), 0, NULL) > 0) /* no waiting: time refills */
			received++;
	}
	double elapsed = nh_now() - t0;
	while (nh_recv(got, sizeof(got), 0.2, NULL) > 0)
		received++;
	struct virtio_net_stats s = nh_stats();
	ck_assert_uint_eq(s.tx_rejects, FLOOD);
	ck_assert_uint_eq(s.tx_replies + s.tx_replies_limited, FLOOD);
	ck_assert_uint_eq(received, s.tx_replies);
	ck_assert_uint_ge(s.tx_replies, NET_REPLY_BURST);
	ck_assert_msg(s.tx_replies <= NET_REPLY_BURST + NET_REPLY_RATE * elapsed + 1,
		      "%llu replies in %.3f s", (unsigned long long)s.tx_replies, elapsed);
	ck_assert_uint_gt(s.tx_replies_limited, 0);
	passt_hears_nothing();
}
END_TEST

START_TEST(no_policy_allows_all)
{
	struct fb b;
	struct vm_err err = { { 0 } };
	ck_assert_int_eq(virtio_net_set_policy(nh_dev, NULL, &err), 0);
	size_t len = fb_tcp4(&b, "192.0.2.1", 80, NET_TCP_SYN);
	nh_send(b.buf, (uint32_t)len);
	ck_assert_int_eq(nh_passt_recv(nh_passt, got, sizeof(got), 5000), (long)len);
	ck_assert_uint_eq(nh_stats().tx_rejects, 0);
}
END_TEST

/* The policy again, with one more served port. */
static void serve(const char *proto, const char *port)
{
	char err[128];
	struct vm_err verr = { { 0 } };
	ck_assert_int_eq(egress_policy_add_served(&policy, proto, port, err, sizeof(err)), 0);
	ck_assert_int_eq(virtio_net_set_policy(nh_dev, &policy, &verr), 0);
}

/* A UDP datagram, from the VM (out) or to it. */
static size_t udp4(struct fb *b, bool out, const char *src, uint16_t sport, const char *dst,
		   uint16_t dport)
{
	fb_eth(b, out ? vm_mac : gw_mac, out ? gw_mac : vm_mac, 0x0800);
	fb_ipv4(b, src, dst, NULL, 0);
	fb_udp(b, sport, dport);
	fb_payload(b, 30);
	return fb_finish(b);
}

START_TEST(served_tcp_answer_leaves)
{
	struct fb b;
	serve("tcp", "80");
	fb_eth(&b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "192.0.2.9", NULL, 0);
	fb_tcp(&b, 80, 41000, NET_TCP_SYN | NET_TCP_ACK, 7);
	size_t len = fb_finish(&b);
	nh_send(b.buf, (uint32_t)len);
	ck_assert_int_eq(nh_passt_recv(nh_passt, got, sizeof(got), 5000), (long)len);
	ck_assert_mem_eq(got, b.buf, len);
	fb_eth(&b, vm_mac, gw_mac, 0x0800);
	fb_ipv4(&b, VM_IP4, "192.0.2.9", NULL, 0);
	fb_tcp(&b, 80, 41000, NET_TCP_SYN, 7); /* a connect from the served port */
	len = fb_finish(&b);
	nh_send(b.buf, (uint32_t)len);
	ck_assert_int_eq(nh_recv(got, sizeof(got), 5, NULL), 54);
	ck_assert_uint_eq(got[34 + 13], NET_TCP_RST | NET_TCP_ACK);
	passt_hears_nothing();
}
END_TEST

START_TEST(served_udp_answers_only_its_peers)
{
	struct fb b, in;
	serve("udp", "53");
	size_t len = udp4(&b, true, VM_IP4, 53, "192.0.2.9", 5353);
	nh_send(b.buf, (uint32_t)len); /* nobody asked yet: refused */
	ck_assert_int_gt(nh_recv(got, sizeof(got), 5, NULL), 0);
	ck_assert_uint_eq(got[14 + 9], NET_PROTO_ICMP);
	passt_hears_nothing();
	size_t ilen = udp4(&in, false, "192.0.2.9", 5353, VM_IP4, 53);
	nh_passt_send(nh_passt, in.buf, (uint32_t)ilen);
	ck_assert_int_eq(nh_recv(got, sizeof(got), 5, NULL), (long)ilen);
	ck_assert_mem_eq(got, in.buf, ilen);
	nh_recycle_tx();
	nh_send(b.buf, (uint32_t)len); /* the answer */
	ck_assert_int_eq(nh_passt_recv(nh_passt, got, sizeof(got), 5000), (long)len);
	ck_assert_mem_eq(got, b.buf, len);
	len = udp4(&b, true, VM_IP4, 53, "192.0.2.9", 5354); /* another port of the peer */
	nh_send(b.buf, (uint32_t)len);
	ck_assert_int_gt(nh_recv(got, sizeof(got), 5, NULL), 0);
	passt_hears_nothing();
	len = udp4(&b, true, VM_IP4, 53, "192.0.2.10", 5353); /* another address */
	nh_send(b.buf, (uint32_t)len);
	ck_assert_int_gt(nh_recv(got, sizeof(got), 5, NULL), 0);
	passt_hears_nothing();
	ck_assert_uint_eq(nh_stats().tx_frames, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio-net-egress");
	TCase *t = tcase_create("policy");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, allowed_connect_reaches_passt);
	tcase_add_test(t, denied_connect_gets_rst);
	tcase_add_test(t, denied_udp_gets_unreachable);
	tcase_add_test(t, spoofed_source_dropped_silently);
	tcase_add_test(t, replies_rate_limited);
	tcase_add_test(t, no_policy_allows_all);
	tcase_add_test(t, served_tcp_answer_leaves);
	tcase_add_test(t, served_udp_answers_only_its_peers);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return check_run(suite(), CK_FORK_GETENV);
}

/* test_net_persist.c - saving and restoring virtio-net.
 *
 * Devices run without an event loop (the backend is served by the calls
 * the tests make). Device a is the guest's live device; b is made fresh,
 * as the restoring process does. The backend never survives: after a
 * restore the link is down (the guest is told if it saw it up) until a
 * new socket is attached, and then frames flow on it both ways.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/vm/virtio/net.h"
#include "fake_driver.h"
#include "persist_check.h"
#include "../check_main.h"

#define OFF_MAC  (PC_HDR + PC_MMIO_BYTES(2))
#define OFF_LINK (OFF_MAC + 6)
#define RX_BUF   4096

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static struct fake_guest g;
static struct fake_ring rx, tx;
static struct virtio_net *a, *b;
static uint64_t rx_buf;

PC_WRAPPERS(net, virtio_net_save, virtio_net_restore)

static struct pc_dev from_a, into_b;

static struct virtio_net *new_dev(const uint8_t *m)
{
	struct vm_err err = { { 0 } };
	struct virtio_net *n = calloc(1, sizeof(*n));
	ck_assert_msg(virtio_net_init(n, &g.mem, m, NULL, &err) == 0, "%s", err.msg);
	return n;
}

/* A socketpair: one end attached to n, the other returned. */
static int attach_pair(struct virtio_net *n)
{
	struct vm_err err = { { 0 } };
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_msg(virtio_net_attach(n, sv[0], &err) == 0, "%s", err.msg);
	return sv[1];
}

/* The driver brings a up: both queues, event idx, merged rx buffers, one
 * rx buffer posted. */
static void make_live(void)
{
	drv_negotiate(&a->t, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_EVENT_IDX) |
			     (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
			     (1ULL << VIRTIO_NET_F_MRG_RXBUF));
	drv_queue(&g, &a->t, NET_QUEUE_RX, &rx, 16);
	drv_queue(&g, &a->t, NET_QUEUE_TX, &tx, 16);
	drv_ok(&a->t);
	rx_buf = fg_alloc(&g, RX_BUF);
	fr_add_chain(&g, &rx, &rx_buf, (uint32_t[]){ RX_BUF }, (uint16_t[]){ VIRTQ_DESC_F_WRITE },
		     1);
}

static void setup(void)
{
	fg_init(&g);
	a = new_dev(mac);
	b = NULL;
	make_live();
	from_a = (struct pc_dev){ a, pc_net_save, pc_net_restore };
}

static void teardown(void)
{
	virtio_net_destroy(a);
	free(a);
	if (b) {
		virtio_net_destroy(b);
		free(b);
	}
	fg_free(&g);
}

static void make_b(const uint8_t *m)
{
	b = new_dev(m);
	into_b = (struct pc_dev){ b, pc_net_save, pc_net_restore };
}

static uint16_t link_status(struct virtio_net *n)
{
	uint16_t s;
	virtio_mmio_access(&n->t, VIRTIO_MMIO_CONFIG + 6, (uint8_t *)&s, 2, false);
	return s;
}

START_TEST(round_trip)
{
	struct snap_writer w;
	make_b(mac);
	pc_save(&from_a, &w);
	ck_assert_uint_eq(w.len, OFF_LINK + 1);
	ck_assert_mem_eq(w.buf + OFF_MAC, mac, 6);
	ck_assert_uint_eq(w.buf[OFF_LINK], 0);
	pc_restore_ok(&into_b, w.buf, w.len);
	for (uint16_t q = 0; q < 2; q++)
		ck_assert(virtio_mmio_queue_live(&b->t, q));
	ck_assert(virtio_mmio_has_feature(&b->t, VIRTIO_NET_F_MRG_RXBUF));
	pc_resave_same(&into_b, w.buf, w.len);
	snap_writer_free(&w);
}
END_TEST

/* The guest saw link up: after the restore it is down (config interrupt),
 * b's own early socket is closed, and a new one brings it up and carries
 * frames both ways. */
START_TEST(link_down_until_attached)
{
	struct snap_writer w;
	int pa = attach_pair(a);
	make_b(mac);
	int early = attach_pair(b);
	drv_write(&a->t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG | VIRTIO_MMIO_INT_VRING);
	pc_save(&from_a, &w);
	ck_assert_uint_eq(w.buf[OFF_LINK], 1);
	uint32_t gen = a->t.config_generation;
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert(!b->link_up);
	ck_assert_uint_eq(link_status(b), 0);
	ck_assert_uint_eq(b->t.config_generation, gen + 1);
	ck_assert(b->t.interrupt_status & VIRTIO_MMIO_INT_CONFIG);
	char c;
	ck_assert_int_eq(read(early, &c, 1), 0); /* closed */

	uint8_t frame[4 + 60] = { 0, 0, 0, 60, 0x52, 0x54, 0, 0x12, 0x34, 0x56, 1, 2, 3 };
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(write(sv[1], frame, sizeof(frame)), (ssize_t)sizeof(frame));
	struct vm_err err = { { 0 } };
	ck_assert_int_eq(virtio_net_attach(b, sv[0], &err), 0); /* reads what waits */
	ck_assert(b->link_up);
	ck_assert_uint_eq(link_status(b), VIRTIO_NET_S_LINK_UP);
	uint32_t id, len;
	ck_assert(fr_get_used(&g, &rx, &id, &len));
	ck_assert_uint_eq(len, NET_HDR_SIZE + 60);
	ck_assert_mem_eq((uint8_t *)fg_host(&g, rx_buf) + NET_HDR_SIZE, frame + 4, 60);

	uint64_t t = fg_alloc(&g, NET_HDR_SIZE + 60);
	memset(fg_host(&g, t), 0, NET_HDR_SIZE);
	memcpy((uint8_t *)fg_host(&g, t) + NET_HDR_SIZE, frame + 4, 60);
	fr_add_chain(&g, &tx, &t, (uint32_t[]){ NET_HDR_SIZE + 60 }, (uint16_t[]){ 0 }, 1);
	virtio_mmio_kick(&b->t, NET_QUEUE_TX);
	uint8_t back[64];
	ck_assert_int_eq(read(sv[1], back, sizeof(back)), (ssize_t)sizeof(back));
	ck_assert_mem_eq(back, frame, sizeof(frame));
	close(sv[1]);
	close(early);
	close(pa);
	snap_writer_free(&w);
}
END_TEST

/* b was made with another MAC (a clone of a shared snapshot): it keeps
 * its own, the config space shows it, the guest (which read a's) gets a
 * config change interrupt although the link was never up, and b's own
 * snapshot records b's MAC. */
START_TEST(keeps_own_mac)
{
	struct snap_writer w, again;
	const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
	make_b(other);
	pc_save(&from_a, &w);
	ck_assert_uint_eq(w.buf[OFF_LINK], 0);
	uint32_t gen = a->t.config_generation;
	pc_restore_ok(&into_b, w.buf, w.len);
	uint8_t seen[6];
	virtio_mmio_access(&b->t, VIRTIO_MMIO_CONFIG, seen, 6, false);
	ck_assert_mem_eq(seen, other, 6);
	ck_assert_uint_eq(b->t.config_generation, gen + 1);
	ck_assert(b->t.interrupt_status & VIRTIO_MMIO_INT_CONFIG);
	pc_save(&into_b, &again);
	ck_assert_mem_eq(again.buf + OFF_MAC, other, 6);
	snap_writer_free(&w);
	snap_writer_free(&again);
}
END_TEST

/* The same MAC and a link never up: no config change at all. */
START_TEST(same_mac_no_config_change)
{
	struct snap_writer w;
	make_b(mac);
	pc_save(&from_a, &w);
	uint32_t gen = a->t.config_generation;
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert_uint_eq(b->t.config_generation, gen);
	ck_assert(!(b->t.interrupt_status & VIRTIO_MMIO_INT_CONFIG));
	snap_writer_free(&w);
}
END_TEST

START_TEST(rejects_damage)
{
	struct snap_writer w;
	make_b(mac);
	pc_save(&from_a, &w);
	pc_reject_cuts_and_framing(&into_b, w.buf, w.len);
	pc_reject_patch(&into_b, w.buf, w.len, OFF_LINK, 2, 1, "");
	pc_reject_patch(&into_b, w.buf, w.len, PC_HDR + PC_VQ(1) + PC_VQ_USED, 0, 8,
			"virtio-net: transport: queue 1: ring size or address");
	pc_reject_patch(&into_b, w.buf, w.len, PC_HDR + PC_NQ, 3, 2, "saved with 3 queues");
	pc_reject_patch(&into_b, w.buf, w.len, PC_HDR + PC_ID, 19, 4,
			"saved from virtio device id 19");
	snap_writer_free(&w);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_net_persist");
	TCase *t = tcase_create("persist");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, round_trip);
	tcase_add_test(t, link_down_until_attached);
	tcase_add_test(t, keeps_own_mac);
	tcase_add_test(t, same_mac_no_config_change);
	tcase_add_test(t, rejects_damage);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)

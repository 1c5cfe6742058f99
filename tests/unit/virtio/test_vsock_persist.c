/* test_vsock_persist.c - saving and restoring virtio-vsock.
 *
 * Devices run without an event loop (handlers called directly). Device a
 * is the guest's live device; b is made fresh, as the restoring process
 * does, with its own listener. Connections never survive: after a restore
 * every slot is free and the guest is sent TRANSPORT_RESET on its event
 * queue, now if it has a buffer there, else when it posts one.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/vm/virtio/vsock.h"
#include "fake_driver.h"
#include "persist_check.h"
#include "../check_main.h"

#define CID 7
#define OFF_CID  (PC_HDR + PC_MMIO_BYTES(3))
#define OFF_PORT (OFF_CID + 8)

static struct fake_guest g;
static struct fake_ring rx, tx, evq;
static struct virtio_vsock a, b;
static char dir[] = "/tmp/sm-vsock-persist-XXXXXX";

PC_WRAPPERS(vsock, virtio_vsock_save, virtio_vsock_restore)

static const struct pc_dev from_a = { &a, pc_vsock_save, pc_vsock_restore };
static const struct pc_dev into_b = { &b, pc_vsock_save, pc_vsock_restore };

static void init_dev(struct virtio_vsock *v, const char *name, uint64_t cid)
{
	struct vm_err err = { { 0 } };
	char uds[100];
	snprintf(uds, sizeof(uds), "%.80s/%s", dir, name);
	ck_assert_msg(virtio_vsock_init(v, &g.mem, cid, uds, NULL, &err) == 0, "%s", err.msg);
}

/* The driver brings a up: three queues, event idx, DRIVER_OK. */
static void make_live(void)
{
	drv_negotiate(&a.t, (1ULL << VIRTIO_F_VERSION_1) | (1u << VIRTIO_F_EVENT_IDX));
	drv_queue(&g, &a.t, VSOCK_QUEUE_RX, &rx, 64);
	drv_queue(&g, &a.t, VSOCK_QUEUE_TX, &tx, 64);
	drv_queue(&g, &a.t, VSOCK_QUEUE_EVENT, &evq, 4);
	drv_ok(&a.t);
	a.next_ephemeral = VSOCK_EPHEMERAL_BASE + 41; /* 41 host connections so far */
}

/* The guest posts one 8-byte buffer on the event queue. */
static uint64_t post_event_buffer(void)
{
	uint64_t addr = fg_alloc(&g, 8);
	uint32_t len = 8;
	uint16_t flags = VIRTQ_DESC_F_WRITE;
	memset(fg_host(&g, addr), 0xee, 8);
	fr_add_chain(&g, &evq, &addr, &len, &flags, 1);
	return addr;
}

/* A host program connects to b's socket; b accepts it into a slot. */
static int host_connect_b(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", b.uds_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	vsock_on_listener(&b, EPOLLIN);
	ck_assert_int_eq(b.conn[0].state, VSOCK_HOST_LINE);
	return fd;
}

static void setup(void)
{
	fg_init(&g);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	init_dev(&a, "a.sock", CID);
	make_live();
}

static void teardown(void)
{
	virtio_vsock_destroy(&a);
	if (b.t.ops)
		virtio_vsock_destroy(&b);
	memset(&b, 0, sizeof(b));
	pc_remove_tmpdir(dir);
	fg_free(&g);
}

START_TEST(round_trip)
{
	struct snap_writer w;
	init_dev(&b, "b.sock", CID);
	pc_save(&from_a, &w);
	ck_assert_uint_eq(w.len, OFF_PORT + 4);
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert_uint_eq(b.next_ephemeral, VSOCK_EPHEMERAL_BASE + 41);
	for (uint16_t q = 0; q < 3; q++)
		ck_assert(virtio_mmio_queue_live(&b.t, q));
	pc_resave_same(&into_b, w.buf, w.len);
	snap_writer_free(&w);
}
END_TEST

/* The guest had an event buffer posted: TRANSPORT_RESET goes out at once,
 * and connections b accepted before the restore are closed. */
START_TEST(reset_event_sent_at_once)
{
	struct snap_writer w;
	uint32_t id, len, event;
	uint64_t buf = post_event_buffer();
	init_dev(&b, "b.sock", CID);
	int host = host_connect_b();
	pc_save(&from_a, &w);
	pc_restore_ok(&into_b, w.buf, w.len);
	for (int i = 0; i < VSOCK_MAX_CONNS; i++)
		ck_assert_int_eq(b.conn[i].state, VSOCK_FREE);
	char c;
	ck_assert_int_eq(read(host, &c, 1), 0); /* the host side sees EOF */
	close(host);
	ck_assert(fr_get_used(&g, &evq, &id, &len));
	ck_assert_uint_eq(len, 4);
	memcpy(&event, fg_host(&g, buf), 4);
	ck_assert_uint_eq(event, VSOCK_EVENT_TRANSPORT_RESET);
	ck_assert(!b.reset_event_pending);
	ck_assert_uint_ne(b.t.interrupt_status & VIRTIO_MMIO_INT_VRING, 0);
	snap_writer_free(&w);
}
END_TEST

/* No event buffer yet: the event waits for the guest's next one. */
START_TEST(reset_event_waits_for_buffer)
{
	struct snap_writer w;
	uint32_t id, len;
	init_dev(&b, "b.sock", CID);
	pc_save(&from_a, &w);
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert(b.reset_event_pending);
	ck_assert(!fr_get_used(&g, &evq, &id, &len));
	post_event_buffer();
	virtio_mmio_kick(&b.t, VSOCK_QUEUE_EVENT);
	ck_assert(fr_get_used(&g, &evq, &id, &len));
	ck_assert_uint_eq(len, 4);
	ck_assert(!b.reset_event_pending);
	snap_writer_free(&w);
}
END_TEST

/* A refused restore leaves b alone: its connection stays open. */
START_TEST(refuses_other_cid)
{
	struct snap_writer w;
	init_dev(&b, "b.sock", 9);
	int host = host_connect_b();
	pc_save(&from_a, &w);
	pc_reject(&into_b, w.buf, w.len, "guest CID 7 in the snapshot, 9 in this VM");
	ck_assert_int_eq(b.conn[0].state, VSOCK_HOST_LINE);
	ck_assert(!b.reset_event_pending);
	close(host);
	snap_writer_free(&w);
}
END_TEST

START_TEST(rejects_damage)
{
	struct snap_writer w;
	init_dev(&b, "b.sock", CID);
	pc_save(&from_a, &w);
	ck_assert_uint_eq(pc_get(w.buf, OFF_CID, 8), CID);
	pc_reject_cuts_and_framing(&into_b, w.buf, w.len);
	pc_reject_patch(&into_b, w.buf, w.len, OFF_PORT, 1000, 4, "last host port 1000");
	pc_reject_patch(&into_b, w.buf, w.len, OFF_PORT, UINT32_MAX, 4, "last host port");
	pc_reject_patch(&into_b, w.buf, w.len, PC_HDR + PC_VQ(2) + PC_VQ_USED, 0, 8,
			"virtio-vsock: transport: queue 2: ring size or address");
	pc_reject_patch(&into_b, w.buf, w.len, PC_HDR + PC_NQ, 1, 2, "saved with 1 queues");
	snap_writer_free(&w);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_vsock_persist");
	TCase *t = tcase_create("persist");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, round_trip);
	tcase_add_test(t, reset_event_sent_at_once);
	tcase_add_test(t, reset_event_waits_for_buffer);
	tcase_add_test(t, refuses_other_cid);
	tcase_add_test(t, rejects_damage);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)

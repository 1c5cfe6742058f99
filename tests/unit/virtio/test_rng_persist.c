/* test_rng_persist.c - saving and restoring virtio-rng: the transport and
 * the byte counter travel in one "VRNG" section. */
#include <check.h>
#include <string.h>

#include "daemon/vm/virtio/rng.h"
#include "fake_driver.h"
#include "persist_check.h"
#include "../check_main.h"

static struct fake_guest g;
static struct fake_ring r;
static struct virtio_rng a, b;

PC_WRAPPERS(rng, virtio_rng_save, virtio_rng_restore)

static const struct pc_dev from_a = { &a, pc_rng_save, pc_rng_restore };
static const struct pc_dev into_b = { &b, pc_rng_save, pc_rng_restore };

static void setup(void)
{
	fg_init(&g);
	virtio_rng_init(&a, &g.mem);
	virtio_rng_init(&b, &g.mem);
	/* A live device that handed out 100 bytes. */
	drv_negotiate(&a.t, 1ULL << VIRTIO_F_VERSION_1);
	drv_queue(&g, &a.t, 0, &r, 8);
	drv_ok(&a.t);
	uint64_t addr = fg_alloc(&g, 100);
	uint32_t len = 100;
	uint16_t flags = VIRTQ_DESC_F_WRITE;
	fr_add_chain(&g, &r, &addr, &len, &flags, 1);
	drv_write(&a.t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(a.bytes, 100);
}

static void teardown(void)
{
	virtio_mmio_destroy(&a.t);
	virtio_mmio_destroy(&b.t);
	fg_free(&g);
}

START_TEST(round_trip)
{
	struct snap_writer w;
	pc_save(&from_a, &w);
	ck_assert_uint_eq(w.len, PC_HDR + PC_MMIO_BYTES(1) + 8);
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert_uint_eq(b.bytes, 100);
	ck_assert_uint_eq(b.t.status, a.t.status);
	ck_assert_uint_eq(b.t.vq[0].used_idx, 1);
	ck_assert_uint_eq(b.t.vq[0].desc_gpa, r.desc);
	pc_resave_same(&into_b, w.buf, w.len);
	snap_writer_free(&w);
}
END_TEST

START_TEST(rejects_damage)
{
	struct snap_writer w;
	pc_save(&from_a, &w);
	pc_reject_cuts_and_framing(&into_b, w.buf, w.len);
	/* The transport inside: wrong device, a bad queue. */
	pc_reject_patch(&into_b, w.buf, w.len, PC_HDR + PC_ID, 19, 4, "virtio-rng: transport:");
	pc_reject_patch(&into_b, w.buf, w.len, PC_HDR + PC_VQ(0) + PC_VQ_SIZE, 6, 2,
			"queue 0: size 6");
	snap_writer_free(&w);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_rng_persist");
	TCase *t = tcase_create("persist");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, round_trip);
	tcase_add_test(t, rejects_damage);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)

/* test_rng_persist.c - saving and restoring virtio-rng: the transport and
 * the byte counter travel in one "VRNG" section. */
#include <check.h>
#include <string.h>

#include "daemon/vm/virtio/rng.h"
#include "fake_guest.h"
#include "persist_check.h"
#include "../check_main.h"

static struct fake_guest g;
static struct fake_ring r;
static struct virtio_rng a, b;

static void save_rng(void *dev, struct snap_writer *w)
{
	virtio_rng_save(dev, w);
}

static bool restore_rng(void *dev, struct snap_reader *rd)
{
	return virtio_rng_restore(dev, rd);
}

static const struct pc_dev from_a = { &a, save_rng, restore_rng };
static const struct pc_dev into_b = { &b, save_rng, restore_rng };

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_access(&a.t, off, (uint8_t *)&v, 4, true);
}

static void setup(void)
{
	fg_init(&g);
	virtio_rng_init(&a, &g.mem);
	virtio_rng_init(&b, &g.mem);
	/* A live device that handed out 100 bytes. */
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
	fr_init(&g, &r, 8, NULL);
	wr(VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r.desc);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)r.avail);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)r.used);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	uint64_t addr = fg_alloc(&g, 100);
	uint32_t len = 100;
	uint16_t flags = VIRTQ_DESC_F_WRITE;
	fr_add_chain(&g, &r, &addr, &len, &flags, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
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
	struct snap_writer w, again;
	pc_save(&from_a, &w);
	ck_assert_uint_eq(w.len, PC_HDR + PC_MMIO_BYTES(1) + 8);
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert_uint_eq(b.bytes, 100);
	ck_assert_uint_eq(b.t.status, a.t.status);
	ck_assert_uint_eq(b.t.vq[0].used_idx, 1);
	ck_assert_uint_eq(b.t.vq[0].desc_gpa, r.desc);
	pc_save(&into_b, &again);
	ck_assert_uint_eq(again.len, w.len);
	ck_assert_mem_eq(again.buf, w.buf, w.len);
	snap_writer_free(&w);
	snap_writer_free(&again);
}
END_TEST

START_TEST(rejects_damage)
{
	struct snap_writer w;
	pc_save(&from_a, &w);
	pc_reject_truncations(&into_b, w.buf, w.len);
	pc_reject_framing(&into_b, w.buf, w.len);
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

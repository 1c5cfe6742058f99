/* test_mmio_persist.c - saving and restoring a virtio-mmio transport.
 *
 * The rng device is the vehicle (one queue of 64 at most). The test plays
 * the guest driver through the register window, saves the transport of
 * device a and restores it into device b, freshly made on the same guest
 * RAM, the way a new VMM process restores into the devices attach made.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/vm/virtio/blk.h"
#include "daemon/vm/virtio/rng.h"
#include "fake_driver.h"
#include "persist_check.h"
#include "../check_main.h"

#define ALL_OK (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
		VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)
#define FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_EVENT_IDX) | \
		  (1ULL << VIRTIO_F_INDIRECT_DESC))

static struct fake_guest g;
static struct fake_ring r;
static struct virtio_rng a, b;

static uint32_t rd(struct virtio_mmio *t, uint64_t off)
{
	uint32_t v = 0;
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, false);
	return v;
}

PC_WRAPPERS(mmio, virtio_mmio_save, virtio_mmio_restore)

static const struct pc_dev from_a = { &a.t, pc_mmio_save, pc_mmio_restore };
static const struct pc_dev into_b = { &b.t, pc_mmio_save, pc_mmio_restore };

static void setup(void)
{
	fg_init(&g);
	virtio_rng_init(&a, &g.mem);
	virtio_rng_init(&b, &g.mem);
}

static void teardown(void)
{
	for (int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		if (b.t.kickfd[q] >= 0)
			close(b.t.kickfd[q]);
	if (b.t.irqfd >= 0)
		close(b.t.irqfd);
	virtio_mmio_destroy(&a.t);
	virtio_mmio_destroy(&b.t);
	fg_free(&g);
}

/* Post one 32-byte device-writable buffer for entropy. */
static void post_buffer(void)
{
	uint64_t addr = fg_alloc(&g, 32);
	uint32_t len = 32;
	uint16_t flags = VIRTQ_DESC_F_WRITE;
	fr_add_chain(&g, &r, &addr, &len, &flags, 1);
}

/* a live: 3 requests served, 2 posted but not kicked, an interrupt not yet
 * acknowledged, selectors left where a driver might leave them. */
static void make_live(void)
{
	drv_negotiate(&a.t, FEATURES);
	drv_queue(&g, &a.t, 0, &r, 16);
	drv_ok(&a.t);
	for (int i = 0; i < 3; i++)
		post_buffer();
	drv_write(&a.t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(a.t.vq[0].used_idx, 3);
	for (int i = 0; i < 2; i++)
		post_buffer();
	drv_write(&a.t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	drv_write(&a.t, VIRTIO_MMIO_SHM_SEL, 2);
	ck_assert_uint_eq(rd(&a.t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
}

static void assert_vq_eq(const struct virtqueue *x, const struct virtqueue *y)
{
	ck_assert_uint_eq(x->size, y->size);
	ck_assert_int_eq(x->ready, y->ready);
	ck_assert_int_eq(x->event_idx, y->event_idx);
	ck_assert_int_eq(x->indirect, y->indirect);
	ck_assert_uint_eq(x->desc_gpa, y->desc_gpa);
	ck_assert_uint_eq(x->avail_gpa, y->avail_gpa);
	ck_assert_uint_eq(x->used_gpa, y->used_gpa);
	ck_assert_uint_eq(x->last_avail, y->last_avail);
	ck_assert_uint_eq(x->used_idx, y->used_idx);
	ck_assert_uint_eq(x->signalled_used, y->signalled_used);
	ck_assert_int_eq(x->signalled_valid, y->signalled_valid);
}

static void assert_same(const struct virtio_mmio *x, const struct virtio_mmio *y)
{
	ck_assert_uint_eq(x->status, y->status);
	ck_assert_int_eq(x->needs_reset, y->needs_reset);
	ck_assert_str_eq(x->fail_reason, y->fail_reason);
	ck_assert_uint_eq(x->dev_features_sel, y->dev_features_sel);
	ck_assert_uint_eq(x->drv_features_sel, y->drv_features_sel);
	ck_assert_uint_eq(x->queue_sel, y->queue_sel);
	ck_assert_uint_eq(x->shm_sel, y->shm_sel);
	ck_assert_uint_eq(x->driver_features, y->driver_features);
	ck_assert_uint_eq(x->interrupt_status, y->interrupt_status);
	ck_assert_uint_eq(x->config_generation, y->config_generation);
	for (int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		assert_vq_eq(&x->vq[q], &y->vq[q]);
}

START_TEST(fresh_round_trip)
{
	struct snap_writer w;
	pc_save(&from_a, &w);
	ck_assert_uint_eq(w.len, PC_MMIO_BYTES(1)); /* the layout persist_check.h describes */
	pc_restore_ok(&into_b, w.buf, w.len);
	assert_same(&a.t, &b.t);
	snap_writer_free(&w);
}
END_TEST

START_TEST(live_round_trip)
{
	struct snap_writer w;
	make_live();
	pc_save(&from_a, &w);
	pc_restore_ok(&into_b, w.buf, w.len);
	assert_same(&a.t, &b.t);
	pc_resave_same(&into_b, w.buf, w.len);
	snap_writer_free(&w);
}
END_TEST

START_TEST(restored_device_carries_on)
{
	struct snap_writer w;
	uint32_t id, len;
	make_live();
	pc_save(&from_a, &w);
	pc_restore_ok(&into_b, w.buf, w.len);
	for (int i = 0; i < 3; i++)
		ck_assert(fr_get_used(&g, &r, &id, &len));
	ck_assert(!fr_get_used(&g, &r, &id, &len));
	/* The two chains posted before the save are served by b. */
	virtio_mmio_kick(&b.t, 0);
	for (int i = 0; i < 2; i++) {
		ck_assert(fr_get_used(&g, &r, &id, &len));
		ck_assert_uint_eq(len, 32);
	}
	ck_assert_uint_eq(b.t.vq[0].used_idx, 5);
	ck_assert_uint_eq(b.t.vq[0].last_avail, 5);
	snap_writer_free(&w);
}
END_TEST

/* Kicks and interrupts in flight when the old process stopped are lost:
 * the restored transport kicks its live queues and re-raises a pending
 * interrupt through its fds. */
START_TEST(resume_kicks_and_interrupts)
{
	struct snap_writer w;
	eventfd_t n = 0;
	make_live();
	pc_save(&from_a, &w);
	b.t.irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	b.t.kickfd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert_int_eq(eventfd_read(b.t.irqfd, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(eventfd_read(b.t.kickfd[0], &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_ne(b.t.irq_pending_since_ns, 0);
	snap_writer_free(&w);
}
END_TEST

/* A device that was never started gets no kick and no interrupt. */
START_TEST(resume_idle_device_quiet)
{
	struct snap_writer w;
	eventfd_t n = 0;
	pc_save(&from_a, &w);
	b.t.irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	b.t.kickfd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert_int_lt(eventfd_read(b.t.irqfd, &n), 0);
	ck_assert_int_lt(eventfd_read(b.t.kickfd[0], &n), 0);
	snap_writer_free(&w);
}
END_TEST

/* States a guest can put the transport in are restored as they are: any
 * selector, an unready queue of any size, features refused at
 * FEATURES_OK, unknown status bits, a device that needs reset. */
START_TEST(guest_reachable_states_restore)
{
	struct snap_writer w;
	drv_negotiate(&a.t, FEATURES | (1ULL << 3)); /* refused: bit 3 not offered */
	ck_assert_uint_eq(a.t.status & VIRTIO_STATUS_FEATURES_OK, 0);
	drv_write(&a.t, VIRTIO_MMIO_QUEUE_NUM, 3);
	drv_write(&a.t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0xfffffff0);
	drv_write(&a.t, VIRTIO_MMIO_QUEUE_SEL, 9);
	drv_write(&a.t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	drv_write(&a.t, VIRTIO_MMIO_STATUS, 0x33);
	drv_write(&a.t, VIRTIO_MMIO_STATUS, 0x33 | VIRTIO_STATUS_DRIVER_OK); /* no FEATURES_OK */
	ck_assert(a.t.needs_reset);
	pc_save(&from_a, &w);
	/* fail_reason is not empty here: offsets do not apply, bytes do. */
	pc_restore_ok(&into_b, w.buf, w.len);
	assert_same(&a.t, &b.t);
	ck_assert_uint_eq(rd(&b.t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET,
			  VIRTIO_STATUS_NEEDS_RESET);
	snap_writer_free(&w);
}
END_TEST

START_TEST(rejects_truncation_and_framing)
{
	struct snap_writer w;
	make_live();
	pc_save(&from_a, &w);
	pc_reject_cuts_and_framing(&into_b, w.buf, w.len);
	snap_writer_free(&w);
}
END_TEST

START_TEST(rejects_other_device)
{
	struct snap_writer w;
	make_live();
	pc_save(&from_a, &w);
	pc_reject_patch(&into_b, w.buf, w.len, PC_ID, VIRTIO_ID_BLOCK, 4, "device id 2");
	pc_reject_patch(&into_b, w.buf, w.len, PC_NQ, 2, 2, "2 queues");
	pc_reject_patch(&into_b, w.buf, w.len, PC_FEAT, FEATURES | (1ULL << VIRTIO_BLK_F_RO), 8,
			"offering features");
	snap_writer_free(&w);
}
END_TEST

START_TEST(rejects_bad_registers)
{
	struct snap_writer w;
	const uint8_t *p;
	make_live();
	pc_save(&from_a, &w);
	p = w.buf;
	pc_reject_patch(&into_b, p, w.len, PC_NEEDS_RST, 2, 1, "neither 0 nor 1");
	pc_reject_patch(&into_b, p, w.len, PC_STATUS, ALL_OK | VIRTIO_STATUS_NEEDS_RESET, 4,
			"NEEDS_RESET");
	pc_reject_patch(&into_b, p, w.len, PC_STATUS, ALL_OK & ~VIRTIO_STATUS_FEATURES_OK, 4,
			"DRIVER_OK without FEATURES_OK");
	pc_reject_patch(&into_b, p, w.len, PC_DRVFEAT, FEATURES | (1ULL << 3), 8,
			"not offered");
	pc_reject_patch(&into_b, p, w.len, PC_DRVFEAT, 1ULL << 63, 8, "not offered");
	pc_reject_patch(&into_b, p, w.len, PC_DRVFEAT, 1ULL << VIRTIO_F_EVENT_IDX, 8,
			"without VERSION_1");
	pc_reject_patch(&into_b, p, w.len, PC_ISR, 4, 4, "InterruptStatus");
	pc_reject_patch(&into_b, p, w.len, PC_REASON, 1000, 4, "string");
	snap_writer_free(&w);
}
END_TEST

START_TEST(rejects_bad_queue)
{
	struct snap_writer w;
	const uint8_t *p;
	const size_t q = PC_VQ(0);
	const uint64_t end = FG_RAM_BASE + FG_RAM_SIZE;
	make_live();
	pc_save(&from_a, &w);
	p = w.buf;
	ck_assert_uint_eq(pc_get(p, q + PC_VQ_DESC, 8), r.desc); /* offsets are right */
	pc_reject_patch(&into_b, p, w.len, q + PC_VQ_READY, 2, 1, "neither 0 nor 1");
	pc_reject_patch(&into_b, p, w.len, q + PC_VQ_SIGV, 7, 1, "neither 0 nor 1");
	pc_reject_patch(&into_b, p, w.len, q + PC_VQ_SIZE, 12, 2, "not a power of two");
	pc_reject_patch(&into_b, p, w.len, q + PC_VQ_SIZE, 0, 2, "not a power of two");
	pc_reject_patch(&into_b, p, w.len, q + PC_VQ_SIZE, 128, 2, "up to 64");
	pc_reject_patch(&into_b, p, w.len, q + PC_VQ_DESC, end - 16, 8, "ring size or address");
	pc_reject_patch(&into_b, p, w.len, q + PC_VQ_DESC, 0, 8, "ring size or address");
	pc_reject_patch(&into_b, p, w.len, q + PC_VQ_AVAIL, end, 8, "ring size or address");
	pc_reject_patch(&into_b, p, w.len, q + PC_VQ_USED, UINT64_MAX - 3, 8,
			"ring size or address");
	pc_reject_patch(&into_b, p, w.len, q + PC_VQ_DESC, r.desc + 8, 8,
			"ring size or address"); /* misaligned */
	snap_writer_free(&w);
}
END_TEST

/* Ring indexes are not checked (any value is safe): a restored last_avail
 * far behind the guest's avail idx puts the device in NEEDS_RESET at the
 * next pop instead of touching anything outside the ring. */
START_TEST(wild_index_fails_device_not_vmm)
{
	struct snap_writer w;
	make_live();
	pc_save(&from_a, &w);
	pc_put(w.buf, PC_VQ(0) + PC_VQ_LAST, 0x8000, 2);
	pc_restore_ok(&into_b, w.buf, w.len);
	virtio_mmio_kick(&b.t, 0);
	ck_assert(b.t.needs_reset);
	ck_assert_ptr_nonnull(strstr(b.t.fail_reason, "avail index ahead"));
	snap_writer_free(&w);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_mmio_persist");
	TCase *t = tcase_create("persist");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, fresh_round_trip);
	tcase_add_test(t, live_round_trip);
	tcase_add_test(t, restored_device_carries_on);
	tcase_add_test(t, resume_kicks_and_interrupts);
	tcase_add_test(t, resume_idle_device_quiet);
	tcase_add_test(t, guest_reachable_states_restore);
	tcase_add_test(t, rejects_truncation_and_framing);
	tcase_add_test(t, rejects_other_device);
	tcase_add_test(t, rejects_bad_registers);
	tcase_add_test(t, rejects_bad_queue);
	tcase_add_test(t, wild_index_fails_device_not_vmm);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)

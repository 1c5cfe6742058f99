/* test_mmio.c - the virtio-mmio register file and status machine.
 *
 * The test plays the guest driver through virtio_mmio_access() (what a
 * vCPU's MMIO exit calls), with a real eventfd as the interrupt line and the
 * rng and blk device models behind the transport.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/vm/virtio/blk.h"
#include "daemon/vm/virtio/rng.h"
#include "fake_guest.h"
#include "../check_main.h"

static struct fake_guest g;
static struct fake_ring r;
static struct virtio_rng rng;
static struct virtio_mmio *t;

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0xdeadbeef;
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, false);
	return v;
}

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, true);
}

/* Interrupts raised since the last call (reads the eventfd). */
static uint64_t irqs(void)
{
	eventfd_t n = 0;
	if (eventfd_read(t->irqfd, &n) < 0)
		return 0;
	return n;
}

static void setup(void)
{
	fg_init(&g);
	virtio_rng_init(&rng, &g.mem);
	t = &rng.t;
	t->irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static void teardown(void)
{
	close(t->irqfd);
	virtio_mmio_destroy(t);
	fg_free(&g);
}

static void negotiate(uint64_t features)
{
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
}

static void setup_queue(uint16_t size)
{
	fr_init(&g, &r, size, NULL);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, size);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r.desc);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(r.desc >> 32));
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)r.avail);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)r.used);
	wr(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

#define ALL_OK (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
		VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

static void bring_up(void)
{
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK,
			  VIRTIO_STATUS_FEATURES_OK);
	setup_queue(16);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	wr(VIRTIO_MMIO_STATUS, ALL_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), ALL_OK);
}

START_TEST(identity_registers)
{
	ck_assert_uint_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), RNG_QUEUE_SIZE);
	wr(VIRTIO_MMIO_QUEUE_SEL, 1); /* rng has one queue */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	/* Registers are 32-bit only: a 2-byte read returns zeros. */
	uint16_t v = 0xffff;
	virtio_mmio_access(t, VIRTIO_MMIO_MAGIC_VALUE, (uint8_t *)&v, 2, false);
	ck_assert_uint_eq(v, 0);
}
END_TEST

START_TEST(features_offered)
{
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert(rd(VIRTIO_MMIO_DEVICE_FEATURES) & 1); /* VERSION_1 is bit 32 */
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert(rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_F_EVENT_IDX));
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
}
END_TEST

START_TEST(features_without_version_1_refused)
{
	negotiate(1ULL << VIRTIO_F_EVENT_IDX);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);
}
END_TEST

START_TEST(features_not_offered_refused)
{
	negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << 3));
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);
}
END_TEST

START_TEST(features_locked_after_features_ok)
{
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_F_EVENT_IDX);
	ck_assert(!virtio_mmio_has_feature(t, VIRTIO_F_EVENT_IDX));
	ck_assert(virtio_mmio_has_feature(t, VIRTIO_F_VERSION_1));
}
END_TEST

START_TEST(driver_ok_without_features_ok)
{
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_DRIVER_OK);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(irqs(), 1);
}
END_TEST

START_TEST(queue_fill_and_interrupt)
{
	bring_up();
	uint64_t buf = fg_alloc(&g, 64);
	fr_add_chain(&g, &r, &buf, (uint32_t[]){ 64 }, (uint16_t[]){ VIRTQ_DESC_F_WRITE }, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	uint32_t id, len;
	ck_assert(fr_get_used(&g, &r, &id, &len));
	ck_assert_uint_eq(len, 64);
	static const uint8_t zero[64];
	ck_assert(memcmp(fg_host(&g, buf), zero, 64) != 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(irqs(), 1);
	/* the dump's "interrupt not taken" clock runs until the ACK */
	ck_assert(t->irq_pending_since_ns > 0 &&
		  t->irq_pending_since_ns <= virtio_mmio_now_ns());
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_int_eq(t->irq_pending_since_ns, 0);
	uint64_t n, i;
	virtio_mmio_counts(t, &n, &i);   /* what run mode's --stats reads */
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(i, 1);
}
END_TEST

/* A device's config change: ConfigGeneration moves every time; the
 * interrupt comes only once the driver is up and the device working. */
START_TEST(config_change_interrupt)
{
	virtio_mmio_config_changed(t);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(irqs(), 0);
	bring_up();
	virtio_mmio_config_changed(t);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(irqs(), 1);
}
END_TEST

START_TEST(queue_outside_ram_needs_reset)
{
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x10); /* 64 GiB: not RAM */
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert(strstr(t->fail_reason, "ring") != NULL);
}
END_TEST

START_TEST(queue_too_big_needs_reset)
{
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	setup_queue(128); /* max is 64 */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}
END_TEST

START_TEST(bad_chain_stops_device)
{
	bring_up();
	uint64_t b = fg_alloc(&g, 8);
	fr_set_desc(&g, r.desc, 0, b, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	fr_publish(&g, &r, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert(strstr(t->fail_reason, "loop") != NULL);
	ck_assert_uint_eq(irqs(), 1);
	/* A good chain after that is not served until reset. */
	fr_set_desc(&g, r.desc, 1, b, 8, VIRTQ_DESC_F_WRITE, 0);
	fr_publish(&g, &r, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	uint32_t id, len;
	ck_assert(!fr_get_used(&g, &r, &id, &len));
}
END_TEST

START_TEST(readable_buffer_to_rng_needs_reset)
{
	bring_up();
	uint64_t b = fg_alloc(&g, 8);
	fr_add_chain(&g, &r, &b, (uint32_t[]){ 8 }, (uint16_t[]){ 0 }, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}
END_TEST

START_TEST(reset_clears_everything)
{
	bring_up();
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_fail(t, "test");
	wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(t->driver_features, 0);
	ck_assert_uint_eq(t->vq[0].last_avail, 0);
	/* And the device comes back after a fresh bring-up. */
	bring_up();
	uint64_t buf = fg_alloc(&g, 16);
	fr_add_chain(&g, &r, &buf, (uint32_t[]){ 16 }, (uint16_t[]){ VIRTQ_DESC_F_WRITE }, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	uint32_t id, len;
	ck_assert(fr_get_used(&g, &r, &id, &len));
}
END_TEST

START_TEST(queue_registers_locked_while_ready)
{
	bring_up();
	uint64_t desc = t->vq[0].desc_gpa;
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1234000);
	wr(VIRTIO_MMIO_QUEUE_NUM, 2);
	ck_assert_uint_eq(t->vq[0].desc_gpa, desc);
	ck_assert_uint_eq(t->vq[0].size, 16);
}
END_TEST

START_TEST(blk_config_reads)
{
	char path[] = "/tmp/sm-mmio-blk-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_eq(ftruncate(fd, 3 * 512 + 100), 0);
	close(fd);
	struct virtio_blk *b = calloc(1, sizeof(*b));
	struct vm_err err;
	ck_assert_int_eq(blk_disk_open(&b->disk, path, true, &err), 0);
	virtio_blk_init(b, &g.mem);
	struct virtio_mmio *saved = t;
	t = &b->t;
	uint64_t cap = 0;
	virtio_mmio_access(t, VIRTIO_MMIO_CONFIG, (uint8_t *)&cap, 8, false);
	ck_assert_uint_eq(cap, 3);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + 4), 0); /* capacity high half */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + 20), 512); /* blk_size */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + 0x800), 0); /* beyond config */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	ck_assert(rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO));
	t = saved;
	blk_disk_close(&b->disk);
	virtio_mmio_destroy(&b->t);
	free(b);
	unlink(path);
}
END_TEST

/* blk behind the transport: a request served on notify, then a chain with
 * no status byte stops the device. */
START_TEST(blk_requests_through_transport)
{
	char path[] = "/tmp/sm-mmio-blk-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_eq(write(fd, "0123456789abcdef", 16), 16);
	ck_assert_int_eq(ftruncate(fd, 4096), 0);
	close(fd);
	struct virtio_blk *b = calloc(1, sizeof(*b));
	struct vm_err err;
	ck_assert_int_eq(blk_disk_open(&b->disk, path, false, &err), 0);
	virtio_blk_init(b, &g.mem);
	struct virtio_mmio *saved = t;
	b->t.irqfd = t->irqfd;
	t = &b->t;
	bring_up();

	uint64_t hdr = fg_alloc(&g, 16), data = fg_alloc(&g, 512), st = fg_alloc(&g, 1);
	uint32_t h[4] = { VIRTIO_BLK_T_IN, 0, 0, 0 };
	memcpy(fg_host(&g, hdr), h, 16);
	fr_add_chain(&g, &r, (uint64_t[]){ hdr, data, st }, (uint32_t[]){ 16, 512, 1 },
		     (uint16_t[]){ 0, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE }, 3);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	uint32_t id, len;
	ck_assert(fr_get_used(&g, &r, &id, &len));
	ck_assert_uint_eq(len, 513);
	ck_assert_uint_eq(*(uint8_t *)fg_host(&g, st), VIRTIO_BLK_S_OK);
	ck_assert(memcmp(fg_host(&g, data), "0123456789abcdef", 16) == 0);
	ck_assert_uint_eq(irqs(), 1);
	ck_assert_uint_eq(b->n_req, 1);

	fr_add_chain(&g, &r, &hdr, (uint32_t[]){ 16 }, (uint16_t[]){ 0 }, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert(!fr_get_used(&g, &r, &id, &len));

	t = saved;
	blk_disk_close(&b->disk);
	virtio_mmio_destroy(&b->t);
	free(b);
	unlink(path);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio-mmio");
	TCase *c = tcase_create("registers");
	tcase_add_checked_fixture(c, setup, teardown);
	tcase_add_test(c, identity_registers);
	tcase_add_test(c, features_offered);
	tcase_add_test(c, features_without_version_1_refused);
	tcase_add_test(c, features_not_offered_refused);
	tcase_add_test(c, features_locked_after_features_ok);
	tcase_add_test(c, driver_ok_without_features_ok);
	tcase_add_test(c, queue_fill_and_interrupt);
	tcase_add_test(c, config_change_interrupt);
	tcase_add_test(c, queue_outside_ram_needs_reset);
	tcase_add_test(c, queue_too_big_needs_reset);
	tcase_add_test(c, bad_chain_stops_device);
	tcase_add_test(c, readable_buffer_to_rng_needs_reset);
	tcase_add_test(c, reset_clears_everything);
	tcase_add_test(c, queue_registers_locked_while_ready);
	tcase_add_test(c, blk_config_reads);
	tcase_add_test(c, blk_requests_through_transport);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	return check_run(suite(), CK_FORK_GETENV);
}

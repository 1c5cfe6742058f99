/* test_virtqueue.c - split virtqueue parsing against hand-built rings.
 *
 * Good chains (direct, indirect) must come out exactly as built; each
 * malicious ring must end in its own vq_err and consume nothing.
 */
#include <check.h>
#include <string.h>

#include "fake_guest.h"
#include "../check_main.h"

static struct fake_guest g;
static struct fake_ring r;
static struct virtqueue vq;
static struct vq_chain c;

static void setup(void)
{
	fg_init(&g);
	fr_init(&g, &r, 16, &vq);
}

static void teardown(void)
{
	fg_free(&g);
}

/* Pop must fail with err and leave the ring untouched. */
static void expect_err(enum vq_err err)
{
	uint16_t before = vq.last_avail;
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), -(int)err);
	ck_assert_uint_eq(vq.last_avail, before);
}

START_TEST(empty_ring)
{
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 0);
	ck_assert(!vq_has_avail(&vq, &g.mem));
}
END_TEST

START_TEST(direct_chain)
{
	uint64_t a[3] = { fg_alloc(&g, 16), fg_alloc(&g, 100), fg_alloc(&g, 1) };
	uint32_t l[3] = { 16, 100, 1 };
	uint16_t f[3] = { 0, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE };
	uint16_t head = fr_add_chain(&g, &r, a, l, f, 3);

	ck_assert(vq_has_avail(&vq, &g.mem));
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 1);
	ck_assert_uint_eq(c.head, head);
	ck_assert_uint_eq(c.nseg, 3);
	ck_assert_uint_eq(c.nread, 1);
	ck_assert_uint_eq(c.read_len, 16);
	ck_assert_uint_eq(c.write_len, 101);
	ck_assert_ptr_eq(c.seg[1].host, fg_host(&g, a[1]));
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 0);

	vq_push(&vq, &g.mem, c.head, 101);
	uint32_t id, len;
	ck_assert(fr_get_used(&g, &r, &id, &len));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(len, 101);
	ck_assert(!fr_get_used(&g, &r, &id, &len));
}
END_TEST

START_TEST(chain_copy_across_segments)
{
	uint64_t a[4] = { fg_alloc(&g, 3), fg_alloc(&g, 5), fg_alloc(&g, 4), fg_alloc(&g, 4) };
	uint32_t l[4] = { 3, 5, 4, 4 };
	uint16_t f[4] = { 0, 0, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE };
	memcpy(fg_host(&g, a[0]), "abc", 3);
	memcpy(fg_host(&g, a[1]), "defgh", 5);
	fr_add_chain(&g, &r, a, l, f, 4);
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 1);

	char buf[16] = { 0 };
	ck_assert_uint_eq(vq_chain_read(&c, 2, buf, 100), 6);
	ck_assert_str_eq(buf, "cdefgh");
	ck_assert_uint_eq(vq_chain_write(&c, 3, "WXYZ!", 5), 5);
	ck_assert(memcmp(fg_host(&g, a[2]) + 3, "W", 1) == 0);
	ck_assert(memcmp(fg_host(&g, a[3]), "XYZ!", 4) == 0);

	struct iovec iov[4];
	ck_assert_int_eq(vq_chain_iov(&c, true, 2, 4, iov, 4), 2);
	ck_assert_uint_eq(iov[0].iov_len, 2);
	ck_assert_uint_eq(iov[1].iov_len, 2);
}
END_TEST

/* One indirect head pointing at a table of n descriptors. */
static uint64_t add_indirect(uint16_t n, uint16_t head_flags)
{
	uint64_t table = fg_alloc(&g, 16ULL * n);
	for (uint16_t i = 0; i < n; i++) {
		uint16_t fl = (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
			      (i == n - 1 ? VIRTQ_DESC_F_WRITE : 0);
		fr_set_desc(&g, table, i, fg_alloc(&g, 8), 8, fl, i + 1);
	}
	fr_set_desc(&g, r.desc, 0, table, 16u * n, VIRTQ_DESC_F_INDIRECT | head_flags, 0);
	fr_publish(&g, &r, 0);
	return table;
}

START_TEST(indirect_chain)
{
	vq.indirect = true;
	add_indirect(5, 0);
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 1);
	ck_assert_uint_eq(c.head, 0);
	ck_assert_uint_eq(c.nseg, 5);
	ck_assert_uint_eq(c.nread, 4);
	ck_assert_uint_eq(c.write_len, 8);
}
END_TEST

START_TEST(indirect_not_negotiated)
{
	add_indirect(2, 0);
	expect_err(VQ_ERR_INDIRECT);
}
END_TEST

START_TEST(indirect_in_indirect)
{
	vq.indirect = true;
	uint64_t table = add_indirect(2, 0);
	uint64_t inner = fg_alloc(&g, 32);
	fr_set_desc(&g, table, 1, inner, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_err(VQ_ERR_INDIRECT);
}
END_TEST

START_TEST(indirect_with_next)
{
	vq.indirect = true;
	add_indirect(2, VIRTQ_DESC_F_NEXT);
	expect_err(VQ_ERR_INDIRECT);
}
END_TEST

START_TEST(indirect_bad_table_len)
{
	vq.indirect = true;
	uint64_t table = add_indirect(2, 0);
	fr_set_desc(&g, r.desc, 0, table, 20, VIRTQ_DESC_F_INDIRECT, 0);
	expect_err(VQ_ERR_INDIRECT);
	fr_set_desc(&g, r.desc, 0, table, 0, VIRTQ_DESC_F_INDIRECT, 0);
	expect_err(VQ_ERR_INDIRECT);
}
END_TEST

START_TEST(indirect_table_outside_ram)
{
	vq.indirect = true;
	add_indirect(2, 0);
	fr_set_desc(&g, r.desc, 0, FG_RAM_BASE + FG_RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_err(VQ_ERR_ADDR);
}
END_TEST

START_TEST(indirect_loop)
{
	vq.indirect = true;
	uint64_t table = add_indirect(3, 0);
	fr_set_desc(&g, table, 2, fg_alloc(&g, 8), 8, VIRTQ_DESC_F_NEXT, 0);
	expect_err(VQ_ERR_LOOP);
}
END_TEST

START_TEST(chain_too_long)
{
	vq.indirect = true;
	add_indirect(20, 0); /* queue size is 16 */
	expect_err(VQ_ERR_TOO_LONG);
}
END_TEST

START_TEST(head_out_of_range)
{
	fr_publish(&g, &r, 16);
	expect_err(VQ_ERR_INDEX);
}
END_TEST

START_TEST(next_out_of_range)
{
	fr_set_desc(&g, r.desc, 0, fg_alloc(&g, 8), 8, VIRTQ_DESC_F_NEXT, 999);
	fr_publish(&g, &r, 0);
	expect_err(VQ_ERR_INDEX);
}
END_TEST

START_TEST(descriptor_loop)
{
	uint64_t b = fg_alloc(&g, 8);
	fr_set_desc(&g, r.desc, 0, b, 8, VIRTQ_DESC_F_NEXT, 1);
	fr_set_desc(&g, r.desc, 1, b, 8, VIRTQ_DESC_F_NEXT, 2);
	fr_set_desc(&g, r.desc, 2, b, 8, VIRTQ_DESC_F_NEXT, 0);
	fr_publish(&g, &r, 0);
	expect_err(VQ_ERR_LOOP);
	fr_set_desc(&g, r.desc, 0, b, 8, VIRTQ_DESC_F_NEXT, 0); /* self loop */
	expect_err(VQ_ERR_LOOP);
}
END_TEST

START_TEST(address_outside_ram)
{
	fr_set_desc(&g, r.desc, 0, 0x1000, 8, 0, 0); /* below RAM */
	fr_publish(&g, &r, 0);
	expect_err(VQ_ERR_ADDR);
	fr_set_desc(&g, r.desc, 0, FG_RAM_BASE + FG_RAM_SIZE - 4, 8, 0, 0); /* straddles end */
	expect_err(VQ_ERR_ADDR);
}
END_TEST

START_TEST(length_overflow)
{
	fr_set_desc(&g, r.desc, 0, FG_RAM_BASE + 64, 0xffffffff, 0, 0);
	fr_publish(&g, &r, 0);
	expect_err(VQ_ERR_ADDR);
	fr_set_desc(&g, r.desc, 0, UINT64_MAX - 8, 64, 0, 0); /* addr + len wraps */
	expect_err(VQ_ERR_ADDR);
}
END_TEST

START_TEST(readable_after_writable)
{
	uint64_t a[2] = { fg_alloc(&g, 8), fg_alloc(&g, 8) };
	uint32_t l[2] = { 8, 8 };
	uint16_t f[2] = { VIRTQ_DESC_F_WRITE, 0 };
	fr_add_chain(&g, &r, a, l, f, 2);
	expect_err(VQ_ERR_ORDER);
}
END_TEST

START_TEST(avail_index_runaway)
{
	uint8_t *avail = fg_host(&g, r.avail);
	uint16_t idx = 17; /* 17 new entries in a ring of 16 */
	memcpy(avail + 2, &idx, 2);
	expect_err(VQ_ERR_AVAIL_IDX);
}
END_TEST

START_TEST(validate_rings)
{
	ck_assert_int_eq(vq_validate(&vq, &g.mem), VQ_OK);
	vq.size = 12; /* not a power of two */
	ck_assert_int_eq(vq_validate(&vq, &g.mem), VQ_ERR_RING);
	vq.size = 16;
	vq.used_gpa = FG_RAM_BASE + FG_RAM_SIZE - 16;
	ck_assert_int_eq(vq_validate(&vq, &g.mem), VQ_ERR_RING);
	vq.used_gpa = r.used + 2; /* misaligned */
	ck_assert_int_eq(vq_validate(&vq, &g.mem), VQ_ERR_RING);
}
END_TEST

static void push_one(void)
{
	uint64_t a = fg_alloc(&g, 8);
	uint32_t l = 8;
	uint16_t f = VIRTQ_DESC_F_WRITE;
	fr_add_chain(&g, &r, &a, &l, &f, 1);
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 1);
	vq_push(&vq, &g.mem, c.head, 0);
}

START_TEST(interrupt_suppression_flag)
{
	push_one();
	ck_assert(vq_should_interrupt(&vq, &g.mem));
	fr_set_avail_flags(&g, &r, VIRTQ_AVAIL_F_NO_INTERRUPT);
	push_one();
	ck_assert(!vq_should_interrupt(&vq, &g.mem));
}
END_TEST

START_TEST(interrupt_event_idx)
{
	vq.event_idx = true;
	push_one(); /* used idx 1: the first decision always interrupts */
	ck_assert(vq_should_interrupt(&vq, &g.mem));
	ck_assert_uint_eq(fr_avail_event(&g, &r), 0); /* written before the pop */
	fr_set_used_event(&g, &r, 2); /* driver: interrupt when used passes 2 */
	push_one();                   /* used idx 2 */
	ck_assert(!vq_should_interrupt(&vq, &g.mem));
	push_one();                   /* used idx 3 */
	ck_assert(vq_should_interrupt(&vq, &g.mem));
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 0);
	ck_assert_uint_eq(fr_avail_event(&g, &r), 3);
}
END_TEST

/* Three chains returned at once: elements in order, the used idx moved
 * once by three (never showing the first alone), one interrupt decision
 * for the batch under event idx. */
START_TEST(push_many_publishes_together)
{
	uint64_t a = fg_alloc(&g, 64);
	uint16_t heads[3];
	uint32_t lens[3] = { 64, 64, 10 };
	vq.event_idx = true;
	for (int i = 0; i < 3; i++) {
		fr_add_chain(&g, &r, &a, (uint32_t[]){ 64 }, (uint16_t[]){ VIRTQ_DESC_F_WRITE }, 1);
		ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 1);
		heads[i] = c.head;
	}
	vq_push(&vq, &g.mem, heads[0], 1); /* one before, to wrap nothing special */
	fr_set_used_event(&g, &r, 1);       /* interrupt once used passes 1 */
	ck_assert(vq_should_interrupt(&vq, &g.mem));
	vq_push_many(&vq, &g.mem, heads, lens, 3);
	uint16_t used_idx;
	memcpy(&used_idx, (uint8_t *)fg_host(&g, r.used) + 2, 2);
	ck_assert_uint_eq(used_idx, 4);
	ck_assert_uint_eq(vq.used_idx, 4);
	uint32_t id, len;
	ck_assert(fr_get_used(&g, &r, &id, &len)); /* the single push */
	for (int i = 0; i < 3; i++) {
		ck_assert(fr_get_used(&g, &r, &id, &len));
		ck_assert_uint_eq(id, heads[i]);
		ck_assert_uint_eq(len, lens[i]);
	}
	ck_assert(vq_should_interrupt(&vq, &g.mem)); /* 1 < 4: crossed */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtqueue");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, empty_ring);
	tcase_add_test(t, direct_chain);
	tcase_add_test(t, chain_copy_across_segments);
	tcase_add_test(t, indirect_chain);
	tcase_add_test(t, indirect_not_negotiated);
	tcase_add_test(t, indirect_in_indirect);
	tcase_add_test(t, indirect_with_next);
	tcase_add_test(t, indirect_bad_table_len);
	tcase_add_test(t, indirect_table_outside_ram);
	tcase_add_test(t, indirect_loop);
	tcase_add_test(t, chain_too_long);
	tcase_add_test(t, head_out_of_range);
	tcase_add_test(t, next_out_of_range);
	tcase_add_test(t, descriptor_loop);
	tcase_add_test(t, address_outside_ram);
	tcase_add_test(t, length_overflow);
	tcase_add_test(t, readable_after_writable);
	tcase_add_test(t, avail_index_runaway);
	tcase_add_test(t, validate_rings);
	tcase_add_test(t, interrupt_suppression_flag);
	tcase_add_test(t, interrupt_event_idx);
	tcase_add_test(t, push_many_publishes_together);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return check_run(suite(), CK_FORK_GETENV);
}

/* test_gpt.c - the composite disk's partition table (daemon/vm/virtio/gpt.c).
 *
 * Each table is checked the way the kernel's block/partitions/efi.c
 * checks one: protective MBR, both headers (signature, size, CRC, own and
 * other LBA, usable range, entry array and its CRC) and every entry
 * inside the usable range; plus what we promise on top: 4 KiB aligned,
 * in order, no overlap, the backup at the very end, named layerN.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "daemon/vm/virtio/gpt.h"
#include "../check_main.h"

static struct gpt_layout g;

static uint64_t get(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void check_header(const uint8_t *h, const uint8_t *entries, uint64_t my, uint64_t alt,
			 uint64_t entries_lba)
{
	uint8_t copy[GPT_HEADER_BYTES];
	ck_assert(memcmp(h, "EFI PART", 8) == 0);
	ck_assert_uint_eq(get(h + 8, 4), 0x00010000);
	ck_assert_uint_eq(get(h + 12, 4), GPT_HEADER_BYTES);
	memcpy(copy, h, sizeof(copy));
	memset(copy + 16, 0, 4);
	ck_assert_uint_eq(get(h + 16, 4), gpt_crc32(copy, sizeof(copy)));
	ck_assert_uint_eq(get(h + 24, 8), my);
	ck_assert_uint_eq(get(h + 32, 8), alt);
	ck_assert_uint_eq(get(h + 40, 8), 34);                      /* first usable */
	ck_assert_uint_eq(get(h + 48, 8), g.total_sectors - 34);    /* last usable */
	ck_assert_uint_eq(get(h + 72, 8), entries_lba);
	ck_assert_uint_eq(get(h + 80, 4), 128);
	ck_assert_uint_eq(get(h + 84, 4), 128);
	ck_assert_uint_eq(get(h + 88, 4), gpt_crc32(entries, 128 * 128));
	for (int i = GPT_HEADER_BYTES; i < 512; i++)
		ck_assert_uint_eq(h[i], 0);
}

/* Entry i: Linux filesystem type, its range, its name. */
static void check_entry(const uint8_t *e, uint32_t i, uint64_t bytes, uint64_t *prev_end)
{
	static const uint8_t linux_fs[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
					      0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };
	char name[16];
	ck_assert(memcmp(e, linux_fs, 16) == 0);
	uint64_t start = get(e + 32, 8), end = get(e + 40, 8);
	ck_assert_uint_eq(start % 8, 0);
	ck_assert_uint_gt(start, *prev_end);
	ck_assert_uint_ge(start, 34);
	ck_assert_uint_le(end, g.total_sectors - 34);
	ck_assert_uint_eq(end - start + 1, (bytes + 511) / 512);
	ck_assert_uint_eq(start, g.start[i]);
	*prev_end = end;
	int len = snprintf(name, sizeof(name), "layer%u", i);
	for (int k = 0; k < 36; k++)
		ck_assert_uint_eq(get(e + 56 + 2 * k, 2), k < len ? (uint8_t)name[k] : 0);
}

/* The whole table of g, built from bytes[0..n). */
static void check_table(const uint64_t *bytes, uint32_t n)
{
	const uint8_t *mbr = g.head, *entries = g.head + 1024;
	ck_assert_uint_eq(g.nparts, n);
	ck_assert_uint_eq(mbr[510], 0x55);
	ck_assert_uint_eq(mbr[511], 0xaa);
	ck_assert_uint_eq(mbr[446 + 4], 0xee);
	ck_assert_uint_eq(get(mbr + 446 + 8, 4), 1);
	uint64_t mbr_size = g.total_sectors - 1;
	ck_assert_uint_eq(get(mbr + 446 + 12, 4), mbr_size > 0xffffffffu ? 0xffffffffu : mbr_size);
	for (int k = 1; k < 4; k++)
		ck_assert_uint_eq(mbr[446 + 16 * k + 4], 0);
	uint64_t last = g.total_sectors - 1;
	check_header(g.head + 512, entries, 1, last, 2);
	check_header(g.tail + 32 * 512, g.tail, last, 1, last - 32);
	ck_assert(memcmp(g.tail, entries, 128 * 128) == 0);
	uint64_t prev_end = 33;
	for (uint32_t i = 0; i < n; i++)
		check_entry(entries + i * 128, i, bytes[i], &prev_end);
	for (uint32_t i = n; i < 128; i++)
		for (int k = 0; k < 128; k++)
			ck_assert_uint_eq(entries[i * 128 + k], 0);
	/* The backup starts right after the last partition's aligned end. */
	ck_assert_uint_eq(g.total_sectors, ((prev_end + 1 + 7) & ~7ULL) + 33);
}

START_TEST(crc32_known_value)
{
	ck_assert_uint_eq(gpt_crc32("123456789", 9), 0xcbf43926);
	ck_assert_uint_eq(gpt_crc32("", 0), 0);
}
END_TEST

START_TEST(three_partitions)
{
	uint64_t bytes[3] = { 5000, 8192, 12388 };
	struct vm_err err = { { 0 } };
	ck_assert_msg(gpt_build(&g, bytes, 3, &err) == 0, "%s", err.msg);
	/* 5000 B = 10 sectors at 40; 16 at 56; 25 at 72, ending at 96; the
	 * backup from 104 (33 sectors). */
	ck_assert_uint_eq(g.start[0], 40);
	ck_assert_uint_eq(g.start[1], 56);
	ck_assert_uint_eq(g.start[2], 72);
	ck_assert_uint_eq(g.total_sectors, 137);
	ck_assert_uint_eq(gpt_part_sectors(&g, 0), 10);
	check_table(bytes, 3);
}
END_TEST

START_TEST(max_partitions)
{
	uint64_t bytes[GPT_MAX_PARTS];
	struct vm_err err = { { 0 } };
	for (int i = 0; i < GPT_MAX_PARTS; i++)
		bytes[i] = 1 + (uint64_t)i * 3001;
	ck_assert_msg(gpt_build(&g, bytes, GPT_MAX_PARTS, &err) == 0, "%s", err.msg);
	check_table(bytes, GPT_MAX_PARTS);
}
END_TEST

START_TEST(same_sizes_same_table)
{
	static struct gpt_layout again;
	uint64_t bytes[2] = { 4096, 1 << 20 }, other[2] = { 4096, (1 << 20) + 4096 };
	ck_assert_int_eq(gpt_build(&g, bytes, 2, NULL), 0);
	ck_assert_int_eq(gpt_build(&again, bytes, 2, NULL), 0);
	ck_assert(memcmp(&g, &again, sizeof(g)) == 0);
	/* Unique partition GUIDs differ from each other. */
	ck_assert(memcmp(g.head + 1024 + 16, g.head + 1024 + 128 + 16, 16) != 0);
	/* Other sizes: another disk GUID. */
	ck_assert_int_eq(gpt_build(&again, other, 2, NULL), 0);
	ck_assert(memcmp(g.head + 512 + 56, again.head + 512 + 56, 16) != 0);
}
END_TEST

START_TEST(refuses_bad_counts_and_sizes)
{
	uint64_t bytes[GPT_MAX_PARTS + 1];
	struct vm_err err = { { 0 } };
	for (int i = 0; i <= GPT_MAX_PARTS; i++)
		bytes[i] = 4096;
	ck_assert_int_eq(gpt_build(&g, bytes, 0, &err), -1);
	ck_assert_msg(strstr(err.msg, "1 to 127"), "%s", err.msg);
	ck_assert_int_eq(gpt_build(&g, bytes, GPT_MAX_PARTS + 1, &err), -1);
	ck_assert_msg(strstr(err.msg, "128 partitions"), "%s", err.msg);
	bytes[1] = 0;
	ck_assert_int_eq(gpt_build(&g, bytes, 3, &err), -1);
	ck_assert_msg(strstr(err.msg, "partition 1 is empty"), "%s", err.msg);
	bytes[1] = (1ULL << 48) + 1;
	ck_assert_int_eq(gpt_build(&g, bytes, 3, &err), -1);
	ck_assert_msg(strstr(err.msg, "over the"), "%s", err.msg);
}
END_TEST

/* A protective MBR says 0xFFFFFFFF when the disk is beyond 2 TiB. */
START_TEST(big_disk_mbr_saturates)
{
	uint64_t bytes[2] = { 1ULL << 40, 3ULL << 40 };
	ck_assert_int_eq(gpt_build(&g, bytes, 2, NULL), 0);
	ck_assert_uint_eq(get(g.head + 446 + 12, 4), 0xffffffffu);
	check_table(bytes, 2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("gpt");
	TCase *t = tcase_create("gpt");
	tcase_add_test(t, crc32_known_value);
	tcase_add_test(t, three_partitions);
	tcase_add_test(t, max_partitions);
	tcase_add_test(t, same_sizes_same_table);
	tcase_add_test(t, refuses_bad_counts_and_sizes);
	tcase_add_test(t, big_disk_mbr_saturates);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)

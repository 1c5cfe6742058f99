/* test_boot.c - bzImage validation, e820 layout, initrd placement and the
 * zero page. Synthetic headers test each refusal; the real Debian kernel
 * (SM_CACHE/guest/vmlinuz, fetched by script/fetch-kernels) must parse. */
#include "../check_main.h"
#include "daemon/vm/boot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1ULL << 20)

/* A minimal valid bzImage: 4 setup sectors + boot sector, 64 KiB code. */
static uint8_t *fake_bzimage(size_t *len)
{
	size_t setup = 5 * 512, code = 64 * 1024;
	uint8_t *b = calloc(1, setup + code);
	struct setup_header h;
	memset(&h, 0, sizeof(h));
	h.setup_sects = 4;
	h.boot_flag = 0xaa55;
	h.header = 0x53726448;
	h.version = 0x020f;
	h.loadflags = LOADED_HIGH;
	h.syssize = code / 16;
	h.xloadflags = XLF_KERNEL_64;
	h.pref_address = 0x1000000;
	h.kernel_alignment = 0x200000;
	h.init_size = 0x800000;
	h.initrd_addr_max = 0x7fffffff;
	h.cmdline_size = 2047;
	memcpy(b + 0x1f1, &h, sizeof(h));
	*len = setup + code;
	return b;
}

static struct setup_header *hdr(uint8_t *b)
{
	return (struct setup_header *)(b + 0x1f1);
}

START_TEST(parse_valid)
{
	size_t len;
	uint8_t *b = fake_bzimage(&len);
	struct bzimage_info k;
	struct vm_err err = { "" };
	ck_assert_int_eq(bzimage_parse(b, len, &k, &err), 0);
	ck_assert_uint_eq(k.setup_size, 5 * 512);
	ck_assert_uint_eq(k.kernel_size, 64 * 1024);
	ck_assert_uint_eq(k.load_addr, 0x1000000);
	ck_assert_uint_eq(k.entry64, 0x1000200);
	ck_assert_uint_eq(k.cmdline_max, 2047);
	free(b);
}
END_TEST

static void expect_refused(uint8_t *b, size_t len, const char *needle)
{
	struct bzimage_info k;
	struct vm_err err = { "" };
	ck_assert_int_eq(bzimage_parse(b, len, &k, &err), -1);
	ck_assert_msg(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
}

START_TEST(parse_refusals)
{
	size_t len;
	uint8_t *b = fake_bzimage(&len);
	expect_refused(b, 512, "only 512 bytes");
	expect_refused(b, len - 1, "truncated");
	hdr(b)->header = 0x12345678;
	expect_refused(b, len, "HdrS");
	hdr(b)->header = 0x53726448;
	hdr(b)->boot_flag = 0;
	expect_refused(b, len, "boot flag");
	hdr(b)->boot_flag = 0xaa55;
	hdr(b)->version = 0x0206;
	expect_refused(b, len, "too old");
	hdr(b)->version = 0x020f;
	hdr(b)->xloadflags = 0;
	expect_refused(b, len, "64-bit");
	hdr(b)->xloadflags = XLF_KERNEL_64;
	hdr(b)->loadflags = 0;
	expect_refused(b, len, "LOADED_HIGH");
	hdr(b)->loadflags = LOADED_HIGH;
	hdr(b)->syssize = 0;
	expect_refused(b, len, "syssize");
	free(b);
}
END_TEST

START_TEST(load_file_errors)
{
	uint8_t *buf;
	size_t len;
	struct bzimage_info k;
	struct vm_err err = { "" };
	ck_assert_int_eq(bzimage_load_file("/nonexistent/vmlinuz", &buf, &len, &k, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "No such file"));
	ck_assert_int_eq(bzimage_load_file("/etc/hostname", &buf, &len, &k, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "/etc/hostname"));
}
END_TEST

START_TEST(real_kernel)
{
	const char *cache = getenv("SM_CACHE");
	ck_assert_msg(cache, "SM_CACHE not set (run through meson test)");
	char path[4096];
	snprintf(path, sizeof(path), "%s/guest/vmlinuz", cache);
	uint8_t *buf;
	size_t len;
	struct bzimage_info k;
	struct vm_err err = { "" };
	ck_assert_msg(bzimage_load_file(path, &buf, &len, &k, &err) == 0, "%s", err.msg);
	ck_assert_uint_ge(k.version, 0x020c);
	ck_assert_uint_eq(k.entry64, k.load_addr + 0x200);
	/* The same kernel cut short, or with a broken magic, is refused. */
	ck_assert_int_eq(bzimage_parse(buf, len / 2, &k, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "truncated"));
	buf[0x202] ^= 0xff;
	ck_assert_int_eq(bzimage_parse(buf, len, &k, &err), -1);
	free(buf);
}
END_TEST

START_TEST(e820_small)
{
	struct boot_e820_entry e[8];
	int n = boot_e820(128 * MiB, e, 8);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(e[0].addr, 0);
	ck_assert_uint_eq(e[0].size, 0x9fc00);
	ck_assert_uint_eq(e[0].type, BOOT_E820_RAM);
	ck_assert_uint_eq(e[1].addr, BOOT_ACPI_START);
	ck_assert_uint_eq(e[1].type, BOOT_E820_RESERVED);
	ck_assert_uint_eq(e[2].addr, 1 * MiB);
	ck_assert_uint_eq(e[2].addr + e[2].size, 128 * MiB);
	ck_assert_uint_eq(e[2].type, BOOT_E820_RAM);
}
END_TEST

START_TEST(e820_above_hole)
{
	struct boot_e820_entry e[8];
	int n = boot_e820(4096 * MiB, e, 8);
	ck_assert_int_eq(n, 4);
	ck_assert_uint_eq(e[2].addr + e[2].size, 0xc0000000ULL);
	ck_assert_uint_eq(e[3].addr, 0x100000000ULL);
	ck_assert_uint_eq(e[3].size, 1024 * MiB);
	ck_assert_uint_eq(boot_low_ram_end(4096 * MiB), 0xc0000000ULL);
	/* Too small an array: entries are dropped, never overflowed. */
	ck_assert_int_eq(boot_e820(4096 * MiB, e, 2), 2);
}
END_TEST

START_TEST(initrd_placement)
{
	size_t len;
	uint8_t *b = fake_bzimage(&len);
	struct bzimage_info k;
	ck_assert_int_eq(bzimage_parse(b, len, &k, NULL), 0);
	uint64_t addr;
	struct vm_err err = { "" };
	ck_assert_int_eq(boot_initrd_addr(&k, 128 * MiB, 10 * MiB + 5, &addr, &err), 0);
	ck_assert_uint_eq(addr % 4096, 0);
	ck_assert_uint_le(addr + 10 * MiB + 5, 128 * MiB);
	ck_assert_uint_ge(addr, k.load_addr + k.init_size);
	/* initrd_addr_max caps the placement even with lots of RAM. */
	k.initrd_addr_max = 0x37ffffff;
	ck_assert_int_eq(boot_initrd_addr(&k, 2048 * MiB, MiB, &addr, &err), 0);
	ck_assert_uint_le(addr + MiB, 0x38000000ULL);
	/* Does not fit between kernel end (24 MiB) and 32 MiB. */
	ck_assert_int_eq(boot_initrd_addr(&k, 32 * MiB, 16 * MiB, &addr, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "does not fit"));
	free(b);
}
END_TEST

START_TEST(zero_page)
{
	size_t len;
	uint8_t *b = fake_bzimage(&len);
	struct bzimage_info k;
	ck_assert_int_eq(bzimage_parse(b, len, &k, NULL), 0);
	struct boot_params *bp = malloc(sizeof(*bp));
	memset(bp, 0xaa, sizeof(*bp));
	struct boot_layout l = { .mem_bytes = 512 * MiB, .cmdline_len = 20,
				 .initrd_addr = 0x1f000000, .initrd_size = 12345,
				 .rsdp_addr = BOOT_ACPI_START };
	struct vm_err err = { "" };
	ck_assert_int_eq(boot_params_fill(bp, &k, &l, &err), 0);
	ck_assert_uint_eq(bp->hdr.header, 0x53726448);
	ck_assert_uint_eq(bp->hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	ck_assert_uint_eq(bp->hdr.ramdisk_image, 0x1f000000);
	ck_assert_uint_eq(bp->hdr.ramdisk_size, 12345);
	ck_assert_uint_eq(bp->acpi_rsdp_addr, BOOT_ACPI_START);
	ck_assert_uint_eq(bp->e820_entries, 3);
	ck_assert_uint_eq(bp->e820_table[2].addr + bp->e820_table[2].size, 512 * MiB);
	ck_assert_uint_eq(bp->ext_ramdisk_image, 0);
	ck_assert_uint_eq(bp->hdr.loadflags & LOADED_HIGH, LOADED_HIGH);
	/* Fields the loader does not own stay zero. */
	ck_assert_uint_eq(bp->screen_info.orig_video_isVGA, 0);
	/* Too long a command line and too little memory are refused. */
	l.cmdline_len = 5000;
	ck_assert_int_eq(boot_params_fill(bp, &k, &l, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "command line"));
	l.cmdline_len = 10;
	l.mem_bytes = 16 * MiB;
	ck_assert_int_eq(boot_params_fill(bp, &k, &l, &err), -1);
	free(bp);
	free(b);
}
END_TEST

START_TEST(reset_stub)
{
	uint8_t b[16];
	memset(b, 0, sizeof(b));
	size_t n = boot_reset_stub(b, sizeof(b));
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_le(BOOT_RESET_VECTOR + n, BOOT_HIGH_MEM_START); /* fits below 1 MiB */
	/* out %al, $0x64 after mov $0xfe, %al; ends in a hlt loop. */
	ck_assert_uint_eq(b[0], 0xb0);
	ck_assert_uint_eq(b[1], 0xfe);
	ck_assert_uint_eq(b[2], 0xe6);
	ck_assert_uint_eq(b[3], 0x64);
	ck_assert_uint_eq(b[4], 0xf4);
	ck_assert_uint_eq(boot_reset_stub(b, 3), 0);
}
END_TEST

static Suite *boot_suite(void)
{
	Suite *s = suite_create("boot");
	TCase *t = tcase_create("boot");
	tcase_add_test(t, parse_valid);
	tcase_add_test(t, parse_refusals);
	tcase_add_test(t, load_file_errors);
	tcase_add_test(t, real_kernel);
	tcase_add_test(t, e820_small);
	tcase_add_test(t, e820_above_hole);
	tcase_add_test(t, initrd_placement);
	tcase_add_test(t, zero_page);
	tcase_add_test(t, reset_stub);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(boot_suite)

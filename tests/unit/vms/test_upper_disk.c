/* test_upper_disk.c - the writable layers' files: the sparse/reflink copy
 * (common/file_copy) keeps holes as holes and data equal, replaces what
 * the target held, and names what failed; the template cache
 * (daemon/vms/upper_disk.c) makes a template once, makes a truncated,
 * foreign or missing one again, refuses sizes below the least, and a
 * VM's disk made from it is an ext4 of that size holding little data.
 * The 8 GiB case prints what a VM's copy costs (time, data bytes).
 */
#include "../check_main.h"
#include "common/file_copy/file_copy.h"
#include "daemon/vms/upper_disk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024ull * 1024)

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/sm-upper-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void put(int fd, uint64_t off, size_t len, int byte)
{
	char *b = malloc(len);
	memset(b, byte, len);
	ck_assert_int_eq(pwrite(fd, b, len, (off_t)off), (ssize_t)len);
	free(b);
}

static uint64_t used_bytes(int fd)
{
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

static void assert_same(int a, int b, uint64_t size)
{
	static char x[1 << 16], y[1 << 16];
	for (uint64_t off = 0; off < size; off += sizeof x) {
		ck_assert_int_eq(pread(a, x, sizeof x, (off_t)off), (ssize_t)sizeof x);
		ck_assert_int_eq(pread(b, y, sizeof y, (off_t)off), (ssize_t)sizeof y);
		ck_assert_msg(!memcmp(x, y, sizeof x), "differ near byte %llu",
			      (unsigned long long)off);
	}
}

/* 64 MiB with 4 KiB at 0, 1 MiB at 10 MiB and 4 KiB at the end. */
static int sparse_source(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0640);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 64 * MIB), 0);
	put(fd, 0, 4096, 'a');
	put(fd, 10 * MIB, MIB, 'b');
	put(fd, 64 * MIB - 4096, 4096, 'c');
	return fd;
}

/* _i: 0 the usual way, 1 pread/pwrite only (FC_PLAIN_IO) */
START_TEST(copy_keeps_holes_and_data)
{
	char src[128], dst[128], err[256] = "";
	path_in(src, sizeof src, "src");
	path_in(dst, sizeof dst, "dst");
	int s = sparse_source(src);
	/* dst held other data: afterwards it is src's, holes included */
	int d = open(dst, O_RDWR | O_CREAT | O_TRUNC, 0640);
	ck_assert_int_ge(d, 0);
	put(d, 5 * MIB, MIB, 'z');
	struct fc_stats st;
	unsigned flags = _i ? FC_PLAIN_IO : 0;
	ck_assert_msg(fc_copy_fd_flags(s, d, 64 * MIB, flags, &st, err, sizeof err) == 0, "%s",
		      err);
	if (_i)
		ck_assert_int_eq(st.how, FC_SPARSE_COPY);
	struct stat sb;
	ck_assert_int_eq(fstat(d, &sb), 0);
	ck_assert_uint_eq((uint64_t)sb.st_size, 64 * MIB);
	assert_same(s, d, 64 * MIB);
	if (st.how == FC_SPARSE_COPY) {
		ck_assert_uint_eq(st.data_bytes, MIB + 8192);
		ck_assert_uint_le(used_bytes(d), MIB + 64 * 1024);
		/* the old data at 5 MiB is a hole now; the next data is at 10 MiB */
		ck_assert_int_eq(lseek(d, 5 * MIB, SEEK_DATA), (off_t)(10 * MIB));
	}
	close(s);
	close(d);
}
END_TEST

START_TEST(copy_errors_name_the_files)
{
	char src[128], dst[128], err[512] = "";
	path_in(src, sizeof src, "src");
	path_in(dst, sizeof dst, "dst");
	/* no source */
	ck_assert_int_eq(fc_copy_path(src, dst, 0640, NULL, err, sizeof err), -1);
	ck_assert_msg(strstr(err, src) && strstr(err, "No such file"), "%s", err);
	ck_assert_int_eq(access(dst, F_OK), -1);
	/* a target that exists is never overwritten */
	close(sparse_source(src));
	int d = open(dst, O_RDWR | O_CREAT, 0640);
	put(d, 0, 10, 'q');
	close(d);
	ck_assert_int_eq(fc_copy_path(src, dst, 0640, NULL, err, sizeof err), -1);
	ck_assert_msg(strstr(err, dst) && strstr(err, "File exists"), "%s", err);
	struct stat sb;
	ck_assert_int_eq(stat(dst, &sb), 0);
	ck_assert_int_eq(sb.st_size, 10);
	/* a source shorter than it is said to be */
	int s = open(src, O_RDONLY);
	d = open(dst, O_RDWR | O_TRUNC);
	ck_assert_int_eq(fc_copy_fd(s, d, 128 * MIB, NULL, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "ended"), "%s", err);
	close(s);
	close(d);
}
END_TEST

static bool ext4_of(const char *path, uint64_t size)
{
	unsigned char sb[2];
	struct stat st;
	int fd = open(path, O_RDONLY);
	bool ok = fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size == size &&
		  pread(fd, sb, 2, 1024 + 56) == 2 && sb[0] == 0x53 && sb[1] == 0xEF;
	if (fd >= 0)
		close(fd);
	return ok;
}

START_TEST(template_made_once_and_remade_when_broken)
{
	char tpl[256], err[1024] = "";
	ck_assert_msg(upper_template(dir, 64, tpl, sizeof tpl, err, sizeof err) == 0, "%s", err);
	char want[128];
	path_in(want, sizeof want, "ext4-64M.img");
	ck_assert_str_eq(tpl, want);
	ck_assert(ext4_of(tpl, 64 * MIB));
	struct stat a, b;
	ck_assert_int_eq(stat(tpl, &a), 0);
	ck_assert_int_eq(upper_template(dir, 64, tpl, sizeof tpl, err, sizeof err), 0);
	ck_assert_int_eq(stat(tpl, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);   /* not made again */
	/* truncated: made again */
	ck_assert_int_eq(truncate(tpl, MIB), 0);
	ck_assert_msg(upper_template(dir, 64, tpl, sizeof tpl, err, sizeof err) == 0, "%s", err);
	ck_assert(ext4_of(tpl, 64 * MIB));
	/* the right size but no file system: made again */
	ck_assert_int_eq(truncate(tpl, 0), 0);
	ck_assert_int_eq(truncate(tpl, 64 * MIB), 0);
	ck_assert_msg(upper_template(dir, 64, tpl, sizeof tpl, err, sizeof err) == 0, "%s", err);
	ck_assert(ext4_of(tpl, 64 * MIB));
	/* missing: made again */
	ck_assert_int_eq(unlink(tpl), 0);
	ck_assert_msg(upper_template(dir, 64, tpl, sizeof tpl, err, sizeof err) == 0, "%s", err);
	ck_assert(ext4_of(tpl, 64 * MIB));
}
END_TEST

START_TEST(template_errors)
{
	char tpl[256], err[1024] = "";
	ck_assert_int_eq(upper_template(dir, 63, tpl, sizeof tpl, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "63 MiB") && strstr(err, "64 MiB"), "%s", err);
	ck_assert_int_eq(upper_template("/dev/null/cache", 64, tpl, sizeof tpl, err, sizeof err),
			 -1);
	ck_assert_msg(strstr(err, "/dev/null/cache") && strstr(err, "template of 64 MiB"), "%s",
		      err);
}
END_TEST

static long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

START_TEST(vm_disk_from_8g_template)
{
	char tpl[256], disk[128], disk2[128], err[1024] = "";
	long t0 = now_us();
	ck_assert_msg(upper_template(dir, 8192, tpl, sizeof tpl, err, sizeof err) == 0, "%s", err);
	long t1 = now_us();
	path_in(disk, sizeof disk, "upper.img");
	path_in(disk2, sizeof disk2, "upper2.img");
	struct fc_stats st;
	ck_assert_msg(upper_disk_create(dir, 8192, disk, &st, err, sizeof err) == 0, "%s", err);
	long t2 = now_us();
	ck_assert(ext4_of(disk, 8192 * MIB));
	int fd = open(disk, O_RDONLY);
	uint64_t used = used_bytes(fd);
	close(fd);
	ck_assert_uint_lt(used, 16 * MIB);   /* a few MiB of metadata, the rest holes */
	fprintf(stderr, "upper disk 8 GiB: template made in %ld ms; VM copy by %s, %llu KiB of "
		"data (%llu KiB on disk), in %ld us\n", (t1 - t0) / 1000, fc_how_name(st.how),
		(unsigned long long)(st.data_bytes >> 10), (unsigned long long)(used >> 10),
		t2 - t1);
	/* the target exists: refused, not clobbered */
	ck_assert_int_eq(upper_disk_create(dir, 8192, disk, NULL, err, sizeof err), -1);
	ck_assert_msg(strstr(err, disk), "%s", err);
	ck_assert_int_eq(upper_disk_create(dir, 8192, disk2, NULL, err, sizeof err), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("upper_disk");
	TCase *tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, copy_keeps_holes_and_data, 0, 2);
	tcase_add_test(tc, copy_errors_name_the_files);
	tcase_add_test(tc, template_made_once_and_remade_when_broken);
	tcase_add_test(tc, template_errors);
	tcase_add_test(tc, vm_disk_from_8g_template);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)

/* test_cpio.c - the newc writer's output extracted by cpio(1) matches. */
#include "cpio.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "../check_main.h"

static char dir[64];

static void extract(const char *archive)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cd %s && cpio -idv --no-absolute-filenames < %s 2>cpio.log",
		 dir, archive);
	ck_assert_msg(system(cmd) == 0, "cpio -idv failed: %s", cmd);
}

static char *slurp(const char *rel, size_t *len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	char *buf = malloc(1 << 20);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

START_TEST(extracts_identically)
{
	char archive[128], path[256], link[64];
	struct stat st;
	snprintf(dir, sizeof(dir), "/tmp/sm-cpio.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(archive, sizeof(archive), "%s.cpio", dir);
	FILE *f = fopen(archive, "wb");
	struct cpio_writer w;
	cpio_init(&w, f);
	/* sizes 0..5 exercise every padding case */
	ck_assert_int_eq(cpio_add_dir(&w, "etc", 0755), 0);
	ck_assert_int_eq(cpio_add_dir(&w, "etc/sub", 0700), 0);
	const char *names[] = { "etc/a", "etc/bb", "etc/sub/ccc", "etc/dddd", "e", "ffffff" };
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(cpio_add_file(&w, names[i], 0600 + i, "012345", (size_t)i), 0);
	char *big = malloc(300000);
	for (int i = 0; i < 300000; i++)
		big[i] = (char)(i * 31);
	ck_assert_int_eq(cpio_add_file(&w, "big.bin", 0755, big, 300000), 0);
	ck_assert_int_eq(cpio_add_symlink(&w, "etc/link", "../big.bin"), 0);
	ck_assert_int_eq(cpio_finish(&w), 0);
	fclose(f);
	ck_assert_uint_eq(w.offset % 4, 0);
	extract(archive);

	for (int i = 0; i < 6; i++) {
		size_t len;
		char *got = slurp(names[i], &len);
		ck_assert_uint_eq(len, (size_t)i);
		ck_assert_int_eq(memcmp(got, "012345", (size_t)i), 0);
		free(got);
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0600u + (unsigned)i);
	}
	size_t len;
	char *got = slurp("big.bin", &len);
	ck_assert_uint_eq(len, 300000);
	ck_assert_int_eq(memcmp(got, big, len), 0);
	free(got);
	free(big);
	snprintf(path, sizeof(path), "%s/etc/link", dir);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	ck_assert_int_eq(n, 10);
	link[n] = 0;
	ck_assert_str_eq(link, "../big.bin");
	snprintf(path, sizeof(path), "%s/etc/sub", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, archive);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Device nodes need root to extract; check their header fields directly. */
START_TEST(chardev_header)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct cpio_writer w;
	cpio_init(&w, f);
	ck_assert_int_eq(cpio_add_chardev(&w, "dev/console", 0600, 5, 1), 0);
	ck_assert_int_eq(cpio_finish(&w), 0);
	fclose(f);
	ck_assert_int_eq(memcmp(buf, "070701", 6), 0);
	/* mode is field 2, rdevmajor field 10, rdevminor field 11 */
	ck_assert_int_eq(memcmp(buf + 6 + 8, "00002180", 8), 0);
	ck_assert_int_eq(memcmp(buf + 6 + 9 * 8, "00000005", 8), 0);
	ck_assert_int_eq(memcmp(buf + 6 + 10 * 8, "00000001", 8), 0);
	ck_assert_int_eq(memcmp(buf + 110, "dev/console", 12), 0);
	ck_assert_ptr_nonnull(memmem(buf, len, "TRAILER!!!", 11));
	ck_assert_uint_eq(len % 4, 0);
	free(buf);
}
END_TEST

START_TEST(bad_names_refused)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct cpio_writer w;
	const char *bad[] = { "", "/abs", "a/../b", "..", "a//b", "a/", "./x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cpio_init(&w, f);
		ck_assert_msg(cpio_add_file(&w, bad[i], 0644, "x", 1) == -1, "accepted '%s'", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
	}
	fclose(f);
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpio");
	TCase *t = tcase_create("cpio");
	tcase_add_test(t, extracts_identically);
	tcase_add_test(t, chardev_header);
	tcase_add_test(t, bad_names_refused);
	suite_add_tcase(s, t);
	return check_run(s, CK_FORK_GETENV);
}

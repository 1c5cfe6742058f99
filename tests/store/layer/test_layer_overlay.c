/* test_layer_overlay.c - OCI whiteouts and opaque dirs across two layers.
 *
 * The upper layer deletes files and directories of the lower one with
 * .wh.NAME and hides a whole directory with .wh..wh..opq (once before the
 * directory's own entry, once after). The converted upper image must hold
 * 0/0 character devices and trusted.overlay.opaque=y, no .wh. names, and
 * when both images are stacked with the kernel's overlayfs the deleted
 * paths are gone and opaque directories show only the upper contents; a
 * whiteout never hides a file of its own layer, whatever the order, and a
 * directory re-made after its whiteout does not show the lower one's files.
 * The images are loop-mounted; without loop/erofs/overlay support the
 * stacking test says so and only the fsck.erofs checks run.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "fixture.h"
#include "helpers.h"
#include "../../unit/check_main.h"

static char *tmp;

static void setup(void)
{
	tmp = th_tmpdir();
	ck_assert_ptr_nonnull(tmp);
}

static void teardown(void)
{
	th_rmtree(tmp);
	free(tmp);
}

static const struct fx_entry lower[] = {
	{ "a/keep", 'f', .data = "keep" },
	{ "a/gone", 'f', .data = "gone" },
	{ "b/old/x", 'f', .data = "x" },
	{ "b/old2", 'f', .data = "old2" },
	{ "c/file", 'f', .data = "file" },
	{ "c/dir/deep", 'f', .data = "deep" },
	{ "d/lower-only", 'f', .data = "l" },
	{ "f/same", 'f', .data = "lower" },
	{ "g/same", 'f', .data = "lower" },
	{ "h/sub/old", 'f', .data = "old" },
	{ "i/sub/old", 'f', .data = "old" },
};

static const struct fx_entry upper[] = {
	{ "a/.wh.gone", 'f' },
	{ "b/.wh..wh..opq", 'f' },
	{ "b/", 'd', 0700 },
	{ "b/new", 'f', .data = "new" },
	{ "c/.wh.file", 'f' },
	{ "c/.wh.dir", 'f' },
	{ "d/", 'd' },
	{ "d/.wh..wh..opq", 'f' },
	{ "e/.wh.never-existed", 'f', 0644, 5, 6 },
	{ "f/same", 'f', .data = "upper" },     /* same layer: stays */
	{ "f/.wh.same", 'f' },
	{ "g/.wh.same", 'f' },
	{ "g/same", 'f', .data = "upper" },
	{ "h/.wh.sub", 'f' },                   /* removed, then made anew */
	{ "h/sub/", 'd' },
	{ "h/sub/new", 'f', .data = "new" },
	{ "i/.wh.sub", 'f' },                   /* same, no directory entry */
	{ "i/sub/new", 'f', .data = "new" },
};

#define NLOW (sizeof(lower) / sizeof(lower[0]))
#define NUP (sizeof(upper) / sizeof(upper[0]))

static void convert(const char *tar, const char *img, struct layer_stats *st)
{
	char err[512];

	ck_assert_msg(layer_convert(tar, img, st, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(th_fsck(img), 0);
}

static void assert_whiteout(const char *path)
{
	struct stat st;

	ck_assert_msg(lstat(path, &st) == 0, "%s missing", path);
	ck_assert_msg(S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 &&
		      minor(st.st_rdev) == 0, "%s is not a 0/0 char device", path);
}

START_TEST(whiteouts_become_overlay_char_devices)
{
	const char *tar = th_path(tmp, "up.tar.gz"), *img = th_path(tmp, "up.erofs");
	const char *ext = th_path(tmp, "ext");
	struct layer_stats st;

	ck_assert_int_eq(fx_write(tar, FX_GZIP, upper, NUP), 0);
	convert(tar, img, &st);
	ck_assert_uint_eq(st.whiteouts, 7);     /* incl. g/same, h/sub, i/sub */
	ck_assert_uint_eq(st.opaque_dirs, 4);   /* b, d and the new h/sub, i/sub */
	ck_assert_uint_eq(st.neutralised, 0);
	ck_assert_int_eq(th_extract(img, ext), 0);
	assert_whiteout(th_path(ext, "a/gone"));
	assert_whiteout(th_path(ext, "c/file"));
	assert_whiteout(th_path(ext, "c/dir"));
	assert_whiteout(th_path(ext, "e/never-existed"));
	ck_assert_str_eq(th_ls(th_path(ext, "b")), "new");
	ck_assert_int_eq(th_sh("test -z \"$(find %s -name '.wh.*')\"", ext), 0);
}
END_TEST

static void assert_opaque(const char *dir, bool want)
{
	char v[8];
	ssize_t n = lgetxattr(dir, "trusted.overlay.opaque", v, sizeof(v));

	if (want)
		ck_assert_msg(n == 1 && v[0] == 'y', "%s not opaque", dir);
	else
		ck_assert_msg(n < 0, "%s opaque", dir);
}

START_TEST(stacked_with_overlayfs)
{
	const char *lt = th_path(tmp, "low.tar.zst"), *li = th_path(tmp, "low.erofs");
	const char *ut = th_path(tmp, "up.tar"), *ui = th_path(tmp, "up.erofs");
	const char *lm = th_path(tmp, "mnt-low"), *um = th_path(tmp, "mnt-up");
	const char *om = th_path(tmp, "mnt-ovl");
	struct layer_stats st;
	struct stat s;

	ck_assert_int_eq(fx_write(lt, FX_ZSTD, lower, NLOW), 0);
	ck_assert_int_eq(fx_write(ut, FX_PLAIN, upper, NUP), 0);
	convert(lt, li, &st);
	convert(ut, ui, &st);
	if (!th_mount_erofs(li, lm) || !th_mount_erofs(ui, um)) {
		th_note_no_mount();
		return;
	}
	assert_opaque(th_path(um, "b"), true);
	assert_opaque(th_path(um, "d"), true);
	assert_opaque(th_path(um, "a"), false);
	ck_assert_int_eq(stat(th_path(um, "b"), &s), 0);
	ck_assert_uint_eq(s.st_mode & 07777, 0700);
	mkdir(om, 0755);
	ck_assert_int_eq(th_sh("mount -t overlay overlay -o ro,lowerdir='%s':'%s' '%s'",
			       um, lm, om), 0);
	ck_assert_str_eq(th_ls(om), "a b c d e f g h i");
	ck_assert_str_eq(th_ls(th_path(om, "h/sub")), "new");
	ck_assert_str_eq(th_ls(th_path(om, "i/sub")), "new");
	ck_assert_int_eq(th_sh("test \"$(cat '%s/f/same')$(cat '%s/g/same')\" = upperupper",
			       om, om), 0);
	ck_assert_str_eq(th_ls(th_path(om, "a")), "keep");
	ck_assert_str_eq(th_ls(th_path(om, "b")), "new");
	ck_assert_str_eq(th_ls(th_path(om, "c")), "");
	ck_assert_str_eq(th_ls(th_path(om, "d")), "");
	/* A whiteout for a name no lower layer has: overlayfs lists the
	 * 0/0 device in a directory only one layer provides, but the name
	 * does not resolve, as with any overlay whiteout. */
	ck_assert_int_lt(lstat(th_path(om, "e/never-existed"), &s), 0);
	ck_assert_int_lt(lstat(th_path(om, "a/gone"), &s), 0);
	ck_assert_int_lt(lstat(th_path(om, "c/dir/deep"), &s), 0);
	ck_assert_int_eq(th_sh("test \"$(cat '%s/a/keep')\" = keep", om), 0);
	th_umount(om);
	th_umount(um);
	th_umount(lm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("layer_overlay");
	TCase *tc = tcase_create("overlay");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, whiteouts_become_overlay_char_devices);
	tcase_add_test(tc, stacked_with_overlayfs);
	suite_add_tcase(s, tc);
	th_main_begin();
	int rc = check_run(s, CK_FORK_GETENV);
	th_main_end();
	return rc;
}

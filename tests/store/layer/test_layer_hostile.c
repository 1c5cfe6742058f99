/* test_layer_hostile.c - hostile layer archives are refused or neutralised.
 *
 * Each case asserts one outcome: either the conversion fails with a
 * message naming the cause and leaves no output or temp file behind, or it
 * succeeds with the offending entries dropped or rewritten (counted in
 * stats.neutralised) and the resulting image checked by fsck.erofs, its
 * extraction and dump.erofs. Nothing ever lands outside the layer's tree.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

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

/* Convert, fsck and extract into tmp/ext; returns the stats. */
static struct layer_stats convert_extract(const char *tar)
{
	struct layer_stats st;
	char err[512];
	const char *img = th_path(tmp, "out.erofs");

	ck_assert_msg(layer_convert(tar, img, &st, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(th_fsck(img), 0);
	ck_assert_int_eq(th_extract(img, th_path(tmp, "ext")), 0);
	return st;
}

/* The conversion must fail with why in the message and leave nothing. */
static void convert_refused(const char *tar, const struct layer_limits *lim,
			    const char *why)
{
	char err[512];
	const char *img = th_path(tmp, "out.erofs");

	ck_assert_int_eq(layer_convert_ex(tar, img, lim, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, why), "error '%s' lacks '%s'", err, why);
	ck_assert(!th_exists(img));
	ck_assert_int_eq(th_count_matching(tmp, ".tmp-"), 0);
	ck_assert_int_eq(th_count_matching(tmp, "spool"), 0);
}

START_TEST(dotdot_and_absolute_paths_are_clamped)
{
	const struct fx_entry e[] = {
		{ "../../escape", 'f', .data = "1" },
		{ "/abs/file", 'f', .data = "2" },
		{ "a/../../b", 'f', .data = "3" },
		{ "./c/./d//e", 'f', .data = "4" },
		{ "plain", 'f', .data = "5" },
	};
	const char *tar = th_path(tmp, "h.tar");
	struct layer_stats st;

	ck_assert_int_eq(fx_write(tar, FX_PLAIN, e, 5), 0);
	st = convert_extract(tar);
	ck_assert_uint_eq(st.neutralised, 4);
	ck_assert_str_eq(th_ls(th_path(tmp, "ext")), "abs b c escape plain");
	ck_assert_int_eq(th_sh("test \"$(cat %s/ext/c/d/e)\" = 4", tmp), 0);
	ck_assert_int_eq(th_sh("test \"$(cat %s/ext/escape)\" = 1", tmp), 0);
}
END_TEST

START_TEST(writes_through_symlinks_are_dropped)
{
	const struct fx_entry e[] = {
		{ "link", 'l', .link = "/etc" },
		{ "link/passwd", 'f', .data = "pwned" },
		{ "d/inner", 'l', .link = "../.." },
		{ "d/inner/x", 'f', .data = "pwned" },
		{ "d/inner/sub/", 'd' },
		{ "hl", 'h', .link = "link/passwd" },
		{ "file", 'f', .data = "f" },
		{ "file/below", 'f', .data = "pwned" },
	};
	const char *tar = th_path(tmp, "h.tar");
	struct layer_stats st;
	char target[64] = { 0 };

	ck_assert_int_eq(fx_write(tar, FX_PLAIN, e, 8), 0);
	st = convert_extract(tar);
	ck_assert_uint_eq(st.neutralised, 5);
	ck_assert_str_eq(th_ls(th_path(tmp, "ext")), "d file link");
	ck_assert_int_gt(readlink(th_path(tmp, "ext/link"), target, sizeof(target) - 1), 0);
	ck_assert_str_eq(target, "/etc");
	ck_assert_int_eq(th_sh("test -z \"$(find %s/ext -name passwd -o -name x "
			       "-o -name below -o -name sub)\"", tmp), 0);
	ck_assert_int_eq(th_sh("grep -rq pwned %s/ext", tmp), 1);
}
END_TEST

START_TEST(hard_links_must_name_files_inside)
{
	const struct fx_entry e[] = {
		{ "real", 'f', .data = "real" },
		{ "dir/", 'd' },
		{ "h_out", 'h', .link = "../../etc/passwd" },
		{ "h_abs", 'h', .link = "/etc/passwd" },
		{ "h_missing", 'h', .link = "nope" },
		{ "h_dir", 'h', .link = "dir" },
		{ "dir/h_ok", 'h', .link = "real" },
	};
	const char *tar = th_path(tmp, "h.tar"), *img = th_path(tmp, "out.erofs");
	struct layer_stats st;

	ck_assert_int_eq(fx_write(tar, FX_PLAIN, e, 7), 0);
	st = convert_extract(tar);
	ck_assert_uint_eq(st.neutralised, 4);
	ck_assert_str_eq(th_ls(th_path(tmp, "ext")), "dir real");
	ck_assert_int_ge(th_nid(img, "/real"), 0);
	ck_assert_int_eq(th_nid(img, "/real"), th_nid(img, "/dir/h_ok"));
}
END_TEST

START_TEST(absurd_size_header_is_refused)
{
	const char *tar = th_path(tmp, "huge.tar");
	FILE *f = fopen(tar, "wb");

	ck_assert_ptr_nonnull(f);
	fx_raw_header(f, "huge", '0', 1ull << 40, NULL);
	fputs("only a little data", f);
	fx_raw_pad(f, 18);
	fx_raw_end(f);
	fclose(f);
	convert_refused(tar, NULL, "exceeds");
	convert_refused(tar, NULL, "huge");
}
END_TEST

START_TEST(size_and_entry_caps_are_configurable)
{
	const struct fx_entry e[] = {
		{ "two-mb", 'f', .gen_size = 2u << 20 },
		{ "b", 'f' }, { "c", 'f' }, { "d", 'f' },
	};
	const char *tar = th_path(tmp, "caps.tar");
	struct layer_limits small = { .max_file_size = 1u << 20 };
	struct layer_limits total = { .max_total_size = 1u << 20 };
	struct layer_limits few = { .max_entries = 3 };
	struct layer_limits roomy = { .max_file_size = 4u << 20, .max_entries = 4 };
	char err[512];

	ck_assert_int_eq(fx_write(tar, FX_GZIP, e, 4), 0);
	convert_refused(tar, &small, "two-mb: size 2097152 exceeds");
	convert_refused(tar, &total, "exceeds");
	convert_refused(tar, &few, "more than 3 entries");
	ck_assert_msg(layer_convert_ex(tar, th_path(tmp, "ok.erofs"), &roomy, NULL,
				       err, sizeof(err)) == 0, "%s", err);
}
END_TEST

START_TEST(nul_in_name_is_cut_at_the_nul)
{
	static const char path[] = "evil\0/../../x";
	const char *tar = th_path(tmp, "nul.tar");
	FILE *f = fopen(tar, "wb");
	struct layer_stats st;

	ck_assert_ptr_nonnull(f);
	fx_raw_pax(f, "path", path, sizeof(path) - 1);
	fx_raw_header(f, "placeholder", '0', 3, NULL);
	fputs("abc", f);
	fx_raw_pad(f, 3);
	fx_raw_end(f);
	fclose(f);
	st = convert_extract(tar);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_str_eq(th_ls(th_path(tmp, "ext")), "evil");
}
END_TEST

START_TEST(bad_names_and_forged_overlay_xattrs)
{
	static char longname[300];
	const struct fx_entry e[] = {
		{ ".", 'f', .data = "root as a file" },
		{ "a/.", 'f', .data = "a as a file" },
		{ longname, 'f', .data = "too long" },
		{ ".wh.", 'f' },
		{ "w/.wh..", 'f' },
		{ "w/.wh..wh.plnk", 'f' },
		{ "forged", 'f', .data = "x", .xname = { "trusted.overlay.redirect",
		  "user.kept", "system.posix_acl_accessX" },
		  .xval = { "/etc", "yes", "z" } },
		{ "fdir/", 'd', .xname = { "trusted.overlay.opaque" }, .xval = { "y" } },
		{ "bigid", 'f', 0644, 1ll << 40, 1ll << 33, .data = "ids" },
	};
	const char *tar = th_path(tmp, "names.tar"), *img = th_path(tmp, "out.erofs");
	const char *mnt = th_path(tmp, "mnt");
	struct layer_stats st;
	struct stat sb;
	char v[16];

	memset(longname, 'n', 299);
	ck_assert_int_eq(fx_write(tar, FX_PLAIN, e, 9), 0);
	st = convert_extract(tar);
	/* ".", "a/." (rewritten + a file at a), long name, 3 whiteouts,
	 * 2 with forged xattrs, ids out of range (owned by nobody) */
	ck_assert_uint_eq(st.neutralised, 1 + 1 + 1 + 3 + 2 + 1);
	ck_assert_str_eq(th_ls(th_path(tmp, "ext")), "a bigid fdir forged w");
	ck_assert_int_eq(stat(th_path(tmp, "ext/bigid"), &sb), 0);
	ck_assert_uint_eq(sb.st_uid, 65534);
	ck_assert_uint_eq(sb.st_gid, 65534);
	ck_assert_str_eq(th_ls(th_path(tmp, "ext/w")), "");
	ck_assert_uint_eq(st.whiteouts, 0);
	if (!th_mount_erofs(img, mnt)) {
		th_note_no_mount();
		return;
	}
	ck_assert_int_lt(lgetxattr(th_path(mnt, "forged"), "trusted.overlay.redirect",
				   v, sizeof(v)), 0);
	ck_assert_int_lt(lgetxattr(th_path(mnt, "fdir"), "trusted.overlay.opaque",
				   v, sizeof(v)), 0);
	ck_assert_int_eq(lgetxattr(th_path(mnt, "forged"), "user.kept", v, sizeof(v)), 3);
	ck_assert_int_eq(llistxattr(th_path(mnt, "forged"), v, sizeof(v)), 10);
	th_umount(mnt);
}
END_TEST

/* 3000 nested directories in one 6000-byte path: over PATH_MAX, so
 * dropped (it would also make the tree as deep as the path is long). */
START_TEST(overlong_paths_are_dropped)
{
	static char deep[6001];
	const struct fx_entry e[] = {
		{ deep, 'f', .data = "deep" },
		{ "ok", 'f', .data = "ok" },
	};
	const char *tar = th_path(tmp, "deep.tar.gz");
	struct layer_stats st;

	for (int i = 0; i < 3000; i++)
		memcpy(deep + 2 * i, "d/", 2);
	deep[5999] = 'f';
	ck_assert_int_eq(fx_write(tar, FX_GZIP, e, 2), 0);
	st = convert_extract(tar);
	ck_assert_uint_eq(st.neutralised, 1);
	ck_assert_str_eq(th_ls(th_path(tmp, "ext")), "ok");
}
END_TEST

START_TEST(later_entries_replace_earlier_ones)
{
	const struct fx_entry e[] = {
		{ "x", 'f', .data = "file first" },
		{ "x/", 'd' },
		{ "x/y", 'f', .data = "y" },
		{ "z/w", 'f', .data = "w" },
		{ "z", 'f', .data = "file last" },
		{ "s", 'f', .data = "old" },
		{ "s", 'f', .data = "new" },
	};
	const char *tar = th_path(tmp, "r.tar");
	struct layer_stats st;

	ck_assert_int_eq(fx_write(tar, FX_PLAIN, e, 7), 0);
	st = convert_extract(tar);
	ck_assert_uint_eq(st.neutralised, 0);
	ck_assert_str_eq(th_ls(th_path(tmp, "ext/x")), "y");
	ck_assert_int_eq(th_sh("test -f %s/ext/z && test \"$(cat %s/ext/s)\" = new",
			       tmp, tmp), 0);
}
END_TEST

START_TEST(truncated_archives_fail_without_output)
{
	const struct fx_entry e[] = {
		{ "a", 'f', .gen_size = 200000 },
		{ "b", 'f', .data = "b" },
	};
	const char *tgz = th_path(tmp, "t.tgz"), *tar = th_path(tmp, "t.tar");
	struct stat s;

	ck_assert_int_eq(fx_write(tgz, FX_GZIP, e, 2), 0);
	ck_assert_int_eq(fx_write(tar, FX_PLAIN, e, 2), 0);
	ck_assert_int_eq(stat(tgz, &s), 0);
	ck_assert_int_eq(truncate(tgz, s.st_size / 2), 0);
	ck_assert_int_eq(truncate(tar, 100000), 0);
	convert_refused(tgz, NULL, "truncated gzip input");
	convert_refused(tar, NULL, "a: reading data");
}
END_TEST

START_TEST(garbage_is_refused)
{
	const char *junk = th_path(tmp, "junk");
	FILE *f = fopen(junk, "wb");

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 4096; i++)
		fputc(i * 7 + 1, f);
	fclose(f);
	convert_refused(junk, NULL, "archive");
	convert_refused(th_path(tmp, "does-not-exist"), NULL, "does-not-exist");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("layer_hostile");
	TCase *tc = tcase_create("hostile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, dotdot_and_absolute_paths_are_clamped);
	tcase_add_test(tc, writes_through_symlinks_are_dropped);
	tcase_add_test(tc, hard_links_must_name_files_inside);
	tcase_add_test(tc, absurd_size_header_is_refused);
	tcase_add_test(tc, size_and_entry_caps_are_configurable);
	tcase_add_test(tc, nul_in_name_is_cut_at_the_nul);
	tcase_add_test(tc, bad_names_and_forged_overlay_xattrs);
	tcase_add_test(tc, overlong_paths_are_dropped);
	tcase_add_test(tc, later_entries_replace_earlier_ones);
	tcase_add_test(tc, truncated_archives_fail_without_output);
	tcase_add_test(tc, garbage_is_refused);
	suite_add_tcase(s, tc);
	th_main_begin();
	int rc = check_run(s, CK_FORK_GETENV);
	th_main_end();
	return rc;
}

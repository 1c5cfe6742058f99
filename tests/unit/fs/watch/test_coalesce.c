/* test_coalesce.c - the coalescing window (watch_coalesce.c) and the echo
 * rules (watch_ignore.c) as pure data structures: no inotify, no thread,
 * the time is whatever the test says. */
#include "../../check_main.h"
#include "daemon/fs/watch/watch_int.h"

#include <stdio.h>
#include <string.h>

#define C FS_CHANGE_CREATE
#define M FS_CHANGE_MODIFY
#define A FS_CHANGE_ATTRIB
#define D FS_CHANGE_DELETE
#define RF FS_CHANGE_RENAME_FROM
#define RT FS_CHANGE_RENAME_TO
#define RS FS_CHANGE_RESCAN

static struct wcoal *coal;
static struct fs_change out[8192];
static size_t nout;

static void setup(void)
{
	coal = wcoal_new(NULL);
	ck_assert_ptr_nonnull(coal);
	nout = 0;
}

static void teardown(void)
{
	wcoal_batch_free(out, nout);
	nout = 0;
	wcoal_free(coal);
}

static void add(uint32_t mount, enum fs_change_kind kind, const char *path)
{
	wcoal_add(coal, 1000, mount, kind, path, false);
}

/* Take everything pending into out. */
static size_t take_all(void)
{
	wcoal_batch_free(out, nout);
	nout = wcoal_take(coal, out, sizeof(out) / sizeof(out[0]));
	ck_assert_uint_eq(wcoal_count(coal), 0);
	return nout;
}

static void expect(size_t i, uint32_t mount, enum fs_change_kind kind, const char *path)
{
	ck_assert_uint_lt(i, nout);
	ck_assert_msg(out[i].mount_id == mount && out[i].kind == kind &&
		      strcmp(out[i].path, path) == 0,
		      "record %zu: want %u %s '%s', got %u %s '%s'", i, mount,
		      fs_change_kind_name(kind), path, out[i].mount_id,
		      fs_change_kind_name(out[i].kind), out[i].path);
}

START_TEST(repeated_modify_is_one)
{
	for (int i = 0; i < 1000; i++)
		add(1, M, "f");
	ck_assert_uint_eq(take_all(), 1);
	expect(0, 1, M, "f");
	ck_assert_uint_eq(out[0].cookie, 0);
}
END_TEST

START_TEST(order_of_distinct_paths_kept)
{
	add(1, M, "a");
	add(1, M, "b");
	add(1, M, "a");
	add(1, A, "b");
	add(1, A, "a");
	add(1, M, "b");
	ck_assert_uint_eq(take_all(), 4);
	expect(0, 1, M, "a");
	expect(1, 1, M, "b");
	expect(2, 1, A, "b");
	expect(3, 1, A, "a");
}
END_TEST

START_TEST(create_absorbs_modify_and_attrib)
{
	add(1, C, "f");
	add(1, M, "f");
	add(1, A, "f");
	add(1, M, "f");
	add(1, C, "f");   /* a scan and inotify both saw it */
	ck_assert_uint_eq(take_all(), 1);
	expect(0, 1, C, "f");
}
END_TEST

START_TEST(create_then_delete_cancel)
{
	add(1, M, "x");
	add(1, C, "f");
	add(1, M, "f");
	add(1, D, "f");
	ck_assert_uint_eq(take_all(), 1);
	expect(0, 1, M, "x");
}
END_TEST

START_TEST(delete_create_delete_is_delete)
{
	add(1, D, "f");
	add(1, C, "f");
	add(1, M, "f");
	add(1, D, "f");
	ck_assert_uint_eq(take_all(), 1);
	expect(0, 1, D, "f");
}
END_TEST

START_TEST(delete_replaces_modify)
{
	add(1, M, "f");
	add(1, M, "g");
	add(1, A, "f");
	add(1, D, "f");
	add(1, D, "f");
	ck_assert_uint_eq(take_all(), 2);
	expect(0, 1, M, "g");
	expect(1, 1, D, "f");
}
END_TEST

START_TEST(delete_then_create_both_kept)
{
	add(1, D, "f");
	add(1, C, "f");
	add(1, M, "f");
	ck_assert_uint_eq(take_all(), 2);
	expect(0, 1, D, "f");
	expect(1, 1, C, "f");
}
END_TEST

START_TEST(mounts_are_distinct)
{
	add(1, M, "f");
	add(2, M, "f");
	add(1, M, "f");
	ck_assert_uint_eq(take_all(), 2);
	expect(0, 1, M, "f");
	expect(1, 2, M, "f");
}
END_TEST

START_TEST(renames_paired_and_ordered)
{
	add(1, M, "a");
	wcoal_add_rename(coal, 1000, 1, "a", "b", false);
	add(1, M, "b");
	add(1, M, "a");   /* a new "a" after the rename */
	wcoal_add_rename(coal, 1000, 1, "b", "c", false);
	ck_assert_uint_eq(take_all(), 7);
	expect(0, 1, M, "a");
	expect(1, 1, RF, "a");
	expect(2, 1, RT, "b");
	expect(3, 1, M, "b");
	expect(4, 1, M, "a");
	expect(5, 1, RF, "b");
	expect(6, 1, RT, "c");
	ck_assert_uint_ne(out[1].cookie, 0);
	ck_assert_uint_eq(out[1].cookie, out[2].cookie);
	ck_assert_uint_ne(out[5].cookie, out[1].cookie);
}
END_TEST

START_TEST(rename_is_structural)
{
	/* a modify after a rename to the path is kept, a delete after it
	 * does not cancel anything before the rename */
	add(1, C, "tmp");
	add(1, M, "tmp");
	wcoal_add_rename(coal, 1000, 1, "tmp", "file", false);
	add(1, M, "file");
	add(1, D, "file");
	ck_assert_uint_eq(take_all(), 4);
	expect(0, 1, C, "tmp");
	expect(1, 1, RF, "tmp");
	expect(2, 1, RT, "file");
	expect(3, 1, D, "file");
}
END_TEST

START_TEST(batches_never_split_a_pair)
{
	add(1, M, "x");
	add(1, M, "y");
	wcoal_add_rename(coal, 1000, 1, "a", "b", true);
	add(1, M, "z");
	struct fs_change b[3];
	size_t n = wcoal_take(coal, b, 3);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(b[1].path, "y");
	wcoal_batch_free(b, n);
	n = wcoal_take(coal, b, 3);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(b[0].kind, RF);
	ck_assert_int_eq(b[1].kind, RT);
	ck_assert(b[0].is_dir && b[1].is_dir);
	ck_assert_str_eq(b[2].path, "z");
	wcoal_batch_free(b, n);
	ck_assert_uint_eq(wcoal_count(coal), 0);
}
END_TEST

START_TEST(rescan_drops_what_it_covers)
{
	add(1, M, "a");
	add(2, M, "a");
	wcoal_add_rename(coal, 1000, 1, "a", "b", false);
	add(1, RS, "");
	add(1, C, "later");     /* covered by the pending rescan */
	wcoal_add_rename(coal, 1000, 1, "x", "y", false);
	add(1, RS, "");         /* one is enough */
	add(2, M, "b");
	ck_assert_uint_eq(take_all(), 3);
	expect(0, 2, M, "a");
	expect(1, 1, RS, "");
	ck_assert(out[1].is_dir);
	expect(2, 2, M, "b");
}
END_TEST

START_TEST(rescan_of_a_folder_keeps_renames_and_others)
{
	add(1, M, "d/f");
	add(1, M, "e/f");
	wcoal_add_rename(coal, 1000, 1, "d/g", "e/g", false);
	add(1, RS, "d");
	add(1, M, "d/h");
	add(1, M, "dd");
	ck_assert_uint_eq(take_all(), 5);
	expect(0, 1, M, "e/f");
	expect(1, 1, RF, "d/g");
	expect(2, 1, RT, "e/g");
	expect(3, 1, RS, "d");
	expect(4, 1, M, "dd");
}
END_TEST

START_TEST(too_many_records_collapse_into_rescan)
{
	wcoal_free(coal);
	coal = wcoal_new(&(struct wcoal_cfg){ .max_pending = 10 });
	add(2, M, "other");
	char p[32];
	for (int i = 0; i < 100; i++) {
		snprintf(p, sizeof(p), "f%d", i);
		add(1, C, p);
	}
	ck_assert_uint_le(wcoal_count(coal), 11);
	take_all();
	expect(0, 2, M, "other");
	bool rescan = false;
	for (size_t i = 0; i < nout; i++)
		rescan |= out[i].mount_id == 1 && out[i].kind == RS && !strcmp(out[i].path, "");
	ck_assert(rescan);
}
END_TEST

START_TEST(window_deadline)
{
	wcoal_free(coal);
	coal = wcoal_new(&(struct wcoal_cfg){ .delay_ms = 30, .max_delay_ms = 100 });
	ck_assert_uint_eq(wcoal_deadline(coal), UINT64_MAX);
	wcoal_add(coal, 1000, 1, M, "f", false);
	ck_assert_uint_eq(wcoal_deadline(coal), 1030);
	wcoal_add(coal, 1020, 1, M, "f", false);   /* merged, still extends */
	ck_assert_uint_eq(wcoal_deadline(coal), 1050);
	wcoal_add(coal, 1090, 1, M, "g", false);
	ck_assert_uint_eq(wcoal_deadline(coal), 1100);   /* the cap */
	take_all();
	ck_assert_uint_eq(wcoal_deadline(coal), UINT64_MAX);
	wcoal_add(coal, 5000, 1, C, "h", false);
	ck_assert_uint_eq(wcoal_deadline(coal), 5030);   /* a new burst */
	wcoal_add(coal, 5001, 1, D, "h", false);         /* cancelled: empty */
	ck_assert_uint_eq(wcoal_deadline(coal), UINT64_MAX);
}
END_TEST

START_TEST(defaults)
{
	wcoal_add(coal, 0, 1, M, "f", false);
	ck_assert_uint_eq(wcoal_deadline(coal), WATCH_DEFAULT_DELAY_MS);
	wcoal_add(coal, 90, 1, M, "f", false);
	ck_assert_uint_eq(wcoal_deadline(coal), WATCH_DEFAULT_MAX_DELAY_MS);
	ck_assert_uint_eq(wcoal_take_lost(coal), 0);
}
END_TEST

START_TEST(ignore_rules)
{
	struct wignore *ig = wignore_new();
	ck_assert(!wignore_match(ig, 1, "f", M, 0));
	wignore_add(ig, 1, "f", FS_CHANGE_BIT(M) | FS_CHANGE_BIT(A), 100);
	ck_assert(wignore_match(ig, 1, "f", M, 50));
	ck_assert(wignore_match(ig, 1, "f", A, 50));
	ck_assert(!wignore_match(ig, 1, "f", D, 50));
	ck_assert(!wignore_match(ig, 2, "f", M, 50));
	ck_assert(!wignore_match(ig, 1, "g", M, 50));
	ck_assert(!wignore_match(ig, 1, "f", M, 100));   /* expired */
	ck_assert(!wignore_match(ig, 1, "f", M, 50));    /* and gone */
	/* more rules than slots: the ones closest to expiry make room */
	char p[32];
	for (int i = 0; i < WATCH_IGNORE_MAX + 10; i++) {
		snprintf(p, sizeof(p), "f%d", i);
		wignore_add(ig, 1, p, FS_CHANGE_BIT(M), 1000 + i);
	}
	ck_assert(!wignore_match(ig, 1, "f0", M, 10));
	snprintf(p, sizeof(p), "f%d", WATCH_IGNORE_MAX + 9);
	ck_assert(wignore_match(ig, 1, p, M, 10));
	wignore_free(ig);
}
END_TEST

static Suite *coalesce_suite(void)
{
	Suite *s = suite_create("fs_watch_coalesce");
	TCase *tc = tcase_create("coalesce");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, repeated_modify_is_one);
	tcase_add_test(tc, order_of_distinct_paths_kept);
	tcase_add_test(tc, create_absorbs_modify_and_attrib);
	tcase_add_test(tc, create_then_delete_cancel);
	tcase_add_test(tc, delete_create_delete_is_delete);
	tcase_add_test(tc, delete_replaces_modify);
	tcase_add_test(tc, delete_then_create_both_kept);
	tcase_add_test(tc, mounts_are_distinct);
	tcase_add_test(tc, renames_paired_and_ordered);
	tcase_add_test(tc, rename_is_structural);
	tcase_add_test(tc, batches_never_split_a_pair);
	tcase_add_test(tc, rescan_drops_what_it_covers);
	tcase_add_test(tc, rescan_of_a_folder_keeps_renames_and_others);
	tcase_add_test(tc, too_many_records_collapse_into_rescan);
	tcase_add_test(tc, window_deadline);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, ignore_rules);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(coalesce_suite)

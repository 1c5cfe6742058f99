/* test_tree.c - one mount's tree driven by hand, without the thread: the
 * watch set (symlinks never followed), the wd map across folder renames,
 * moves waiting for their pair, the IN_Q_OVERFLOW handler fed an injected
 * overflow event, and a watch limit (max_watches) with its later rebuild.
 * inotify queues an event before the system call that caused it returns,
 * so reading right after each change is deterministic. */
#include "../../check_main.h"
#include "daemon/fs/watch/watch_int.h"
#include "watch_test.h"

#include <stdio.h>
#include <sys/inotify.h>

static char root[256], outside[256], buf[512];
static struct wtree *tree;
static struct wcoal *coal;
static struct wsink sink;
static struct fs_change out[1024];
static size_t nout;
static char last_error[1024];

static void on_error(void *opaque, const char *msg)
{
	(void)opaque;
	snprintf(last_error, sizeof(last_error), "%s", msg);
}

/* root: a/b/c/, d/, file, link -> outside/, etc -> /etc;
 * outside: sub/, secret */
static void make_trees(void)
{
	tmp_tree(root, sizeof(root), "tree");
	tmp_tree(outside, sizeof(outside), "outside");
	make_dir(pathf(buf, sizeof(buf), "%s/a", root));
	make_dir(pathf(buf, sizeof(buf), "%s/a/b", root));
	make_dir(pathf(buf, sizeof(buf), "%s/a/b/c", root));
	make_dir(pathf(buf, sizeof(buf), "%s/d", root));
	put_file(pathf(buf, sizeof(buf), "%s/file", root), "x");
	ck_assert_int_eq(symlink(outside, pathf(buf, sizeof(buf), "%s/link", root)), 0);
	ck_assert_int_eq(symlink("/etc", pathf(buf, sizeof(buf), "%s/etc", root)), 0);
	make_dir(pathf(buf, sizeof(buf), "%s/sub", outside));
	put_file(pathf(buf, sizeof(buf), "%s/secret", outside), "s");
}

static void open_tree(unsigned max_watches)
{
	struct fs_watch_err err = { "" };
	tree = wtree_new(7, root, max_watches, on_error, NULL, &err);
	ck_assert_msg(tree != NULL, "wtree_new: %s", err.msg);
}

static void setup(void)
{
	make_trees();
	last_error[0] = '\0';
	coal = wcoal_new(NULL);
	sink = (struct wsink){ .coal = coal, .now_ms = watch_now_ms() };
	nout = 0;
	tree = NULL;
}

static void teardown(void)
{
	wcoal_batch_free(out, nout);
	nout = 0;
	wtree_free(tree);
	wcoal_free(coal);
	rm_tree(root);
	rm_tree(outside);
}

/* Read and handle everything the instance holds. */
static void pump(void)
{
	uint64_t before;
	do {
		before = tree->events;
		ck_assert_int_eq(wtree_read(tree, &sink), 0);
	} while (tree->events != before);
}

static size_t take_all(void)
{
	wcoal_batch_free(out, nout);
	nout = wcoal_take(coal, out, sizeof(out) / sizeof(out[0]));
	return nout;
}

static long find(enum fs_change_kind kind, const char *path)
{
	for (size_t i = 0; i < nout; i++)
		if (out[i].kind == kind && strcmp(out[i].path, path) == 0)
			return (long)i;
	return -1;
}

static void dump(void)
{
	for (size_t i = 0; i < nout; i++)
		fprintf(stderr, "  [%zu] %s '%s'%s\n", i, fs_change_kind_name(out[i].kind),
			out[i].path, out[i].is_dir ? " dir" : "");
}

static void expect_found(enum fs_change_kind kind, const char *path)
{
	if (find(kind, path) < 0)
		dump();
	ck_assert_msg(find(kind, path) >= 0, "no %s '%s'", fs_change_kind_name(kind), path);
}

/* An inotify event as the kernel lays it out, appended to b at *len. */
static void put_event(char *b, size_t *len, int wd, uint32_t mask, uint32_t cookie,
		      const char *name)
{
	size_t nlen = name ? ((strlen(name) + 1 + 15) & ~(size_t)15) : 0;
	struct inotify_event ev = { .wd = wd, .mask = mask, .cookie = cookie, .len = (uint32_t)nlen };
	memcpy(b + *len, &ev, sizeof(ev));
	memset(b + *len + sizeof(ev), 0, nlen);
	if (name)
		memcpy(b + *len + sizeof(ev), name, strlen(name));
	*len += sizeof(ev) + nlen;
}

static int wd_of(const char *rel)
{
	struct wdir *d = wtree_find_path(tree, rel);
	ck_assert_msg(d != NULL, "'%s' is not watched", rel);
	return d->wd;
}

START_TEST(watch_set_never_follows_symlinks)
{
	open_tree(0);
	ck_assert_uint_eq(tree->nwatches, 5);   /* root, a, a/b, a/b/c, d */
	ck_assert_ptr_nonnull(wtree_find_path(tree, "a/b/c"));
	ck_assert_ptr_null(wtree_find_path(tree, "link"));
	ck_assert_ptr_null(wtree_find_path(tree, "etc"));
	/* asked directly, the scan refuses to go through the symlinks too */
	ck_assert_int_eq(wtree_scan(tree, "link", &sink, true), 0);
	ck_assert_int_eq(wtree_scan(tree, "link/sub", &sink, true), 0);
	ck_assert_int_eq(wtree_scan(tree, "etc", &sink, true), 0);
	ck_assert_uint_eq(tree->nwatches, 5);
	ck_assert_uint_eq(take_all(), 0);
	/* changes out there stay unseen */
	put_file(pathf(buf, sizeof(buf), "%s/secret", outside), "changed");
	make_dir(pathf(buf, sizeof(buf), "%s/sub/new", outside));
	pump();
	ck_assert_uint_eq(take_all(), 0);
	/* a new symlink to a folder is an entry, not a folder to watch */
	ck_assert_int_eq(symlink(outside, pathf(buf, sizeof(buf), "%s/a/link2", root)), 0);
	pump();
	take_all();
	expect_found(FS_CHANGE_CREATE, "a/link2");
	ck_assert(!out[find(FS_CHANGE_CREATE, "a/link2")].is_dir);
	ck_assert_uint_eq(tree->nwatches, 5);
}
END_TEST

START_TEST(new_folders_are_watched_and_scanned)
{
	open_tree(0);
	/* mkdir -p x/y/z and a file in z before the watcher reads anything:
	 * the scan of x finds y, z and the file */
	make_dir(pathf(buf, sizeof(buf), "%s/x", root));
	make_dir(pathf(buf, sizeof(buf), "%s/x/y", root));
	make_dir(pathf(buf, sizeof(buf), "%s/x/y/z", root));
	put_file(pathf(buf, sizeof(buf), "%s/x/y/z/f", root), "hi");
	pump();
	take_all();
	expect_found(FS_CHANGE_CREATE, "x");
	expect_found(FS_CHANGE_CREATE, "x/y");
	expect_found(FS_CHANGE_CREATE, "x/y/z");
	expect_found(FS_CHANGE_CREATE, "x/y/z/f");
	ck_assert(out[find(FS_CHANGE_CREATE, "x/y")].is_dir);
	ck_assert_uint_eq(tree->nwatches, 8);
	put_file(pathf(buf, sizeof(buf), "%s/x/y/z/g", root), "later");
	pump();
	take_all();
	expect_found(FS_CHANGE_CREATE, "x/y/z/g");
}
END_TEST

START_TEST(folder_rename_moves_descendants)
{
	open_tree(0);
	char to[512];
	ck_assert_int_eq(rename(pathf(buf, sizeof(buf), "%s/a", root),
				pathf(to, sizeof(to), "%s/d/x", root)), 0);
	pump();
	take_all();
	long i = find(FS_CHANGE_RENAME_FROM, "a");
	ck_assert_int_ge(i, 0);
	ck_assert_int_eq(out[i + 1].kind, FS_CHANGE_RENAME_TO);
	ck_assert_str_eq(out[i + 1].path, "d/x");
	ck_assert(out[i].is_dir && out[i + 1].is_dir);
	ck_assert_ptr_null(wtree_find_path(tree, "a/b/c"));
	ck_assert_ptr_nonnull(wtree_find_path(tree, "d/x/b/c"));
	ck_assert_ptr_nonnull(wtree_find_path(tree, "d/x"));
	put_file(pathf(buf, sizeof(buf), "%s/d/x/b/c/f", root), "hi");
	pump();
	take_all();
	expect_found(FS_CHANGE_CREATE, "d/x/b/c/f");
}
END_TEST

/* Folders created and moved before the watcher read a thing: each ends
 * up watched under the path where it is. */
START_TEST(folder_moved_before_its_create_was_read)
{
	open_tree(0);
	char to[512];
	make_dir(pathf(buf, sizeof(buf), "%s/x", root));
	make_dir(pathf(buf, sizeof(buf), "%s/x/in", root));
	ck_assert_int_eq(rename(pathf(buf, sizeof(buf), "%s/x", root),
				pathf(to, sizeof(to), "%s/y", root)), 0);
	make_dir(pathf(buf, sizeof(buf), "%s/x", root));   /* another x */
	pump();
	take_all();
	expect_found(FS_CHANGE_RENAME_FROM, "x");
	expect_found(FS_CHANGE_RENAME_TO, "y");
	ck_assert_uint_eq(tree->nwatches, 8);   /* 5 + y, y/in, x */
	ck_assert_ptr_nonnull(wtree_find_path(tree, "y/in"));
	ck_assert_ptr_null(wtree_find_path(tree, "x/in"));
	put_file(pathf(buf, sizeof(buf), "%s/y/in/f1", root), "1");
	put_file(pathf(buf, sizeof(buf), "%s/x/f2", root), "2");
	pump();
	take_all();
	expect_found(FS_CHANGE_CREATE, "y/in/f1");
	expect_found(FS_CHANGE_CREATE, "x/f2");
	ck_assert_int_lt(find(FS_CHANGE_CREATE, "x/in/f1"), 0);
}
END_TEST

/* Two folders swap places (renameat2 RENAME_EXCHANGE), and a folder
 * replaces an empty one: every watch ends up under its folder's path. */
START_TEST(exchanged_and_replaced_folders)
{
	open_tree(0);
	char to[512];
	make_dir(pathf(buf, sizeof(buf), "%s/d/e", root));
	pump();
	if (renameat2(AT_FDCWD, pathf(buf, sizeof(buf), "%s/a", root), AT_FDCWD,
		      pathf(to, sizeof(to), "%s/d", root), RENAME_EXCHANGE) < 0) {
		fprintf(stderr, "RENAME_EXCHANGE: %s, skipped\n", strerror(errno));
		return;
	}
	pump();
	take_all();
	ck_assert_ptr_nonnull(wtree_find_path(tree, "d/b/c"));
	ck_assert_ptr_nonnull(wtree_find_path(tree, "a/e"));
	ck_assert_ptr_null(wtree_find_path(tree, "a/b"));
	ck_assert_ptr_null(wtree_find_path(tree, "d/e"));
	ck_assert_uint_eq(tree->nwatches, 6);
	put_file(pathf(buf, sizeof(buf), "%s/d/b/c/f1", root), "1");
	put_file(pathf(buf, sizeof(buf), "%s/a/e/f2", root), "2");
	pump();
	take_all();
	expect_found(FS_CHANGE_CREATE, "d/b/c/f1");
	expect_found(FS_CHANGE_CREATE, "a/e/f2");
	/* a/e (empty) is replaced by d/b */
	ck_assert_int_eq(unlink(pathf(buf, sizeof(buf), "%s/a/e/f2", root)), 0);
	ck_assert_int_eq(rename(pathf(buf, sizeof(buf), "%s/d/b", root),
				pathf(to, sizeof(to), "%s/a/e", root)), 0);
	pump();
	take_all();
	expect_found(FS_CHANGE_RENAME_TO, "a/e");
	ck_assert_uint_eq(tree->nwatches, 5);
	ck_assert_ptr_nonnull(wtree_find_path(tree, "a/e/c"));
	put_file(pathf(buf, sizeof(buf), "%s/a/e/c/f3", root), "3");
	pump();
	take_all();
	expect_found(FS_CHANGE_CREATE, "a/e/c/f3");
}
END_TEST

START_TEST(move_waits_for_its_pair)
{
	open_tree(0);
	char ev[512];
	size_t len = 0;
	put_event(ev, &len, wd_of(""), IN_MOVED_FROM, 77, "p");
	wtree_process(tree, ev, len, &sink);
	ck_assert(tree->move_pending);
	ck_assert_uint_eq(wtree_next_tick(tree), sink.now_ms + WATCH_MOVE_PAIR_MS);
	wtree_tick(tree, &sink);   /* not yet due */
	ck_assert(tree->move_pending);
	ck_assert_uint_eq(take_all(), 0);
	len = 0;   /* its pair comes with the next read */
	put_event(ev, &len, wd_of("d"), IN_MOVED_TO, 77, "q");
	wtree_process(tree, ev, len, &sink);
	ck_assert_uint_eq(take_all(), 2);
	ck_assert_int_eq(out[0].kind, FS_CHANGE_RENAME_FROM);
	ck_assert_str_eq(out[0].path, "p");
	ck_assert_int_eq(out[1].kind, FS_CHANGE_RENAME_TO);
	ck_assert_str_eq(out[1].path, "d/q");
	/* no pair in time: it left the tree */
	len = 0;
	put_event(ev, &len, wd_of("a"), IN_MOVED_FROM, 78, "r");
	wtree_process(tree, ev, len, &sink);
	sink.now_ms += WATCH_MOVE_PAIR_MS;
	wtree_tick(tree, &sink);
	ck_assert(!tree->move_pending);
	ck_assert_uint_eq(take_all(), 1);
	ck_assert_int_eq(out[0].kind, FS_CHANGE_DELETE);
	ck_assert_str_eq(out[0].path, "a/r");
	/* another event than its pair: it left the tree too */
	len = 0;
	put_event(ev, &len, wd_of(""), IN_MOVED_FROM, 79, "s");
	put_event(ev, &len, wd_of(""), IN_CREATE, 0, "t");
	wtree_process(tree, ev, len, &sink);
	ck_assert_uint_eq(take_all(), 2);
	ck_assert_int_eq(out[0].kind, FS_CHANGE_DELETE);
	ck_assert_str_eq(out[0].path, "s");
	ck_assert_int_eq(out[1].kind, FS_CHANGE_CREATE);
	ck_assert_str_eq(out[1].path, "t");
}
END_TEST

START_TEST(moved_out_folder_loses_its_watches)
{
	open_tree(0);
	char to[512];
	ck_assert_int_eq(rename(pathf(buf, sizeof(buf), "%s/a", root),
				pathf(to, sizeof(to), "%s/a", outside)), 0);
	pump();
	sink.now_ms += WATCH_MOVE_PAIR_MS;
	wtree_tick(tree, &sink);
	take_all();
	expect_found(FS_CHANGE_DELETE, "a");
	ck_assert(out[find(FS_CHANGE_DELETE, "a")].is_dir);
	ck_assert_uint_eq(tree->nwatches, 2);   /* root, d */
	put_file(pathf(buf, sizeof(buf), "%s/a/b/c/f", outside), "gone");
	pump();
	ck_assert_uint_eq(take_all(), 0);
	/* and back in: a CREATE of it and of what it holds, watched again */
	ck_assert_int_eq(rename(to, pathf(buf, sizeof(buf), "%s/a", root)), 0);
	pump();
	take_all();
	expect_found(FS_CHANGE_CREATE, "a");
	expect_found(FS_CHANGE_CREATE, "a/b/c/f");
	ck_assert_uint_eq(tree->nwatches, 5);
}
END_TEST

START_TEST(injected_overflow_rebuilds_and_rescans)
{
	open_tree(0);
	wsink_put(&sink, 7, FS_CHANGE_MODIFY, "file", false);   /* superseded */
	int old_ifd = tree->ifd;
	char ev[256];
	size_t len = 0;
	put_event(ev, &len, -1, IN_Q_OVERFLOW, 0, NULL);
	/* after an overflow the rest of the read is the old instance's */
	put_event(ev, &len, 1, IN_CREATE, 0, "ghost");
	wtree_process(tree, ev, len, &sink);
	ck_assert_uint_eq(tree->overflows, 1);
	ck_assert_uint_eq(tree->rescans, 1);
	ck_assert_int_ne(fcntl(tree->ifd, F_GETFD), -1);
	ck_assert_int_eq(fcntl(old_ifd, F_GETFD) == -1 || tree->ifd == old_ifd, 1);
	ck_assert_uint_eq(take_all(), 1);
	ck_assert_int_eq(out[0].kind, FS_CHANGE_RESCAN);
	ck_assert_str_eq(out[0].path, "");
	ck_assert_uint_eq(out[0].mount_id, 7);
	ck_assert_uint_eq(tree->nwatches, 5);
	/* the rebuilt watches work */
	put_file(pathf(buf, sizeof(buf), "%s/a/b/c/new", root), "n");
	pump();
	take_all();
	expect_found(FS_CHANGE_CREATE, "a/b/c/new");
}
END_TEST

START_TEST(watch_limit_degrades_then_rebuilds)
{
	open_tree(3);
	ck_assert(tree->degraded);
	ck_assert_uint_eq(tree->nwatches, 3);
	ck_assert_msg(strstr(last_error, "max_watches") != NULL, "on_error said: %s", last_error);
	ck_assert_uint_eq(wtree_next_tick(tree), tree->retry_at);
	/* while degraded, a folder that cannot be watched asks for a rescan */
	make_dir(pathf(buf, sizeof(buf), "%s/n1", root));
	make_dir(pathf(buf, sizeof(buf), "%s/n2", root));
	pump();
	take_all();
	expect_found(FS_CHANGE_RESCAN, "");
	/* the limit is lifted; at the retry the whole set is rebuilt */
	tree->max_watches = 0;
	sink.now_ms = tree->retry_at;
	wtree_tick(tree, &sink);
	ck_assert(!tree->degraded);
	ck_assert_uint_eq(tree->nwatches, 7);   /* + n1, n2 */
	ck_assert_uint_eq(take_all(), 1);
	ck_assert_int_eq(out[0].kind, FS_CHANGE_RESCAN);
	ck_assert_uint_eq(wtree_next_tick(tree), UINT64_MAX);
}
END_TEST

START_TEST(removed_root_reports_its_contents)
{
	open_tree(0);
	rm_tree(root);
	pump();
	take_all();
	expect_found(FS_CHANGE_DELETE, "a/b/c");
	expect_found(FS_CHANGE_DELETE, "a");
	expect_found(FS_CHANGE_DELETE, "file");
	ck_assert_int_lt(find(FS_CHANGE_DELETE, ""), 0);   /* the root is held open */
	ck_assert(!tree->dead);
	ck_assert_uint_eq(tree->nwatches, 1);
}
END_TEST

START_TEST(bad_roots)
{
	struct fs_watch_err err = { "" };
	ck_assert_ptr_null(wtree_new(1, "/nonexistent/sm-watch", 0, NULL, NULL, &err));
	ck_assert_msg(strstr(err.msg, "/nonexistent/sm-watch") != NULL, "%s", err.msg);
	ck_assert_ptr_null(wtree_new(1, pathf(buf, sizeof(buf), "%s/file", root), 0, NULL,
				     NULL, &err));
	ck_assert_msg(strstr(err.msg, "Not a directory") != NULL, "%s", err.msg);
}
END_TEST

static Suite *tree_suite(void)
{
	Suite *s = suite_create("fs_watch_tree");
	TCase *tc = tcase_create("tree");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, watch_set_never_follows_symlinks);
	tcase_add_test(tc, new_folders_are_watched_and_scanned);
	tcase_add_test(tc, folder_rename_moves_descendants);
	tcase_add_test(tc, folder_moved_before_its_create_was_read);
	tcase_add_test(tc, exchanged_and_replaced_folders);
	tcase_add_test(tc, move_waits_for_its_pair);
	tcase_add_test(tc, moved_out_folder_loses_its_watches);
	tcase_add_test(tc, injected_overflow_rebuilds_and_rescans);
	tcase_add_test(tc, watch_limit_degrades_then_rebuilds);
	tcase_add_test(tc, removed_root_reports_its_contents);
	tcase_add_test(tc, bad_roots);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(tree_suite)

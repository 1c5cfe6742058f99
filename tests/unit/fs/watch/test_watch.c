/* test_watch.c - the whole watcher (fs_watch_*) on real temporary trees:
 * its thread sees creates, writes, attribute changes, deletes and renames
 * of files and folders with the right relative paths; folders made in a
 * burst (mkdir -p, then a file) and renamed folders; symlinks out of the
 * tree are not followed; moves out of and into the tree; 1,000 writes
 * coalesce into a few records; a real inotify queue overflow (the thread
 * held up in emit while more events than max_queued_events pile up)
 * becomes a RESCAN; stop is prompt whatever the window; echo rules;
 * several and overlapping mounts; batch sizes.
 * Tests wait for records with a deadline of 10 s and check what came;
 * "nothing came" is checked behind a later sentinel record. */
#include "../../check_main.h"
#include "watch_test.h"

#include <sys/stat.h>

static char root[256], outside[256], buf[512], buf2[512];
static struct rec_log lg;
static struct fs_watch *w;

static void setup(void)
{
	tmp_tree(root, sizeof(root), "root");
	tmp_tree(outside, sizeof(outside), "out");
	log_init(&lg);
	w = NULL;
}

static void teardown(void)
{
	fs_watch_free(w);
	log_free(&lg);
	rm_tree(root);
	rm_tree(outside);
}

/* A watcher of root as mount 1, running. cfg's emit/opaque are set here. */
static void start_with(struct fs_watch_cfg cfg)
{
	struct fs_watch_err err = { "" };
	cfg.emit = log_emit;
	cfg.opaque = &lg;
	w = fs_watch_new(&cfg, &err);
	ck_assert_msg(w != NULL, "fs_watch_new: %s", err.msg);
	ck_assert_msg(fs_watch_add(w, 1, root, &err) == 0, "fs_watch_add: %s", err.msg);
	ck_assert_msg(fs_watch_start(w, &err) == 0, "fs_watch_start: %s", err.msg);
}

static void start(void)
{
	start_with((struct fs_watch_cfg){ 0 });
}

/* Wait for a record; fail with the log printed if it does not come. */
static long want(size_t from, uint32_t mount, enum fs_change_kind kind, const char *path)
{
	long i = log_wait(&lg, from, mount, kind, path);
	if (i < 0)
		log_dump(&lg, "missing record");
	ck_assert_msg(i >= 0, "no %s '%s' on mount %u within %d ms", fs_change_kind_name(kind),
		      path, mount, WAIT_MS);
	return i;
}

/* A sentinel file in root, waited for: everything before it was handled. */
static size_t sentinel(const char *name)
{
	put_file(pathf(buf2, sizeof(buf2), "%s/%s", root, name), "s");
	return (size_t)want(0, 1, FS_CHANGE_CREATE, name);
}

static bool rec_is_dir(long i)
{
	pthread_mutex_lock(&lg.mu);
	bool d = lg.v[i].is_dir;
	pthread_mutex_unlock(&lg.mu);
	return d;
}

/* Records i and i+1 are a rename pair from -> to in one batch. */
static void check_pair(long i, const char *to, bool is_dir)
{
	pthread_mutex_lock(&lg.mu);
	ck_assert_uint_lt((size_t)i + 1, lg.n);
	struct logged *f = &lg.v[i], *t = &lg.v[i + 1];
	ck_assert_int_eq(t->kind, FS_CHANGE_RENAME_TO);
	ck_assert_str_eq(t->path, to);
	ck_assert_uint_ne(f->cookie, 0);
	ck_assert_uint_eq(f->cookie, t->cookie);
	ck_assert_uint_eq(f->batch, t->batch);
	ck_assert(f->is_dir == is_dir && t->is_dir == is_dir);
	pthread_mutex_unlock(&lg.mu);
}

START_TEST(file_changes)
{
	start();
	put_file(pathf(buf, sizeof(buf), "%s/f", root), "one");
	long i = want(0, 1, FS_CHANGE_CREATE, "f");
	ck_assert(!rec_is_dir(i));
	append_file(buf, "two");
	want(i + 1, 1, FS_CHANGE_MODIFY, "f");
	ck_assert_int_eq(chmod(buf, 0600), 0);
	i = want(0, 1, FS_CHANGE_ATTRIB, "f");
	ck_assert_int_eq(rename(buf, pathf(buf2, sizeof(buf2), "%s/g", root)), 0);
	i = want(i + 1, 1, FS_CHANGE_RENAME_FROM, "f");
	check_pair(i, "g", false);
	ck_assert_int_eq(unlink(buf2), 0);
	i = want(i + 2, 1, FS_CHANGE_DELETE, "g");
	ck_assert(!rec_is_dir(i));
}
END_TEST

/* An editor's save: write a temporary file, rename it over the target. */
START_TEST(atomic_save)
{
	put_file(pathf(buf, sizeof(buf), "%s/target", root), "old");
	start();
	put_file(pathf(buf, sizeof(buf), "%s/.target.tmp", root), "new");
	ck_assert_int_eq(rename(buf, pathf(buf2, sizeof(buf2), "%s/target", root)), 0);
	long i = want(0, 1, FS_CHANGE_RENAME_FROM, ".target.tmp");
	check_pair(i, "target", false);
	long c = want(0, 1, FS_CHANGE_CREATE, ".target.tmp");
	ck_assert_int_lt(c, i);
}
END_TEST

START_TEST(folder_changes)
{
	start();
	make_dir(pathf(buf, sizeof(buf), "%s/d", root));
	long i = want(0, 1, FS_CHANGE_CREATE, "d");
	ck_assert(rec_is_dir(i));
	ck_assert_int_eq(chmod(buf, 0700), 0);
	i = want(i + 1, 1, FS_CHANGE_ATTRIB, "d");
	ck_assert(rec_is_dir(i));
	ck_assert_int_eq(rename(buf, pathf(buf2, sizeof(buf2), "%s/e", root)), 0);
	i = want(i + 1, 1, FS_CHANGE_RENAME_FROM, "d");
	check_pair(i, "e", true);
	ck_assert_int_eq(rmdir(buf2), 0);
	i = want(i + 2, 1, FS_CHANGE_DELETE, "e");
	ck_assert(rec_is_dir(i));
	ck_assert_int_eq(chmod(root, 0711), 0);
	want(0, 1, FS_CHANGE_ATTRIB, "");
}
END_TEST

START_TEST(mkdir_p_then_file_is_seen)
{
	start();
	make_dir(pathf(buf, sizeof(buf), "%s/a", root));
	make_dir(pathf(buf, sizeof(buf), "%s/a/b", root));
	make_dir(pathf(buf, sizeof(buf), "%s/a/b/c", root));
	put_file(pathf(buf, sizeof(buf), "%s/a/b/c/f", root), "race");
	want(0, 1, FS_CHANGE_CREATE, "a");
	want(0, 1, FS_CHANGE_CREATE, "a/b");
	want(0, 1, FS_CHANGE_CREATE, "a/b/c");
	want(0, 1, FS_CHANGE_CREATE, "a/b/c/f");
	put_file(pathf(buf, sizeof(buf), "%s/a/b/c/g", root), "later");
	want(0, 1, FS_CHANGE_CREATE, "a/b/c/g");
	struct fs_watch_stats st;
	fs_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.watches, 4);
	ck_assert_uint_eq(st.mounts, 1);
}
END_TEST

START_TEST(renamed_folder_reports_new_paths)
{
	start();
	make_dir(pathf(buf, sizeof(buf), "%s/d1", root));
	make_dir(pathf(buf, sizeof(buf), "%s/d1/sub", root));
	want(0, 1, FS_CHANGE_CREATE, "d1/sub");
	/* rename, then create inside at once: the paths follow */
	ck_assert_int_eq(rename(pathf(buf, sizeof(buf), "%s/d1", root),
				pathf(buf2, sizeof(buf2), "%s/d2", root)), 0);
	put_file(pathf(buf, sizeof(buf), "%s/d2/x", root), "x");
	put_file(pathf(buf, sizeof(buf), "%s/d2/sub/y", root), "y");
	long i = want(0, 1, FS_CHANGE_RENAME_FROM, "d1");
	check_pair(i, "d2", true);
	want(0, 1, FS_CHANGE_CREATE, "d2/x");
	want(0, 1, FS_CHANGE_CREATE, "d2/sub/y");
	ck_assert_int_lt(log_find(&lg, 0, 1, FS_CHANGE_CREATE, "d1/sub/y"), 0);
	ck_assert_int_lt(log_find(&lg, 0, 1, FS_CHANGE_CREATE, "d1/x"), 0);
	struct fs_watch_stats st;
	fs_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.watches, 3);
}
END_TEST

START_TEST(symlink_out_is_not_followed)
{
	make_dir(pathf(buf, sizeof(buf), "%s/sub", outside));
	ck_assert_int_eq(symlink(outside, pathf(buf, sizeof(buf), "%s/link", root)), 0);
	ck_assert_int_eq(symlink("/etc", pathf(buf, sizeof(buf), "%s/etc", root)), 0);
	start();
	struct fs_watch_stats st;
	fs_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.watches, 1);   /* the root alone */
	put_file(pathf(buf, sizeof(buf), "%s/secret", outside), "s");
	make_dir(pathf(buf, sizeof(buf), "%s/sub/new", outside));
	ck_assert_int_eq(symlink(outside, pathf(buf, sizeof(buf), "%s/link2", root)), 0);
	long i = want(0, 1, FS_CHANGE_CREATE, "link2");
	ck_assert(!rec_is_dir(i));
	size_t end = sentinel("sentinel");
	ck_assert_uint_eq(log_count_under(&lg, 0, end, "link"), 0);
	ck_assert_uint_eq(log_count_under(&lg, 0, end, "etc"), 0);
	fs_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.watches, 1);
}
END_TEST

START_TEST(moves_out_and_in)
{
	start();
	put_file(pathf(buf, sizeof(buf), "%s/f", root), "f");
	want(0, 1, FS_CHANGE_CREATE, "f");
	ck_assert_int_eq(rename(buf, pathf(buf2, sizeof(buf2), "%s/f", outside)), 0);
	long i = want(0, 1, FS_CHANGE_DELETE, "f");
	ck_assert(!rec_is_dir(i));
	/* a folder moves in: it and all it holds are created, and watched */
	make_dir(pathf(buf, sizeof(buf), "%s/m", outside));
	make_dir(pathf(buf, sizeof(buf), "%s/m/n", outside));
	put_file(pathf(buf, sizeof(buf), "%s/m/n/z", outside), "z");
	ck_assert_int_eq(rename(pathf(buf, sizeof(buf), "%s/m", outside),
				pathf(buf2, sizeof(buf2), "%s/m", root)), 0);
	i = want(0, 1, FS_CHANGE_CREATE, "m");
	ck_assert(rec_is_dir(i));
	want(0, 1, FS_CHANGE_CREATE, "m/n");
	want(0, 1, FS_CHANGE_CREATE, "m/n/z");
	put_file(pathf(buf, sizeof(buf), "%s/m/n/w", root), "w");
	want(0, 1, FS_CHANGE_CREATE, "m/n/w");
	/* and out again: a DELETE, and nothing from it afterwards */
	ck_assert_int_eq(rename(pathf(buf, sizeof(buf), "%s/m", root),
				pathf(buf2, sizeof(buf2), "%s/m2", outside)), 0);
	i = want(0, 1, FS_CHANGE_DELETE, "m");
	ck_assert(rec_is_dir(i));
	put_file(pathf(buf, sizeof(buf), "%s/m2/n/q", outside), "q");
	size_t end = sentinel("sentinel");
	ck_assert_uint_eq(log_count_under(&lg, (size_t)i + 1, end, "m"), 0);
	struct fs_watch_stats st;
	fs_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.watches, 1);
}
END_TEST

/* The window is made long enough that the burst's speed cannot matter. */
START_TEST(burst_of_writes_coalesces)
{
	start_with((struct fs_watch_cfg){ .delay_ms = 100, .max_delay_ms = 2000 });
	put_file(pathf(buf, sizeof(buf), "%s/f", root), "");
	long first = want(0, 1, FS_CHANGE_CREATE, "f");
	int fd = open(buf, O_WRONLY | O_APPEND | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
	size_t end = sentinel("sentinel");
	size_t n = log_count_under(&lg, (size_t)first + 1, end, "f");
	if (n < 1 || n > 3)
		log_dump(&lg, "burst");
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, 3);
	ck_assert_int_ge(log_find(&lg, (size_t)first + 1, 1, FS_CHANGE_MODIFY, "f"), 0);
	struct fs_watch_stats st;
	fs_watch_get_stats(w, &st);
	ck_assert_uint_ge(st.events, 2);   /* inotify itself merges repeats */
}
END_TEST

static long read_sysctl(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Wait until the watcher thread sits in emit (held by the gate). */
static void wait_in_emit(void)
{
	uint64_t until = mono_ms() + WAIT_MS;
	pthread_mutex_lock(&lg.mu);
	while (!lg.in_emit && mono_ms() < until) {
		pthread_mutex_unlock(&lg.mu);
		usleep(1000);
		pthread_mutex_lock(&lg.mu);
	}
	bool in = lg.in_emit;
	pthread_mutex_unlock(&lg.mu);
	ck_assert_msg(in, "the watcher never called emit");
}

START_TEST(real_overflow_rescans)
{
	long max = read_sysctl("/proc/sys/fs/inotify/max_queued_events");
	if (max < 0 || max > 1000000) {
		fprintf(stderr, "real_overflow_rescans: max_queued_events %ld, skipped\n", max);
		return;
	}
	make_dir(pathf(buf, sizeof(buf), "%s/d", root));
	int f1 = open(pathf(buf, sizeof(buf), "%s/d/one", root), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	int f2 = open(pathf(buf, sizeof(buf), "%s/d/two", root), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert(f1 >= 0 && f2 >= 0);
	lg.gate_closed = true;
	start_with((struct fs_watch_cfg){ .delay_ms = 1, .max_delay_ms = 1 });
	put_file(pathf(buf, sizeof(buf), "%s/trigger", root), "t");
	wait_in_emit();
	/* alternate names so inotify cannot merge them: max + 1000 events */
	for (long i = 0; i < max / 2 + 500; i++) {
		ck_assert_int_eq(pwrite(f1, "x", 1, 0), 1);
		ck_assert_int_eq(pwrite(f2, "y", 1, 0), 1);
	}
	close(f1);
	close(f2);
	pthread_mutex_lock(&lg.mu);
	lg.gate_closed = false;
	pthread_cond_broadcast(&lg.cv);
	pthread_mutex_unlock(&lg.mu);
	want(0, 1, FS_CHANGE_RESCAN, "");
	struct fs_watch_stats st;
	fs_watch_get_stats(w, &st);
	ck_assert_uint_ge(st.overflows, 1);
	ck_assert_uint_ge(st.rescans, 1);
	ck_assert_uint_eq(st.watches, 2);
	/* watched again after the rebuild */
	make_dir(pathf(buf, sizeof(buf), "%s/d/new", root));
	put_file(pathf(buf, sizeof(buf), "%s/d/new/file", root), "n");
	want(0, 1, FS_CHANGE_CREATE, "d/new/file");
}
END_TEST

START_TEST(stop_is_prompt)
{
	start_with((struct fs_watch_cfg){ .delay_ms = 60000, .max_delay_ms = 60000 });
	put_file(pathf(buf, sizeof(buf), "%s/f", root), "f");
	struct fs_watch_stats st = { 0 };
	for (uint64_t until = mono_ms() + WAIT_MS; st.events == 0 && mono_ms() < until;) {
		usleep(1000);
		fs_watch_get_stats(w, &st);
	}
	ck_assert_uint_gt(st.events, 0);
	uint64_t t0 = mono_ms();
	fs_watch_stop(w);
	uint64_t took = mono_ms() - t0;
	ck_assert_msg(took < 5000, "stop took %llu ms", (unsigned long long)took);
	ck_assert_uint_eq(log_count(&lg), 0);   /* the window never closed */
	fs_watch_stop(w);   /* again: nothing to do */
	/* and it starts again */
	struct fs_watch_err err;
	ck_assert_int_eq(fs_watch_start(w, &err), 0);
	ck_assert_int_eq(fs_watch_start(w, &err), -1);
}
END_TEST

START_TEST(echo_rules)
{
	start();
	put_file(pathf(buf, sizeof(buf), "%s/f", root), "f");
	long i = want(0, 1, FS_CHANGE_CREATE, "f");
	fs_watch_ignore(w, 1, "f", 1u << FS_CHANGE_MODIFY, 60000);
	append_file(buf, "echo");
	ck_assert_int_eq(chmod(buf, 0600), 0);
	size_t at = (size_t)want(i + 1, 1, FS_CHANGE_ATTRIB, "f");
	size_t end = sentinel("sentinel");
	ck_assert_int_lt(log_find(&lg, (size_t)i + 1, 1, FS_CHANGE_MODIFY, "f"), 0);
	ck_assert_uint_lt(at, end);
}
END_TEST

START_TEST(several_mounts)
{
	char root2[256];
	tmp_tree(root2, sizeof(root2), "root2");
	make_dir(pathf(buf, sizeof(buf), "%s/a", root));
	start();
	struct fs_watch_err err = { "" };
	ck_assert_msg(fs_watch_add(w, 2, root2, &err) == 0, "%s", err.msg);
	/* mount 3 overlaps mount 1: each sees its own paths */
	ck_assert_msg(fs_watch_add(w, 3, pathf(buf, sizeof(buf), "%s/a", root), &err) == 0,
		      "%s", err.msg);
	put_file(pathf(buf, sizeof(buf), "%s/a/f", root), "f");
	put_file(pathf(buf, sizeof(buf), "%s/g", root2), "g");
	want(0, 1, FS_CHANGE_CREATE, "a/f");
	want(0, 3, FS_CHANGE_CREATE, "f");
	want(0, 2, FS_CHANGE_CREATE, "g");
	ck_assert_int_lt(log_find(&lg, 0, 1, FS_CHANGE_CREATE, "g"), 0);
	struct fs_watch_stats st;
	fs_watch_get_stats(w, &st);
	ck_assert_uint_eq(st.mounts, 3);
	ck_assert_uint_eq(st.watches, 4);
	/* errors say what is wrong */
	ck_assert_int_eq(fs_watch_add(w, 2, root, &err), -1);
	ck_assert_msg(strstr(err.msg, "already") != NULL, "%s", err.msg);
	ck_assert_int_eq(fs_watch_add(w, 4, "/nonexistent/sm-watch", &err), -1);
	ck_assert_msg(strstr(err.msg, "/nonexistent/sm-watch") && strstr(err.msg, "mount 4"),
		      "%s", err.msg);
	rm_tree(root2);
}
END_TEST

START_TEST(batches_are_bounded)
{
	start_with((struct fs_watch_cfg){ .delay_ms = 200, .max_delay_ms = 2000, .max_batch = 4 });
	for (int i = 0; i < 20; i++)
		put_file(pathf(buf, sizeof(buf), "%s/f%02d", root, i), "x");
	for (int i = 0; i < 20; i++)
		want(0, 1, FS_CHANGE_CREATE, pathf(buf, sizeof(buf), "f%02d", i));
	ck_assert_uint_le(lg.max_batch_seen, 4);
	/* in order */
	pthread_mutex_lock(&lg.mu);
	const char *prev = "";
	for (size_t i = 0; i < lg.n; i++) {
		if (lg.v[i].kind != FS_CHANGE_CREATE)
			continue;
		ck_assert_str_lt(prev, lg.v[i].path);
		prev = lg.v[i].path;
	}
	pthread_mutex_unlock(&lg.mu);
}
END_TEST

START_TEST(removed_root)
{
	make_dir(pathf(buf, sizeof(buf), "%s/a", root));
	start();
	rm_tree(root);
	long i = want(0, 1, FS_CHANGE_DELETE, "a");
	ck_assert(rec_is_dir(i));
}
END_TEST

START_TEST(bad_config)
{
	struct fs_watch_err err = { "" };
	ck_assert_ptr_null(fs_watch_new(&(struct fs_watch_cfg){ 0 }, &err));
	ck_assert_msg(strstr(err.msg, "emit") != NULL, "%s", err.msg);
	fs_watch_free(NULL);
}
END_TEST

static Suite *watch_suite(void)
{
	Suite *s = suite_create("fs_watch");
	TCase *tc = tcase_create("watch");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, file_changes);
	tcase_add_test(tc, atomic_save);
	tcase_add_test(tc, folder_changes);
	tcase_add_test(tc, mkdir_p_then_file_is_seen);
	tcase_add_test(tc, renamed_folder_reports_new_paths);
	tcase_add_test(tc, symlink_out_is_not_followed);
	tcase_add_test(tc, moves_out_and_in);
	tcase_add_test(tc, burst_of_writes_coalesces);
	tcase_add_test(tc, real_overflow_rescans);
	tcase_add_test(tc, stop_is_prompt);
	tcase_add_test(tc, echo_rules);
	tcase_add_test(tc, several_mounts);
	tcase_add_test(tc, batches_are_bounded);
	tcase_add_test(tc, removed_root);
	tcase_add_test(tc, bad_config);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(watch_suite)

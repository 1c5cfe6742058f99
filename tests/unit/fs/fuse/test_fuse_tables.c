/* test_fuse_tables.c - the node and handle tables: one node per inode,
 * FORGET really frees (the count goes back down), the caps refuse with
 * ENFILE and recover, 100k lookups/forgets and open/release cycles keep
 * the tables small, DESTROY and INIT free everything, concurrent queues
 * (threads) racing lookups, forgets, reads and releases end with nothing
 * live and no ASan report, and large requests cut into 1-byte iovecs
 * move their data intact.
 */
#include "../../check_main.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOT FUSE_ROOT_ID

static struct th t;

static void teardown(void)
{
	th_teardown(&t);
}

static void make_files(int n)
{
	char name[64];
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "root/file%d", i);
		th_host_write(&t, name, name + 5);
	}
}

static struct fs_server_stats stats(void)
{
	struct fs_server_stats st;
	fs_server_get_stats(t.srv, &st);
	return st;
}

START_TEST(dedup_and_forget)
{
	th_setup(&t, NULL);
	th_host_write(&t, "root/f", "x");
	th_host_mkdir(&t, "root/d");
	char p[PATH_MAX], q[PATH_MAX];
	snprintf(p, sizeof(p), "%s/f", t.root);
	snprintf(q, sizeof(q), "%s/d/hard", t.root);
	ck_assert_int_eq(link(p, q), 0);
	struct fuse_entry_out a, b, c, d, h;
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &a), 0);
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &b), 0);
	ck_assert_int_eq(th_lookup(&t, ROOT, "d", &d), 0);
	ck_assert_int_eq(th_lookup(&t, d.nodeid, "hard", &h), 0);
	ck_assert_uint_eq(a.nodeid, b.nodeid);
	ck_assert_uint_eq(a.nodeid, h.nodeid); /* a hard link is the same node */
	ck_assert_int_eq(th_nodes(&t), 3);
	th_forget(&t, a.nodeid, 2);
	struct fuse_attr attr;
	ck_assert_int_eq(th_getattr(&t, a.nodeid, &attr), 0);
	th_forget(&t, a.nodeid, 1);
	ck_assert_int_eq(th_getattr(&t, a.nodeid, &attr), -ENOENT);
	ck_assert_int_eq(th_nodes(&t), 2);
	/* A forget of more than was looked up just frees. */
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &c), 0);
	ck_assert_uint_ne(c.nodeid, a.nodeid); /* a new generation */
	th_forget(&t, c.nodeid, 1000);
	th_forget(&t, d.nodeid, 1);
	ck_assert_int_eq(th_nodes(&t), 1);
	/* An open handle does not keep a forgotten node's ID valid, and
	 * still works itself. */
	uint64_t fh;
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &a), 0);
	ck_assert_int_eq(th_open(&t, a.nodeid, O_RDONLY, &fh), 0);
	th_forget(&t, a.nodeid, 1);
	char buf[4];
	ck_assert_int_eq(th_read(&t, a.nodeid, fh, 0, buf, 1), 1);
	ck_assert_int_eq(th_release(&t, a.nodeid, fh), 0);
	ck_assert_int_eq(th_nodes(&t), 1);
}
END_TEST

START_TEST(hundred_thousand_lookups)
{
	th_setup(&t, NULL);
	make_files(200);
	uint64_t ids[200];
	int errors = 0;
	for (int i = 0; i < 100000; i++) {
		char name[32];
		snprintf(name, sizeof(name), "file%d", i % 200);
		struct fuse_entry_out e;
		if (th_quick(t.srv, FUSE_LOOKUP, ROOT, name, strlen(name) + 1, &e, sizeof(e), NULL) != 0)
			errors++;
		ids[i % 200] = e.nodeid;
		if (i % 200 == 199) { /* forget a batch, as the guest does */
			struct th_buf b = { 0 };
			struct fuse_batch_forget_in bi = { .count = 200 };
			th_put(&b, &bi, sizeof(bi));
			for (int k = 0; k < 200; k++) {
				struct fuse_forget_one one = { ids[k], 1 };
				th_put(&b, &one, sizeof(one));
			}
			th_call(&t, FUSE_BATCH_FORGET, 0, b.p, b.len, NULL, 0, NULL);
			th_buf_free(&b);
			errors += stats().nodes != 1;
		}
	}
	ck_assert_int_eq(errors, 0);
	struct fs_server_stats st = stats();
	ck_assert_uint_eq(st.nodes, 1);
	ck_assert_uint_le(st.node_slots, 256);
	/* Open/release cycles. */
	struct fuse_entry_out e;
	ck_assert_int_eq(th_lookup(&t, ROOT, "file1", &e), 0);
	for (int i = 0; i < 100000; i++) {
		struct fuse_open_in oi = { .flags = O_RDONLY };
		struct fuse_open_out oo;
		if (th_quick(t.srv, FUSE_OPEN, e.nodeid, &oi, sizeof(oi), &oo, sizeof(oo), NULL) != 0)
			errors++;
		struct fuse_release_in rel = { .fh = oo.fh };
		if (th_quick(t.srv, FUSE_RELEASE, e.nodeid, &rel, sizeof(rel), NULL, 0, NULL) != 0)
			errors++;
	}
	ck_assert_int_eq(errors, 0);
	st = stats();
	ck_assert_uint_eq(st.handles, 0);
	ck_assert_uint_le(st.handle_slots, 32);
}
END_TEST

START_TEST(node_cap)
{
	struct fs_server_opts o = { .max_nodes = 8 };
	th_setup(&t, &o);
	make_files(10);
	struct fuse_entry_out e[10], x;
	char name[32];
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "file%d", i);
		ck_assert_int_eq(th_lookup(&t, ROOT, name, &e[i]), 0);
	}
	ck_assert_int_eq(th_lookup(&t, ROOT, "file7", &x), -ENFILE);
	ck_assert_int_eq(th_lookup(&t, ROOT, "file0", &x), 0); /* a known inode needs no slot */
	ck_assert_int_eq(th_mkdir(&t, ROOT, "dir", 0755, &x), -ENFILE);
	uint64_t fh;
	ck_assert_int_eq(th_create(&t, ROOT, "new", O_RDWR, 0644, &x, &fh), -ENFILE);
	ck_assert_int_eq(th_handles(&t), 0);
	/* READDIRPLUS at the cap: entries without nodes, no crash. */
	uint64_t dh;
	ck_assert_int_eq(th_opendir(&t, ROOT, &dh), 0);
	struct fuse_read_in ri = { .fh = dh, .size = 4096 };
	uint8_t buf[4096];
	size_t n;
	ck_assert_int_eq(th_call(&t, FUSE_READDIRPLUS, ROOT, &ri, sizeof(ri), buf, sizeof(buf), &n), 0);
	ck_assert_uint_gt(n, 0);
	int with_node = 0, without = 0;
	for (size_t pos = 0; pos < n;) { /* forget what it looked up */
		struct fuse_direntplus dp;
		memcpy(&dp, buf + pos, sizeof(dp));
		if (dp.entry_out.nodeid)
			th_forget(&t, dp.entry_out.nodeid, 1);
		with_node += dp.entry_out.nodeid != 0;
		without += dp.entry_out.nodeid == 0;
		pos += FUSE_DIRENTPLUS_SIZE(&dp);
	}
	ck_assert_int_eq(with_node, 7);  /* the nodes already there */
	ck_assert_int_eq(without, 7); /* ".", "..", file7-9, dir, new */
	ck_assert_int_eq(th_releasedir(&t, ROOT, dh), 0);
	ck_assert_uint_eq(stats().nodes, 8);
	ck_assert_uint_le(stats().node_slots, 8);
	th_forget(&t, e[1].nodeid, 1);
	ck_assert_int_eq(th_lookup(&t, ROOT, "file7", &x), 0);
}
END_TEST

START_TEST(handle_cap)
{
	struct fs_server_opts o = { .max_handles = 4 };
	th_setup(&t, &o);
	make_files(1);
	struct fuse_entry_out e;
	ck_assert_int_eq(th_lookup(&t, ROOT, "file0", &e), 0);
	uint64_t fh[4], x;
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(th_open(&t, e.nodeid, O_RDONLY, &fh[i]), 0);
	ck_assert_int_eq(th_opendir(&t, ROOT, &fh[3]), 0);
	ck_assert_int_eq(th_open(&t, e.nodeid, O_RDONLY, &x), -ENFILE);
	ck_assert_int_eq(th_opendir(&t, ROOT, &x), -ENFILE);
	ck_assert_int_eq(th_release(&t, e.nodeid, fh[0]), 0);
	ck_assert_int_eq(th_open(&t, e.nodeid, O_RDONLY, &x), 0);
	ck_assert_uint_ne(x, fh[0]); /* the slot's next handle is another fh */
	ck_assert_uint_le(stats().handle_slots, 4);
}
END_TEST

START_TEST(destroy_and_init_free)
{
	th_setup(&t, NULL);
	make_files(5);
	struct fuse_entry_out e;
	uint64_t fh, dh;
	ck_assert_int_eq(th_lookup(&t, ROOT, "file0", &e), 0);
	ck_assert_int_eq(th_open(&t, e.nodeid, O_RDONLY, &fh), 0);
	ck_assert_int_eq(th_opendir(&t, ROOT, &dh), 0);
	ck_assert_int_eq(th_call(&t, FUSE_DESTROY, 0, NULL, 0, NULL, 0, NULL), 0);
	ck_assert_uint_eq(stats().nodes, 1);
	ck_assert_uint_eq(stats().handles, 0);
	struct fuse_init_out io;
	ck_assert_int_eq(th_init(&t, 7, 38, 0, &io), 0);
	struct fuse_attr a;
	ck_assert_int_eq(th_getattr(&t, e.nodeid, &a), -ENOENT);
	char buf[4];
	ck_assert_int_eq(th_read(&t, e.nodeid, fh, 0, buf, 1), -EBADF);
	/* A rebooted guest sends INIT without DESTROY. */
	ck_assert_int_eq(th_lookup(&t, ROOT, "file1", &e), 0);
	ck_assert_int_eq(th_open(&t, e.nodeid, O_RDONLY, &fh), 0);
	ck_assert_int_eq(th_init(&t, 7, 38, 0, &io), 0);
	ck_assert_uint_eq(stats().nodes, 1);
	ck_assert_uint_eq(stats().handles, 0);
}
END_TEST

/* Large WRITE and READ with every byte in its own iovec. */
START_TEST(big_io_split_bytewise)
{
	th_setup(&t, NULL);
	size_t n = 200 * 1024 + 7;
	uint8_t *data = malloc(n), *back = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 31 + (i >> 8));
	struct fuse_entry_out e;
	uint64_t fh;
	ck_assert_int_eq(th_create(&t, ROOT, "big", O_RDWR, 0644, &e, &fh), 0);
	static const size_t splits[] = { 1, 4093, 65537 };
	for (size_t s = 0; s < 3; s++) {
		t.split = splits[s];
		ck_assert_int_eq(th_write(&t, e.nodeid, fh, 0, data, n), (ssize_t)n);
		memset(back, 0, n);
		ck_assert_int_eq(th_read(&t, e.nodeid, fh, 0, back, n), (ssize_t)n);
		ck_assert(memcmp(data, back, n) == 0);
	}
	t.split = 0;
	struct stat st;
	th_host_lstat(&t, "root/big", &st);
	ck_assert_int_eq(st.st_size, (off_t)n);
	ck_assert_int_eq(th_release(&t, e.nodeid, fh), 0);
	free(data);
	free(back);
}
END_TEST

/* ---- concurrency: callers without libcheck asserts (threads) ---- */

struct worker {
	struct fs_server *srv;
	int id;
	int errors;
	uint64_t shared_fh; /* a handle released by another thread mid-way */
	uint64_t shared_node;
};

static void one_round(struct worker *w, int i)
{
	char name[32];
	snprintf(name, sizeof(name), "file%d", (i * 7 + w->id) % 16);
	struct fuse_entry_out e;
	if (th_quick(w->srv, FUSE_LOOKUP, ROOT, name, strlen(name) + 1, &e, sizeof(e), NULL) != 0) {
		w->errors++;
		return;
	}
	struct fuse_open_in oi = { .flags = O_RDONLY };
	struct fuse_open_out oo;
	if (th_quick(w->srv, FUSE_OPEN, e.nodeid, &oi, sizeof(oi), &oo, sizeof(oo), NULL) != 0)
		w->errors++;
	struct fuse_read_in ri = { .fh = oo.fh, .size = 32 };
	char buf[32];
	size_t n = 0;
	if (th_quick(w->srv, FUSE_READ, e.nodeid, &ri, sizeof(ri), buf, sizeof(buf), &n) != 0 ||
	    n != strlen(name) || memcmp(buf, name, n) != 0)
		w->errors++;
	struct fuse_release_in rel = { .fh = oo.fh };
	if (th_quick(w->srv, FUSE_RELEASE, e.nodeid, &rel, sizeof(rel), NULL, 0, NULL) != 0)
		w->errors++;
	struct fuse_forget_in fi = { .nlookup = 1 };
	th_quick(w->srv, FUSE_FORGET, e.nodeid, &fi, sizeof(fi), NULL, 0, NULL);
}

/* READDIRPLUS through the root, forgetting what it looked up. */
static void list_round(struct worker *w)
{
	struct fuse_open_in oi = { 0 };
	struct fuse_open_out oo;
	if (th_quick(w->srv, FUSE_OPENDIR, ROOT, &oi, sizeof(oi), &oo, sizeof(oo), NULL) != 0) {
		w->errors++;
		return;
	}
	uint8_t buf[4096];
	size_t n = 0;
	struct fuse_read_in ri = { .fh = oo.fh, .size = sizeof(buf) };
	if (th_quick(w->srv, FUSE_READDIRPLUS, ROOT, &ri, sizeof(ri), buf, sizeof(buf), &n) != 0)
		w->errors++;
	for (size_t pos = 0; pos + sizeof(struct fuse_direntplus) <= n;) {
		struct fuse_direntplus dp;
		memcpy(&dp, buf + pos, sizeof(dp));
		struct fuse_forget_in fi = { .nlookup = 1 };
		if (dp.entry_out.nodeid)
			th_quick(w->srv, FUSE_FORGET, dp.entry_out.nodeid, &fi, sizeof(fi), NULL, 0, NULL);
		pos += FUSE_DIRENTPLUS_SIZE(&dp);
	}
	struct fuse_release_in rel = { .fh = oo.fh };
	if (th_quick(w->srv, FUSE_RELEASEDIR, ROOT, &rel, sizeof(rel), NULL, 0, NULL) != 0)
		w->errors++;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 1500; i++) {
		if (w->id == 0 && i % 10 == 0)
			list_round(w);
		else
			one_round(w, i);
		if (w->id == 1 && i == 700) { /* release the shared handle under the readers */
			struct fuse_release_in rel = { .fh = w->shared_fh };
			if (th_quick(w->srv, FUSE_RELEASE, w->shared_node, &rel, sizeof(rel), NULL, 0, NULL))
				w->errors++;
		}
		if (w->id >= 2) { /* reads of the shared handle: data, or EBADF once released */
			struct fuse_read_in ri = { .fh = w->shared_fh, .size = 8 };
			char buf[8];
			int e = th_quick(w->srv, FUSE_READ, w->shared_node, &ri, sizeof(ri), buf, sizeof(buf), NULL);
			if (e != 0 && e != -EBADF)
				w->errors++;
		}
	}
	return NULL;
}

START_TEST(concurrent_queues)
{
	th_setup(&t, NULL);
	make_files(16);
	struct fuse_entry_out e;
	uint64_t fh;
	ck_assert_int_eq(th_lookup(&t, ROOT, "file0", &e), 0);
	ck_assert_int_eq(th_open(&t, e.nodeid, O_RDONLY, &fh), 0);
	enum { N = 6 };
	struct worker w[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		w[i] = (struct worker){ .srv = t.srv, .id = i, .shared_fh = fh, .shared_node = e.nodeid };
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(w[i].errors == 0, "worker %d: %d errors", i, w[i].errors);
	}
	th_forget(&t, e.nodeid, 1);
	ck_assert_uint_eq(stats().nodes, 1);
	ck_assert_uint_eq(stats().handles, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fuse_tables");
	TCase *tc = tcase_create("tables");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, dedup_and_forget);
	tcase_add_test(tc, hundred_thousand_lookups);
	tcase_add_test(tc, node_cap);
	tcase_add_test(tc, handle_cap);
	tcase_add_test(tc, destroy_and_init_free);
	tcase_add_test(tc, big_io_split_bytewise);
	tcase_add_test(tc, concurrent_queues);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)

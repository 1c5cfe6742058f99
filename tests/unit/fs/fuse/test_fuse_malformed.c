/* test_fuse_malformed.c - requests a guest could send on purpose: short
 * or lying headers, every op's arguments cut short, names without NUL or
 * too long, unknown opcodes, node IDs and handles that are not (or no
 * longer) valid, reply buffers too small, and a fuzz pass of random and
 * mutated requests. Each gets an errno reply (checked) or, for FORGET,
 * no reply - never a crash or a stray byte (the build runs under ASan).
 */
#include "../../check_main.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOT FUSE_ROOT_ID

static struct th t;

static void setup(void)
{
	th_setup(&t, NULL);
}

static void teardown(void)
{
	th_teardown(&t);
}

/* Send raw bytes; returns the reply's error, asserting a well-formed reply
 * of exactly a header (or nothing when expect_none). */
static int raw_error(const void *req, size_t len, size_t outcap, uint64_t unique)
{
	uint8_t out[256];
	ck_assert_uint_le(outcap, sizeof(out));
	size_t got = th_raw(&t, req, len, out, outcap);
	ck_assert_uint_eq(got, sizeof(struct fuse_out_header));
	struct fuse_out_header oh;
	memcpy(&oh, out, sizeof(oh));
	ck_assert_uint_eq(oh.len, got);
	ck_assert_uint_eq(oh.unique, unique);
	return oh.error;
}

START_TEST(short_and_lying_headers)
{
	struct fuse_in_header h = { .len = sizeof(h), .opcode = FUSE_GETATTR, .unique = 77, .nodeid = ROOT };
	ck_assert_int_eq(raw_error(&h, 10, 64, 0), -EINVAL); /* not even a header */
	ck_assert_int_eq(raw_error(&h, 0, 64, 0), -EINVAL);
	uint8_t buf[sizeof(h) + sizeof(struct fuse_getattr_in)] = { 0 };
	h.len = sizeof(buf) + 10; /* claims more than is there */
	memcpy(buf, &h, sizeof(h));
	ck_assert_int_eq(raw_error(buf, sizeof(buf), 64, 77), -EINVAL);
	h.len = 20; /* less than a header */
	memcpy(buf, &h, sizeof(h));
	ck_assert_int_eq(raw_error(buf, sizeof(buf), 64, 77), -EINVAL);
	h.len = sizeof(h); /* no room for GETATTR's arguments */
	memcpy(buf, &h, sizeof(h));
	ck_assert_int_eq(raw_error(buf, sizeof(buf), 64, 77), -EINVAL);
	h.len = 0xffffffffu;
	memcpy(buf, &h, sizeof(h));
	ck_assert_int_eq(raw_error(buf, sizeof(buf), 64, 77), -EINVAL);
}
END_TEST

/* A LOOKUP whose header len ends before the name's NUL fails; one whose
 * buffer holds bytes beyond its len works on what len covers. */
START_TEST(len_shorter_than_buffer)
{
	th_host_write(&t, "root/abc", "");
	struct th_buf b = { 0 };
	th_request(&t, &b, FUSE_LOOKUP, ROOT, "abcdef", 7);
	struct fuse_in_header h;
	memcpy(&h, b.p, sizeof(h));
	h.len = sizeof(h) + 3; /* "abc" without NUL */
	memcpy(b.p, &h, sizeof(h));
	ck_assert_int_eq(raw_error(b.p, b.len, 256, h.unique), -EINVAL);
	th_buf_free(&b);
	th_request(&t, &b, FUSE_LOOKUP, ROOT, "abc\0junkjunk", 12);
	memcpy(&h, b.p, sizeof(h));
	h.len = sizeof(h) + 4;
	memcpy(b.p, &h, sizeof(h));
	uint8_t out[256];
	size_t got = th_raw(&t, b.p, b.len, out, sizeof(out));
	ck_assert_uint_eq(got, sizeof(struct fuse_out_header) + sizeof(struct fuse_entry_out));
	th_buf_free(&b);
	ck_assert_int_eq(th_nodes(&t), 2);
}
END_TEST

static const struct {
	uint32_t op;
	size_t size;
} fixed_args[] = {
	{ FUSE_GETATTR, sizeof(struct fuse_getattr_in) },
	{ FUSE_SETATTR, sizeof(struct fuse_setattr_in) },
	{ FUSE_MKNOD, sizeof(struct fuse_mknod_in) },
	{ FUSE_MKDIR, sizeof(struct fuse_mkdir_in) },
	{ FUSE_RENAME, sizeof(struct fuse_rename_in) },
	{ FUSE_LINK, sizeof(struct fuse_link_in) },
	{ FUSE_OPEN, sizeof(struct fuse_open_in) },
	{ FUSE_READ, sizeof(struct fuse_read_in) },
	{ FUSE_WRITE, sizeof(struct fuse_write_in) },
	{ FUSE_RELEASE, sizeof(struct fuse_release_in) },
	{ FUSE_FSYNC, sizeof(struct fuse_fsync_in) },
	{ FUSE_SETXATTR, 8 },
	{ FUSE_GETXATTR, sizeof(struct fuse_getxattr_in) },
	{ FUSE_LISTXATTR, sizeof(struct fuse_getxattr_in) },
	{ FUSE_FLUSH, sizeof(struct fuse_flush_in) },
	{ FUSE_INIT, 16 },
	{ FUSE_OPENDIR, sizeof(struct fuse_open_in) },
	{ FUSE_READDIR, sizeof(struct fuse_read_in) },
	{ FUSE_RELEASEDIR, sizeof(struct fuse_release_in) },
	{ FUSE_FSYNCDIR, sizeof(struct fuse_fsync_in) },
	{ FUSE_ACCESS, sizeof(struct fuse_access_in) },
	{ FUSE_CREATE, sizeof(struct fuse_create_in) },
	{ FUSE_FALLOCATE, sizeof(struct fuse_fallocate_in) },
	{ FUSE_READDIRPLUS, sizeof(struct fuse_read_in) },
	{ FUSE_RENAME2, sizeof(struct fuse_rename2_in) },
	{ FUSE_LSEEK, sizeof(struct fuse_lseek_in) },
	{ FUSE_COPY_FILE_RANGE, sizeof(struct fuse_copy_file_range_in) },
};

/* Every op's fixed arguments cut to each shorter length: EINVAL. */
START_TEST(args_cut_short)
{
	uint8_t args[128] = { 0 };
	uint8_t out[4096];
	for (size_t i = 0; i < sizeof(fixed_args) / sizeof(fixed_args[0]); i++) {
		for (size_t n = 0; n < fixed_args[i].size; n++) {
			int e = th_call(&t, fixed_args[i].op, ROOT, args, n, out, sizeof(out), NULL);
			ck_assert_msg(e == -EINVAL, "op %u with %zu of %zu bytes: %d",
				      fixed_args[i].op, n, fixed_args[i].size, e);
		}
	}
	char list[256];
	th_host_list(&t, "root", list, sizeof(list));
	ck_assert_str_eq(list, "");
}
END_TEST

/* Ops with names: every name ends before its NUL. */
START_TEST(names_without_nul)
{
	th_host_write(&t, "root/f", "");
	struct fuse_entry_out f;
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &f), 0);
	static const struct {
		uint32_t op;
		size_t fixed;
		const char *names;
		size_t len;
	} cases[] = {
		{ FUSE_LOOKUP, 0, "abc", 3 },
		{ FUSE_MKDIR, sizeof(struct fuse_mkdir_in), "abc", 3 },
		{ FUSE_MKNOD, sizeof(struct fuse_mknod_in), "abc", 3 },
		{ FUSE_CREATE, sizeof(struct fuse_create_in), "abc", 3 },
		{ FUSE_UNLINK, 0, "f", 1 },
		{ FUSE_RMDIR, 0, "abc", 3 },
		{ FUSE_SYMLINK, 0, "abc", 3 },
		{ FUSE_SYMLINK, 0, "abc\0/etc", 8 },
		{ FUSE_LINK, sizeof(struct fuse_link_in), "abc", 3 },
		{ FUSE_RENAME, sizeof(struct fuse_rename_in), "f", 1 },
		{ FUSE_RENAME, sizeof(struct fuse_rename_in), "f\0g", 3 },
		{ FUSE_RENAME2, sizeof(struct fuse_rename2_in), "f\0g", 3 },
		{ FUSE_SETXATTR, 8, "user.a", 6 },
		{ FUSE_GETXATTR, sizeof(struct fuse_getxattr_in), "user.a", 6 },
		{ FUSE_REMOVEXATTR, 0, "user.a", 6 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct th_buf b = { 0 };
		uint8_t zero[64] = { 0 };
		if (cases[i].op == FUSE_LINK) {
			struct fuse_link_in li = { .oldnodeid = f.nodeid };
			th_put(&b, &li, sizeof(li));
		} else if (cases[i].op == FUSE_RENAME || cases[i].op == FUSE_RENAME2) {
			struct fuse_rename2_in ri = { .newdir = ROOT };
			th_put(&b, &ri, cases[i].fixed);
		} else if (cases[i].op == FUSE_CREATE || cases[i].op == FUSE_MKDIR ||
			   cases[i].op == FUSE_MKNOD) {
			struct fuse_create_in ci = { .flags = O_RDWR, .mode = S_IFREG | 0644 };
			th_put(&b, &ci, cases[i].fixed);
		} else {
			th_put(&b, zero, cases[i].fixed);
		}
		th_put(&b, cases[i].names, cases[i].len);
		uint8_t out[4096];
		int e = th_call(&t, cases[i].op, ROOT, b.p, b.len, out, sizeof(out), NULL);
		ck_assert_msg(e == -EINVAL, "case %zu (op %u): %d", i, cases[i].op, e);
		th_buf_free(&b);
	}
	char list[256];
	th_host_list(&t, "root", list, sizeof(list));
	ck_assert_str_eq(list, "f");
}
END_TEST

START_TEST(names_too_long)
{
	char name[400];
	memset(name, 'a', sizeof(name));
	name[300] = '\0';
	struct fuse_entry_out eo;
	ck_assert_int_eq(th_lookup(&t, ROOT, name, &eo), -ENAMETOOLONG);
	ck_assert_int_eq(th_mkdir(&t, ROOT, name, 0755, &eo), -ENAMETOOLONG);
	name[255] = '\0'; /* NAME_MAX is fine */
	ck_assert_int_eq(th_lookup(&t, ROOT, name, &eo), -ENOENT);
	name[256] = '\0';
	name[255] = 'a';
	ck_assert_int_eq(th_lookup(&t, ROOT, name, &eo), -ENAMETOOLONG);
	/* A symlink target longer than PATH_MAX. */
	char *target = malloc(PATH_MAX + 10);
	memset(target, 'x', PATH_MAX + 9);
	target[PATH_MAX + 9] = '\0';
	ck_assert_int_eq(th_symlink(&t, ROOT, "s", target, &eo), -ENAMETOOLONG);
	free(target);
	ck_assert(!th_host_exists(&t, "root/s"));
}
END_TEST

START_TEST(unknown_opcodes)
{
	static const uint32_t ops[] = { 0, 7, 19, FUSE_GETLK, FUSE_SETLK, FUSE_SETLKW, FUSE_BMAP,
					FUSE_IOCTL, FUSE_POLL, FUSE_NOTIFY_REPLY, FUSE_SETUPMAPPING,
					FUSE_REMOVEMAPPING, FUSE_SYNCFS, FUSE_TMPFILE, 52, 1000,
					CUSE_INIT, FUSE_INIT_BSWAP_RESERVED, 0xffffffffu };
	uint8_t args[64] = { 0 };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		int e = th_call(&t, ops[i], ROOT, args, sizeof(args), NULL, 0, NULL);
		ck_assert_msg(e == -ENOSYS, "opcode %u: %d", ops[i], e);
	}
	/* INTERRUPT is ignored: no reply. */
	struct fuse_interrupt_in ii = { .unique = 1 };
	ck_assert_int_eq(th_call(&t, FUSE_INTERRUPT, 0, &ii, sizeof(ii), NULL, 0, NULL), 0);
}
END_TEST

START_TEST(bad_nodeids)
{
	th_host_write(&t, "root/a", "");
	th_host_write(&t, "root/b", "");
	struct fuse_entry_out a, b;
	ck_assert_int_eq(th_lookup(&t, ROOT, "a", &a), 0);
	th_forget(&t, a.nodeid, 1);
	ck_assert_int_eq(th_lookup(&t, ROOT, "b", &b), 0); /* takes a's slot */
	ck_assert_uint_eq(b.nodeid & 0xffffffffu, a.nodeid & 0xffffffffu);
	ck_assert_uint_ne(b.nodeid, a.nodeid);
	const uint64_t bad[] = { 0, a.nodeid, 2, 0xffffffffull, 1ull << 32 | 1, ~0ull,
				 (1ull << 63) | 5, b.nodeid + 1 };
	struct fuse_attr attr;
	struct fuse_entry_out eo;
	uint64_t fh;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(th_getattr(&t, bad[i], &attr), -ENOENT);
		ck_assert_int_eq(th_lookup(&t, bad[i], "a", &eo), -ENOENT);
		ck_assert_int_eq(th_mkdir(&t, bad[i], "d", 0755, &eo), -ENOENT);
		ck_assert_int_eq(th_open(&t, bad[i], O_RDONLY, &fh), -ENOENT);
		ck_assert_int_eq(th_opendir(&t, bad[i], &fh), -ENOENT);
		ck_assert_int_eq(th_link(&t, bad[i], ROOT, "l", &eo), -ENOENT);
		ck_assert_int_eq(th_rename(&t, ROOT, "a", bad[i], "x", 0), -ENOENT);
		th_forget(&t, bad[i], 1); /* ignored */
	}
	ck_assert_int_eq(th_getattr(&t, b.nodeid, &attr), 0);
	ck_assert(!th_host_exists(&t, "root/d") && !th_host_exists(&t, "root/l"));
	ck_assert(th_host_exists(&t, "root/a"));
	/* The root is never forgotten. */
	th_forget(&t, ROOT, 1000);
	ck_assert_int_eq(th_getattr(&t, ROOT, &attr), 0);
}
END_TEST

START_TEST(bad_handles)
{
	th_host_write(&t, "root/f", "data");
	struct fuse_entry_out f;
	uint64_t fh, dh;
	char buf[16];
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &f), 0);
	ck_assert_int_eq(th_open(&t, f.nodeid, O_RDWR, &fh), 0);
	ck_assert_int_eq(th_opendir(&t, ROOT, &dh), 0);
	const uint64_t bad[] = { 0, 12345, ~0ull, fh + 1, fh ^ (1ull << 32), dh };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(th_read(&t, f.nodeid, bad[i], 0, buf, 4), -EBADF);
		ck_assert_int_eq(th_write(&t, f.nodeid, bad[i], 0, "x", 1), -EBADF);
		struct fuse_flush_in fl = { .fh = bad[i] };
		ck_assert_int_eq(th_call(&t, FUSE_FLUSH, f.nodeid, &fl, sizeof(fl), NULL, 0, NULL), -EBADF);
		struct fuse_fsync_in fs = { .fh = bad[i] };
		ck_assert_int_eq(th_call(&t, FUSE_FSYNC, f.nodeid, &fs, sizeof(fs), NULL, 0, NULL), -EBADF);
		struct fuse_fallocate_in fa = { .fh = bad[i], .length = 1 };
		ck_assert_int_eq(th_call(&t, FUSE_FALLOCATE, f.nodeid, &fa, sizeof(fa), NULL, 0, NULL), -EBADF);
		struct fuse_lseek_in ls = { .fh = bad[i], .whence = SEEK_DATA };
		struct fuse_lseek_out lo;
		ck_assert_int_eq(th_call(&t, FUSE_LSEEK, f.nodeid, &ls, sizeof(ls), &lo, sizeof(lo), NULL), -EBADF);
		struct fuse_copy_file_range_in cf = { .fh_in = fh, .fh_out = bad[i], .len = 1 };
		struct fuse_write_out wo;
		ck_assert_int_eq(th_call(&t, FUSE_COPY_FILE_RANGE, f.nodeid, &cf, sizeof(cf), &wo, sizeof(wo), NULL), -EBADF);
		ck_assert_int_eq(th_release(&t, f.nodeid, bad[i]), -EBADF);
	}
	/* A file handle is not a directory handle. */
	struct fuse_read_in ri = { .fh = fh, .size = 4096 };
	uint8_t dbuf[4096];
	ck_assert_int_eq(th_call(&t, FUSE_READDIR, ROOT, &ri, sizeof(ri), dbuf, sizeof(dbuf), NULL), -EBADF);
	ck_assert_int_eq(th_releasedir(&t, ROOT, fh), -EBADF);
	ck_assert_int_eq(th_release(&t, f.nodeid, fh), 0);
	ck_assert_int_eq(th_read(&t, f.nodeid, fh, 0, buf, 4), -EBADF); /* released */
	ck_assert_int_eq(th_releasedir(&t, ROOT, dh), 0);
	ri.fh = dh;
	ck_assert_int_eq(th_call(&t, FUSE_READDIR, ROOT, &ri, sizeof(ri), dbuf, sizeof(dbuf), NULL), -EBADF);
	ck_assert_int_eq(th_handles(&t), 0);
}
END_TEST

/* Reply buffers too small: nothing (no room for a header), EINVAL (no
 * room for a fixed reply, and no side effect), or a shorter payload. */
START_TEST(small_reply_buffers)
{
	th_host_write(&t, "root/f", "0123456789");
	struct th_buf b = { 0 };
	th_request(&t, &b, FUSE_LOOKUP, ROOT, "f", 2);
	uint8_t out[256];
	ck_assert_uint_eq(th_raw(&t, b.p, b.len, out, 0), 0);
	ck_assert_uint_eq(th_raw(&t, b.p, b.len, out, 15), 0);
	struct fuse_in_header h;
	memcpy(&h, b.p, sizeof(h));
	ck_assert_int_eq(raw_error(b.p, b.len, 16, h.unique), -EINVAL);
	ck_assert_int_eq(raw_error(b.p, b.len, 16 + sizeof(struct fuse_entry_out) - 1, h.unique), -EINVAL);
	ck_assert_int_eq(th_nodes(&t), 1); /* the lookup did not happen */
	th_buf_free(&b);
	struct fuse_create_in ci = { .flags = O_RDWR, .mode = 0644 };
	th_put(&b, &ci, sizeof(ci));
	th_puts(&b, "new");
	struct th_buf r = { 0 };
	th_request(&t, &r, FUSE_CREATE, ROOT, b.p, b.len);
	ck_assert_int_eq(raw_error(r.p, r.len, 16 + sizeof(struct fuse_entry_out), t.unique), -EINVAL);
	ck_assert(!th_host_exists(&t, "root/new"));
	th_buf_free(&b);
	th_buf_free(&r);
	/* READ into 4 bytes of room gets 4 bytes. */
	struct fuse_entry_out f;
	uint64_t fh;
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &f), 0);
	ck_assert_int_eq(th_open(&t, f.nodeid, O_RDONLY, &fh), 0);
	char data[16];
	size_t n;
	struct fuse_read_in ri = { .fh = fh, .offset = 0, .size = 10 };
	ck_assert_int_eq(th_call(&t, FUSE_READ, f.nodeid, &ri, sizeof(ri), data, 4, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_mem_eq(data, "0123", 4);
	/* READDIR with room for no entry; READLINK truncated. */
	uint64_t dh;
	ck_assert_int_eq(th_opendir(&t, ROOT, &dh), 0);
	ri = (struct fuse_read_in){ .fh = dh, .size = 4096 };
	ck_assert_int_eq(th_call(&t, FUSE_READDIR, ROOT, &ri, sizeof(ri), data, 8, &n), -EINVAL);
	ck_assert_int_eq(th_call(&t, FUSE_READDIRPLUS, ROOT, &ri, sizeof(ri), data, 16, &n), -EINVAL);
	ck_assert_int_eq(th_nodes(&t), 2);
	struct fuse_entry_out s;
	ck_assert_int_eq(th_symlink(&t, ROOT, "s", "a-long-target", &s), 0);
	ck_assert_int_eq(th_call(&t, FUSE_READLINK, s.nodeid, NULL, 0, data, 6, &n), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_mem_eq(data, "a-long", 6);
	/* GETXATTR's size query with no room for its answer. */
	struct fuse_getxattr_in gi = { .size = 0 };
	struct th_buf x = { 0 };
	th_put(&x, &gi, sizeof(gi));
	th_puts(&x, "user.none");
	ck_assert_int_eq(th_call(&t, FUSE_GETXATTR, f.nodeid, x.p, x.len, data, 0, &n), -ENODATA);
	th_buf_free(&x);
	ck_assert_int_eq(th_release(&t, f.nodeid, fh), 0);
	ck_assert_int_eq(th_releasedir(&t, ROOT, dh), 0);
}
END_TEST

START_TEST(extensions_and_write_sizes)
{
	th_host_write(&t, "root/f", "");
	/* total_extlen beyond the request: EINVAL; within: skipped. */
	struct th_buf b = { 0 };
	th_request(&t, &b, FUSE_LOOKUP, ROOT, "f\0\0\0\0\0\0\0\0\0", 10);
	struct fuse_in_header h;
	memcpy(&h, b.p, sizeof(h));
	h.total_extlen = 100;
	memcpy(b.p, &h, sizeof(h));
	ck_assert_int_eq(raw_error(b.p, b.len, 256, h.unique), -EINVAL);
	h.total_extlen = 1;
	memcpy(b.p, &h, sizeof(h));
	uint8_t out[256];
	ck_assert_uint_eq(th_raw(&t, b.p, b.len, out, sizeof(out)),
			  sizeof(struct fuse_out_header) + sizeof(struct fuse_entry_out));
	th_buf_free(&b);
	/* WRITE claiming more payload than it carries. */
	struct fuse_entry_out f;
	uint64_t fh;
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &f), 0);
	ck_assert_int_eq(th_open(&t, f.nodeid, O_RDWR, &fh), 0);
	struct fuse_write_in wi = { .fh = fh, .size = 100 };
	th_put(&b, &wi, sizeof(wi));
	th_put(&b, "0123456789", 10);
	struct fuse_write_out wo;
	ck_assert_int_eq(th_call(&t, FUSE_WRITE, f.nodeid, b.p, b.len, &wo, sizeof(wo), NULL), -EINVAL);
	th_buf_free(&b);
	wi.offset = 1ull << 63;
	wi.size = 1;
	th_put(&b, &wi, sizeof(wi));
	th_put(&b, "x", 1);
	ck_assert_int_eq(th_call(&t, FUSE_WRITE, f.nodeid, b.p, b.len, &wo, sizeof(wo), NULL), -EINVAL);
	th_buf_free(&b);
	struct stat st;
	th_host_lstat(&t, "root/f", &st);
	ck_assert_int_eq(st.st_size, 0);
	/* SETXATTR claiming a larger value than it carries. */
	struct { uint32_t size, flags; } si = { 1000, 0 };
	th_put(&b, &si, sizeof(si));
	th_puts(&b, "user.x");
	th_put(&b, "abc", 3);
	ck_assert_int_eq(th_call(&t, FUSE_SETXATTR, f.nodeid, b.p, b.len, NULL, 0, NULL), -EINVAL);
	th_buf_free(&b);
	ck_assert_int_eq(th_release(&t, f.nodeid, fh), 0);
}
END_TEST

START_TEST(forget_malformed)
{
	th_host_write(&t, "root/a", "");
	th_host_write(&t, "root/b", "");
	struct fuse_entry_out a, b;
	ck_assert_int_eq(th_lookup(&t, ROOT, "a", &a), 0);
	ck_assert_int_eq(th_lookup(&t, ROOT, "b", &b), 0);
	uint8_t out[64];
	struct th_buf r = { 0 };
	th_request(&t, &r, FUSE_FORGET, a.nodeid, "\1\0\0\0", 4); /* cut short */
	ck_assert_uint_eq(th_raw(&t, r.p, r.len, out, sizeof(out)), 0);
	th_buf_free(&r);
	ck_assert_int_eq(th_nodes(&t), 3);
	/* BATCH_FORGET claiming 1000 entries, carrying 2 (and a bad one). */
	struct fuse_batch_forget_in bi = { .count = 1000 };
	struct fuse_forget_one one[3] = { { a.nodeid, 1 }, { 999999, 1 }, { b.nodeid, 1 } };
	struct th_buf args = { 0 };
	th_put(&args, &bi, sizeof(bi));
	th_put(&args, one, sizeof(one));
	th_put(&args, "\1\2\3", 3);
	th_request(&t, &r, FUSE_BATCH_FORGET, 0, args.p, args.len);
	ck_assert_uint_eq(th_raw(&t, r.p, r.len, out, sizeof(out)), 0);
	ck_assert_uint_eq(th_raw(&t, r.p, r.len, out, 0), 0);
	th_buf_free(&r);
	th_buf_free(&args);
	ck_assert_int_eq(th_nodes(&t), 1);
}
END_TEST

/* Empty iovecs anywhere, and negative counts. */
START_TEST(odd_iovec_arrays)
{
	th_host_write(&t, "root/abc", "");
	struct th_buf b = { 0 };
	th_request(&t, &b, FUSE_LOOKUP, ROOT, "abc", 4);
	uint8_t out[256] = { 0 };
	struct iovec in[] = { { NULL, 0 }, { b.p, 7 }, { NULL, 0 }, { NULL, 0 },
			      { b.p + 7, b.len - 7 }, { NULL, 0 } };
	struct iovec ov[] = { { NULL, 0 }, { out, 5 }, { NULL, 0 }, { out + 5, sizeof(out) - 5 } };
	size_t got = fs_server_handle(t.srv, in, 6, ov, 4);
	ck_assert_uint_eq(got, sizeof(struct fuse_out_header) + sizeof(struct fuse_entry_out));
	struct fuse_out_header oh;
	memcpy(&oh, out, sizeof(oh));
	ck_assert_int_eq(oh.error, 0);
	ck_assert_uint_eq(oh.len, got);
	ck_assert_uint_eq(fs_server_handle(t.srv, in, 6, ov, -1), 0);
	ck_assert_uint_eq(fs_server_handle(t.srv, in, 6, NULL, 0), 0);
	got = fs_server_handle(t.srv, in, -3, ov, 4);
	ck_assert_uint_eq(got, sizeof(oh));
	memcpy(&oh, out, sizeof(oh));
	ck_assert_int_eq(oh.error, -EINVAL);
	got = fs_server_handle(t.srv, NULL, 0, ov, 4);
	ck_assert_uint_eq(got, sizeof(oh));
	th_buf_free(&b);
}
END_TEST

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Reply to anything: absent, or one header whose len is what was
 * returned, an errno in range, at most the room given. */
static void send_checked(const void *req, size_t len, size_t outcap)
{
	static uint8_t out[8192];
	size_t got = th_raw(&t, req, len, out, outcap);
	ck_assert_uint_le(got, outcap);
	if (got == 0)
		return;
	struct fuse_out_header oh;
	ck_assert_uint_ge(got, sizeof(oh));
	memcpy(&oh, out, sizeof(oh));
	ck_assert_uint_eq(oh.len, got);
	ck_assert_int_le(oh.error, 0);
	ck_assert_int_gt(oh.error, -4096);
}

/* A plausible request for a random op with random arguments. */
static size_t random_request(uint8_t *buf, size_t cap, const uint64_t *ids, size_t nids)
{
	uint32_t op;
	do
		op = 1 + rnd() % 52;
	while (op == FUSE_INIT || op == FUSE_DESTROY || op == FUSE_FALLOCATE);
	size_t alen = rnd() % 200;
	struct fuse_in_header h = { .opcode = op, .unique = rnd(), .nodeid = ids[rnd() % nids] };
	ck_assert_uint_le(sizeof(h) + alen, cap);
	for (size_t i = 0; i < alen; i++) {
		uint32_t k = rnd() % 8;
		buf[sizeof(h) + i] = k < 3 ? 0 : k < 6 ? (uint8_t)('a' + rnd() % 4) : (uint8_t)rnd();
	}
	h.len = (uint32_t)(sizeof(h) + alen);
	if (rnd() % 8 == 0)
		h.len = rnd();
	memcpy(buf, &h, sizeof(h));
	return sizeof(h) + alen;
}

START_TEST(fuzz)
{
	th_host_write(&t, "root/a", "abc");
	th_host_mkdir(&t, "root/d");
	struct fuse_entry_out a, d;
	ck_assert_int_eq(th_lookup(&t, ROOT, "a", &a), 0);
	ck_assert_int_eq(th_lookup(&t, ROOT, "d", &d), 0);
	uint64_t ids[] = { 0, ROOT, a.nodeid, d.nodeid, 12345, ~0ull };
	uint8_t req[512];
	for (int i = 0; i < 20000; i++) {
		size_t len = random_request(req, sizeof(req), ids, 6);
		t.split = rnd() % 4 == 0 ? 1 + rnd() % 9 : 0;
		send_checked(req, rnd() % 8 == 0 ? rnd() % (len + 1) : len, rnd() % 4 ? 8192 : rnd() % 200);
	}
	/* Mutations of valid requests. */
	struct th_buf b = { 0 };
	struct fuse_mkdir_in mi = { .mode = 0755 };
	th_put(&b, &mi, sizeof(mi));
	th_puts(&b, "newdir");
	struct th_buf r = { 0 };
	th_request(&t, &r, FUSE_MKDIR, ROOT, b.p, b.len);
	for (int i = 0; i < 5000; i++) {
		memcpy(req, r.p, r.len);
		for (int k = 0; k < 3; k++)
			req[rnd() % r.len] = (uint8_t)rnd();
		t.split = rnd() % 5;
		send_checked(req, rnd() % 4 ? r.len : rnd() % (r.len + 1), 256);
	}
	th_buf_free(&b);
	th_buf_free(&r);
	t.split = 0;
	/* Whatever happened, nothing outside the root was touched. */
	char list[256];
	th_host_list(&t, "outside", list, sizeof(list));
	ck_assert_str_eq(list, "secret");
	th_host_list(&t, "", list, sizeof(list));
	ck_assert_str_eq(list, "outside,root");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fuse_malformed");
	TCase *tc = tcase_create("malformed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, short_and_lying_headers);
	tcase_add_test(tc, len_shorter_than_buffer);
	tcase_add_test(tc, args_cut_short);
	tcase_add_test(tc, names_without_nul);
	tcase_add_test(tc, names_too_long);
	tcase_add_test(tc, unknown_opcodes);
	tcase_add_test(tc, bad_nodeids);
	tcase_add_test(tc, bad_handles);
	tcase_add_test(tc, small_reply_buffers);
	tcase_add_test(tc, extensions_and_write_sizes);
	tcase_add_test(tc, forget_malformed);
	tcase_add_test(tc, odd_iovec_arrays);
	tcase_add_test(tc, fuzz);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)

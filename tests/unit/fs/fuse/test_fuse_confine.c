/* test_fuse_confine.c - the guest stays inside the shared folder. A
 * prepared tree holds symlinks to "/", to "../..", to an absolute path
 * outside (BASE/outside, a sentinel folder next to the root, holding
 * "secret") and to a directory inside; the guest looks them up, reads
 * them, opens, creates, links and renames through them, uses ".", "..",
 * "a/b" and "" as names, and has a directory (or file) swapped for a
 * symlink to the outside between its LOOKUP and its next request. Each
 * must stay inside the root or fail with an errno, and the sentinel is
 * checked unchanged after every test. Then: a read-only server refuses
 * every write op with EROFS and leaves the folder as it was.
 */
#include "../../check_main.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROOT FUSE_ROOT_ID

static struct th t;
static struct stat secret_st, outside_st;

/* root/f "inside", root/d/g, and the escaping symlinks. */
static void prepare_tree(void)
{
	char abs_out[PATH_MAX];
	th_host_write(&t, "root/f", "inside");
	th_host_mkdir(&t, "root/d");
	th_host_write(&t, "root/d/g", "g");
	th_host_symlink(&t, "/", "root/to_root");
	th_host_symlink(&t, "../..", "root/to_up");
	snprintf(abs_out, sizeof(abs_out), "%s/secret", t.outside);
	th_host_symlink(&t, abs_out, "root/to_secret");
	th_host_symlink(&t, t.outside, "root/to_outdir");
	th_host_symlink(&t, "d", "root/to_d");
	th_host_symlink(&t, "/etc", "root/d/etc");
	th_host_lstat(&t, "outside/secret", &secret_st);
	th_host_lstat(&t, "outside", &outside_st);
}

static void setup(void)
{
	th_setup(&t, NULL);
	prepare_tree();
}

/* The sentinel folder is exactly as prepared. */
static void assert_outside_untouched(void)
{
	char list[1024];
	th_host_list(&t, "outside", list, sizeof(list));
	ck_assert_str_eq(list, "secret");
	bool ex;
	ck_assert_str_eq(th_host_read(&t, "outside/secret", &ex), "secret");
	struct stat st;
	th_host_lstat(&t, "outside/secret", &st);
	ck_assert_uint_eq(st.st_nlink, 1);
	ck_assert_uint_eq(st.st_mode, secret_st.st_mode);
	ck_assert_uint_eq(st.st_uid, secret_st.st_uid);
	ck_assert_int_eq(st.st_mtim.tv_sec, secret_st.st_mtim.tv_sec);
	ck_assert_int_eq(st.st_mtim.tv_nsec, secret_st.st_mtim.tv_nsec);
	th_host_lstat(&t, "outside", &st);
	ck_assert_uint_eq(st.st_mode, outside_st.st_mode);
	ck_assert_int_eq(st.st_mtim.tv_nsec, outside_st.st_mtim.tv_nsec);
	th_host_list(&t, "", list, sizeof(list));
	ck_assert_str_eq(list, "outside,root");
}

static void teardown(void)
{
	assert_outside_untouched();
	th_teardown(&t);
}

/* LOOKUP of a symlink is the symlink itself; beneath it is ENOTDIR. */
START_TEST(symlinks_are_not_followed)
{
	static const char *links[] = { "to_root", "to_up", "to_secret", "to_outdir", "to_d" };
	static const char *targets[] = { "/", "../..", NULL, NULL, "d" };
	struct fuse_entry_out f;
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &f), 0);
	for (size_t i = 0; i < 5; i++) {
		struct fuse_entry_out l, x;
		ck_assert_int_eq(th_lookup(&t, ROOT, links[i], &l), 0);
		ck_assert_msg(S_ISLNK(l.attr.mode), "%s", links[i]);
		char buf[PATH_MAX];
		ck_assert_int_eq(th_readlink(&t, l.nodeid, buf, sizeof(buf)), 0);
		if (targets[i])
			ck_assert_str_eq(buf, targets[i]);
		ck_assert_int_eq(th_lookup(&t, l.nodeid, "secret", &x), -ENOTDIR);
		ck_assert_int_eq(th_lookup(&t, l.nodeid, "etc", &x), -ENOTDIR);
		uint64_t fh;
		ck_assert_int_eq(th_open(&t, l.nodeid, O_RDONLY, &fh), -ELOOP);
		ck_assert_int_eq(th_open(&t, l.nodeid, O_RDWR | O_TRUNC, &fh), -ELOOP);
		ck_assert_int_eq(th_opendir(&t, l.nodeid, &fh), -ENOTDIR);
		ck_assert_int_eq(th_create(&t, l.nodeid, "planted", O_RDWR, 0644, &x, &fh), -ENOTDIR);
		ck_assert_int_eq(th_mkdir(&t, l.nodeid, "planted", 0755, &x), -ENOTDIR);
		ck_assert_int_eq(th_symlink(&t, l.nodeid, "planted", "x", &x), -ENOTDIR);
		ck_assert_int_eq(th_mknod(&t, l.nodeid, "planted", S_IFIFO | 0644, &x), -ENOTDIR);
		ck_assert_int_eq(th_unlink(&t, l.nodeid, "secret"), -ENOTDIR);
		ck_assert_int_eq(th_rename(&t, ROOT, "f", l.nodeid, "planted", 0), -ENOTDIR);
		ck_assert_int_eq(th_rename(&t, l.nodeid, "secret", ROOT, "stolen", 0), -ENOTDIR);
		ck_assert_int_eq(th_link(&t, f.nodeid, l.nodeid, "planted", &x), -ENOTDIR);
		/* Mode and size of a symlink node never reach its target. */
		struct fuse_setattr_in sa = { .valid = FATTR_MODE, .mode = 0777 };
		struct fuse_attr a;
		ck_assert_int_eq(th_setattr(&t, l.nodeid, &sa, &a), -EOPNOTSUPP);
		sa = (struct fuse_setattr_in){ .valid = FATTR_SIZE, .size = 0 };
		ck_assert_int_eq(th_setattr(&t, l.nodeid, &sa, &a), -EINVAL);
		th_forget(&t, l.nodeid, 1);
	}
	struct fuse_entry_out d, e;
	ck_assert_int_eq(th_lookup(&t, ROOT, "d", &d), 0);
	ck_assert_int_eq(th_lookup(&t, d.nodeid, "etc", &e), 0);
	ck_assert(S_ISLNK(e.attr.mode)); /* the guest resolves /etc in its own tree */
	ck_assert_int_eq(th_lookup(&t, e.nodeid, "passwd", &e), -ENOTDIR);
	ck_assert(!th_host_exists(&t, "root/planted"));
}
END_TEST

/* A symlink's times and owner change on the symlink, not the target. */
START_TEST(symlink_attrs_stay_on_symlink)
{
	struct fuse_entry_out l;
	ck_assert_int_eq(th_lookup(&t, ROOT, "to_secret", &l), 0);
	struct stat before;
	th_host_lstat(&t, "outside/secret", &before);
	struct fuse_setattr_in sa = { .valid = FATTR_MTIME | FATTR_ATIME, .mtime = 12345, .atime = 12345 };
	struct fuse_attr a;
	ck_assert_int_eq(th_setattr(&t, l.nodeid, &sa, &a), 0);
	struct stat st;
	th_host_lstat(&t, "root/to_secret", &st);
	ck_assert_int_eq(st.st_mtim.tv_sec, 12345);
	th_host_lstat(&t, "outside/secret", &st);
	ck_assert_int_eq(st.st_mtim.tv_sec, before.st_mtim.tv_sec);
	if (geteuid() == 0) {
		sa = (struct fuse_setattr_in){ .valid = FATTR_UID, .uid = 4242 };
		ck_assert_int_eq(th_setattr(&t, l.nodeid, &sa, &a), 0);
		th_host_lstat(&t, "root/to_secret", &st);
		ck_assert_uint_eq(st.st_uid, 4242);
		th_host_lstat(&t, "outside/secret", &st);
		ck_assert_uint_eq(st.st_uid, before.st_uid);
	}
	/* xattrs of a symlink are neither read nor set through it. */
	struct th_buf b = { 0 };
	struct { uint32_t size, flags; } si = { 1, 0 };
	th_put(&b, &si, sizeof(si));
	th_puts(&b, "user.x");
	th_put(&b, "v", 1);
	ck_assert_int_eq(th_call(&t, FUSE_SETXATTR, l.nodeid, b.p, b.len, NULL, 0, NULL), -EPERM);
	th_buf_free(&b);
	struct fuse_getxattr_in gi = { .size = 256 };
	th_put(&b, &gi, sizeof(gi));
	th_puts(&b, "user.x");
	char out[256];
	size_t n;
	ck_assert_int_eq(th_call(&t, FUSE_GETXATTR, l.nodeid, b.p, b.len, out, sizeof(out), &n), -ENODATA);
	ck_assert_int_eq(th_call(&t, FUSE_LISTXATTR, l.nodeid, &gi, sizeof(gi), out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, 0);
	th_buf_free(&b);
}
END_TEST

/* CREATE/OPEN over an existing symlink name never follow it. */
START_TEST(create_over_symlink)
{
	struct fuse_entry_out x;
	uint64_t fh;
	ck_assert_int_eq(th_create(&t, ROOT, "to_secret", O_RDWR | O_TRUNC, 0644, &x, &fh), -ELOOP);
	ck_assert_int_eq(th_create(&t, ROOT, "to_secret", O_RDWR | O_EXCL, 0644, &x, &fh), -EEXIST);
	ck_assert_int_eq(th_create(&t, ROOT, "to_outdir", O_RDWR, 0644, &x, &fh), -ELOOP);
	ck_assert_int_eq(th_mkdir(&t, ROOT, "to_outdir", 0755, &x), -EEXIST);
	/* Renaming or linking a symlink moves the link, not its target. */
	ck_assert_int_eq(th_rename(&t, ROOT, "to_secret", ROOT, "moved", 0), 0);
	struct stat st;
	th_host_lstat(&t, "root/moved", &st);
	ck_assert(S_ISLNK(st.st_mode));
	struct fuse_entry_out l;
	ck_assert_int_eq(th_lookup(&t, ROOT, "moved", &l), 0);
	ck_assert_int_eq(th_link(&t, l.nodeid, ROOT, "hard", &x), 0);
	th_host_lstat(&t, "root/hard", &st);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(th_unlink(&t, ROOT, "moved"), 0);
	ck_assert_int_eq(th_unlink(&t, ROOT, "hard"), 0);
}
END_TEST

START_TEST(bad_names)
{
	static const char *names[] = { "", ".", "..", "a/b", "/", "../outside", "d/g", "/etc", "..." };
	static const int lookup_err[] = { -EINVAL, -ENOENT, -ENOENT, -EINVAL, -EINVAL, -EINVAL,
					  -EINVAL, -EINVAL, -ENOENT };
	struct fuse_entry_out d;
	ck_assert_int_eq(th_lookup(&t, ROOT, "d", &d), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *n = names[i];
		struct fuse_entry_out x;
		uint64_t fh;
		ck_assert_msg(th_lookup(&t, ROOT, n, &x) == lookup_err[i], "lookup '%s'", n);
		ck_assert_msg(th_lookup(&t, d.nodeid, n, &x) == lookup_err[i], "lookup d/'%s'", n);
		if (strcmp(n, "...") == 0)
			continue; /* a valid name */
		ck_assert_int_eq(th_create(&t, d.nodeid, n, O_RDWR, 0644, &x, &fh), -EINVAL);
		ck_assert_int_eq(th_mkdir(&t, d.nodeid, n, 0755, &x), -EINVAL);
		ck_assert_int_eq(th_mknod(&t, d.nodeid, n, S_IFREG | 0644, &x), -EINVAL);
		ck_assert_int_eq(th_symlink(&t, d.nodeid, n, "x", &x), -EINVAL);
		ck_assert_int_eq(th_unlink(&t, d.nodeid, n), -EINVAL);
		ck_assert_int_eq(th_rmdir(&t, ROOT, n), -EINVAL);
		ck_assert_int_eq(th_rename(&t, d.nodeid, "g", ROOT, n, 0), -EINVAL);
		ck_assert_int_eq(th_rename(&t, d.nodeid, n, ROOT, "got", 0), -EINVAL);
		ck_assert_int_eq(th_link(&t, d.nodeid, ROOT, n, &x), -EINVAL);
	}
	ck_assert(th_host_exists(&t, "root/d/g"));
	ck_assert(th_host_exists(&t, "root/d"));
	ck_assert(!th_host_exists(&t, "root/got"));
	/* The root's ".." in a listing is the root itself. */
	uint64_t dh;
	ck_assert_int_eq(th_opendir(&t, ROOT, &dh), 0);
	struct fuse_read_in ri = { .fh = dh, .size = 4096 };
	uint8_t buf[4096];
	size_t n;
	ck_assert_int_eq(th_call(&t, FUSE_READDIR, ROOT, &ri, sizeof(ri), buf, sizeof(buf), &n), 0);
	struct stat root_st;
	th_host_lstat(&t, "root", &root_st);
	for (size_t pos = 0; pos < n;) {
		struct fuse_dirent de;
		memcpy(&de, buf + pos, sizeof(de));
		if (de.namelen == 2 && memcmp(buf + pos + FUSE_NAME_OFFSET, "..", 2) == 0)
			ck_assert_uint_eq(de.ino, root_st.st_ino);
		pos += FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + de.namelen);
	}
	ck_assert_int_eq(th_releasedir(&t, ROOT, dh), 0);
}
END_TEST

/* The guest looked d up; then the host moves d away and puts a symlink to
 * the outside in its place. Requests on the old node act on the directory
 * it named (still inside, now d.old); a fresh lookup sees the symlink. */
START_TEST(dir_swapped_for_symlink)
{
	struct fuse_entry_out d, x;
	uint64_t fh;
	ck_assert_int_eq(th_lookup(&t, ROOT, "d", &d), 0);
	th_host_rename(&t, "root/d", "root/d.old");
	th_host_symlink(&t, t.outside, "root/d");
	ck_assert_int_eq(th_create(&t, d.nodeid, "secret", O_RDWR | O_TRUNC, 0644, &x, &fh), 0);
	ck_assert_int_eq(th_write(&t, x.nodeid, fh, 0, "planted", 7), 7);
	ck_assert_int_eq(th_release(&t, x.nodeid, fh), 0);
	ck_assert(th_host_exists(&t, "root/d.old/secret"));
	ck_assert_int_eq(th_mkdir(&t, d.nodeid, "sub", 0755, &x), 0);
	ck_assert(th_host_exists(&t, "root/d.old/sub"));
	ck_assert_int_eq(th_symlink(&t, d.nodeid, "l", "x", &x), 0);
	ck_assert(th_host_exists(&t, "root/d.old/l"));
	ck_assert_int_eq(th_unlink(&t, d.nodeid, "g"), 0);
	ck_assert(!th_host_exists(&t, "root/d.old/g"));
	char list[1024];
	ck_assert_int_eq(th_list(&t, d.nodeid, true, list, sizeof(list)), 0);
	ck_assert_str_eq(list, "etc,l,secret,sub");
	/* A new lookup of "d" is the symlink, and goes no further. */
	struct fuse_entry_out d2;
	ck_assert_int_eq(th_lookup(&t, ROOT, "d", &d2), 0);
	ck_assert(S_ISLNK(d2.attr.mode));
	ck_assert_uint_ne(d2.nodeid, d.nodeid);
	ck_assert_int_eq(th_lookup(&t, d2.nodeid, "secret", &x), -ENOTDIR);
	ck_assert_int_eq(th_create(&t, d2.nodeid, "secret", O_RDWR | O_TRUNC, 0644, &x, &fh), -ENOTDIR);
	ck_assert_int_eq(th_opendir(&t, d2.nodeid, &fh), -ENOTDIR);
}
END_TEST

/* The same for a file: the guest's node keeps naming the file it looked
 * up, never the symlink's target. */
START_TEST(file_swapped_for_symlink)
{
	struct fuse_entry_out f;
	uint64_t fh;
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &f), 0);
	th_host_rename(&t, "root/f", "root/f.old");
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "%s/secret", t.outside);
	th_host_symlink(&t, target, "root/f");
	ck_assert_int_eq(th_open(&t, f.nodeid, O_RDWR, &fh), 0);
	char buf[32];
	ck_assert_int_eq(th_read(&t, f.nodeid, fh, 0, buf, sizeof(buf)), 6);
	ck_assert_mem_eq(buf, "inside", 6);
	ck_assert_int_eq(th_write(&t, f.nodeid, fh, 0, "INSIDE", 6), 6);
	ck_assert_int_eq(th_release(&t, f.nodeid, fh), 0);
	struct fuse_setattr_in sa = { .valid = FATTR_SIZE | FATTR_MODE, .size = 3, .mode = 0600 };
	struct fuse_attr a;
	ck_assert_int_eq(th_setattr(&t, f.nodeid, &sa, &a), 0);
	bool ex;
	ck_assert_str_eq(th_host_read(&t, "root/f.old", &ex), "INS");
	/* Removing the file the node named, then linking the node, fails
	 * rather than reaching anything else. */
	struct fuse_entry_out x;
	ck_assert_int_eq(unlink(strcat(strcpy(target, t.root), "/f.old")), 0);
	ck_assert_int_eq(th_link(&t, f.nodeid, ROOT, "revived", &x), -ENOENT);
	ck_assert(!th_host_exists(&t, "root/revived"));
}
END_TEST

/* Set-user-ID and set-group-ID bits never reach host files. */
START_TEST(no_setid_files)
{
	struct fuse_entry_out x;
	uint64_t fh;
	ck_assert_int_eq(th_create(&t, ROOT, "suid", O_RDWR, S_IFREG | 06755, &x, &fh), 0);
	ck_assert_int_eq(th_release(&t, x.nodeid, fh), 0);
	struct stat st;
	th_host_lstat(&t, "root/suid", &st);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	struct fuse_setattr_in sa = { .valid = FATTR_MODE, .mode = S_IFREG | 04711 };
	struct fuse_attr a;
	ck_assert_int_eq(th_setattr(&t, x.nodeid, &sa, &a), 0);
	th_host_lstat(&t, "root/suid", &st);
	ck_assert_uint_eq(st.st_mode & 07777, 0711);
	ck_assert_int_eq(th_mknod(&t, ROOT, "sgid", S_IFREG | 02755, &x), 0);
	th_host_lstat(&t, "root/sgid", &st);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	/* Directories may have set-group-ID (group inheritance). */
	ck_assert_int_eq(th_mkdir(&t, ROOT, "gdir", 0775, &x), 0);
	sa = (struct fuse_setattr_in){ .valid = FATTR_MODE, .mode = S_IFDIR | 02775 };
	ck_assert_int_eq(th_setattr(&t, x.nodeid, &sa, &a), 0);
	th_host_lstat(&t, "root/gdir", &st);
	ck_assert_uint_eq(st.st_mode & 07777, 02775);
}
END_TEST

static void fill_setattr(struct th_buf *b)
{
	struct fuse_setattr_in sa = { .valid = FATTR_MODE, .mode = 0600 };
	th_put(b, &sa, sizeof(sa));
}

/* Every write-type op, each on a target that would work read-write. */
START_TEST(readonly_refuses_writes)
{
	th_teardown(&t);
	th_setup_dirs(&t);
	prepare_tree();
	struct fs_err err;
	t.srv = fs_server_new(t.rootfd, true, &err);
	ck_assert_ptr_nonnull(t.srv);
	struct fuse_init_out io;
	ck_assert_int_eq(th_init(&t, 7, 38, 0xffffffffu, &io), 0);
	struct fuse_entry_out f, d, x;
	uint64_t fh, wfh;
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &f), 0);
	ck_assert_int_eq(th_lookup(&t, ROOT, "d", &d), 0);
	ck_assert_int_eq(th_open(&t, f.nodeid, O_RDONLY, &fh), 0);
	char buf[16];
	ck_assert_int_eq(th_read(&t, f.nodeid, fh, 0, buf, sizeof(buf)), 6);
	ck_assert_int_eq(th_open(&t, f.nodeid, O_WRONLY, &wfh), -EROFS);
	ck_assert_int_eq(th_open(&t, f.nodeid, O_RDWR, &wfh), -EROFS);
	ck_assert_int_eq(th_open(&t, f.nodeid, O_RDONLY | O_TRUNC, &wfh), -EROFS);
	ck_assert_int_eq(th_create(&t, ROOT, "new", O_RDWR, 0644, &x, &wfh), -EROFS);
	ck_assert_int_eq(th_create(&t, ROOT, "f", O_RDONLY, 0644, &x, &wfh), -EROFS);
	ck_assert_int_eq(th_write(&t, f.nodeid, fh, 0, "x", 1), -EROFS);
	struct th_buf b = { 0 };
	fill_setattr(&b);
	ck_assert_int_eq(th_call(&t, FUSE_SETATTR, f.nodeid, b.p, b.len, buf, sizeof(buf), NULL), -EROFS);
	th_buf_free(&b);
	ck_assert_int_eq(th_mkdir(&t, ROOT, "new", 0755, &x), -EROFS);
	ck_assert_int_eq(th_mknod(&t, ROOT, "new", S_IFIFO | 0644, &x), -EROFS);
	ck_assert_int_eq(th_symlink(&t, ROOT, "new", "f", &x), -EROFS);
	ck_assert_int_eq(th_link(&t, f.nodeid, ROOT, "new", &x), -EROFS);
	ck_assert_int_eq(th_unlink(&t, ROOT, "f"), -EROFS);
	ck_assert_int_eq(th_rmdir(&t, d.nodeid, "nothing"), -EROFS);
	ck_assert_int_eq(th_rename(&t, ROOT, "f", ROOT, "g", 0), -EROFS);
	ck_assert_int_eq(th_rename(&t, ROOT, "f", ROOT, "d", RENAME_EXCHANGE), -EROFS);
	struct { uint32_t size, flags; } si = { 1, 0 };
	th_put(&b, &si, sizeof(si));
	th_puts(&b, "user.x");
	th_put(&b, "v", 1);
	ck_assert_int_eq(th_call(&t, FUSE_SETXATTR, f.nodeid, b.p, b.len, NULL, 0, NULL), -EROFS);
	th_buf_free(&b);
	th_puts(&b, "user.x");
	ck_assert_int_eq(th_call(&t, FUSE_REMOVEXATTR, f.nodeid, b.p, b.len, NULL, 0, NULL), -EROFS);
	th_buf_free(&b);
	struct fuse_fallocate_in fa = { .fh = fh, .length = 4096 };
	ck_assert_int_eq(th_call(&t, FUSE_FALLOCATE, f.nodeid, &fa, sizeof(fa), NULL, 0, NULL), -EROFS);
	struct fuse_copy_file_range_in cf = { .fh_in = fh, .fh_out = fh, .len = 1, .off_out = 10 };
	struct fuse_write_out wo;
	ck_assert_int_eq(th_call(&t, FUSE_COPY_FILE_RANGE, f.nodeid, &cf, sizeof(cf), &wo, sizeof(wo), NULL), -EROFS);
	struct fuse_access_in ai = { .mask = W_OK };
	ck_assert_int_eq(th_call(&t, FUSE_ACCESS, f.nodeid, &ai, sizeof(ai), NULL, 0, NULL), -EROFS);
	ai.mask = R_OK;
	ck_assert_int_eq(th_call(&t, FUSE_ACCESS, f.nodeid, &ai, sizeof(ai), NULL, 0, NULL), 0);
	ck_assert_int_eq(th_release(&t, f.nodeid, fh), 0);
	char list[1024];
	th_host_list(&t, "root", list, sizeof(list));
	ck_assert_str_eq(list, "d,f,to_d,to_outdir,to_root,to_secret,to_up");
	bool ex;
	ck_assert_str_eq(th_host_read(&t, "root/f", &ex), "inside");
	struct stat st;
	th_host_lstat(&t, "root/f", &st);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
}
END_TEST

/* ---- kernels without openat2: the O_NOFOLLOW fallback ---- */

static int q_lookup(uint64_t parent, const char *name, struct fuse_entry_out *eo)
{
	return th_quick(t.srv, FUSE_LOOKUP, parent, name, strlen(name) + 1, eo, sizeof(*eo), NULL);
}

static int q_create(uint64_t parent, const char *name, uint32_t flags, uint64_t *fh)
{
	uint8_t args[sizeof(struct fuse_create_in) + 64];
	struct fuse_create_in ci = { .flags = flags, .mode = 0644 };
	memcpy(args, &ci, sizeof(ci));
	snprintf((char *)args + sizeof(ci), 64, "%s", name);
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} out;
	int e = th_quick(t.srv, FUSE_CREATE, parent, args, sizeof(ci) + strlen(name) + 1,
			 &out, sizeof(out), NULL);
	*fh = out.o.fh;
	return e;
}

#define CHILD_CHECK(c) do { if (!(c)) _exit(__LINE__ % 200 + 1); } while (0)

/* In a child whose openat2 answers ENOSYS: the confinement checks again. */
static void fallback_child(void)
{
	/* A server serves the process that made it (its /proc/self/fd). */
	fs_server_free(t.srv);
	struct fs_err err;
	t.srv = fs_server_new(t.rootfd, false, &err);
	CHILD_CHECK(t.srv != NULL);
	struct fuse_init_in ii = { .major = 7, .minor = 38 };
	struct fuse_init_out io;
	CHILD_CHECK(th_quick(t.srv, FUSE_INIT, 0, &ii, sizeof(ii), &io, sizeof(io), NULL) == 0);
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	CHILD_CHECK(f && seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) == 0);
	CHILD_CHECK(seccomp_load(f) == 0);
	CHILD_CHECK(syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0) < 0 && errno == ENOSYS);
	struct fuse_entry_out l, d, x;
	uint64_t fh;
	CHILD_CHECK(q_lookup(ROOT, "to_root", &l) == 0 && S_ISLNK(l.attr.mode));
	CHILD_CHECK(q_lookup(l.nodeid, "etc", &x) == -ENOTDIR);
	CHILD_CHECK(q_lookup(ROOT, "to_outdir", &l) == 0 && S_ISLNK(l.attr.mode));
	CHILD_CHECK(q_lookup(l.nodeid, "secret", &x) == -ENOTDIR);
	CHILD_CHECK(q_create(l.nodeid, "planted", O_RDWR, &fh) == -ENOTDIR);
	CHILD_CHECK(q_lookup(ROOT, "..", &x) == -ENOENT);
	CHILD_CHECK(q_lookup(ROOT, "d/g", &x) == -EINVAL);
	CHILD_CHECK(q_create(ROOT, "to_secret", O_RDWR | O_TRUNC, &fh) == -ELOOP);
	CHILD_CHECK(q_lookup(ROOT, "d", &d) == 0 && S_ISDIR(d.attr.mode));
	CHILD_CHECK(q_lookup(d.nodeid, "g", &x) == 0 && S_ISREG(x.attr.mode));
	th_host_rename(&t, "root/d", "root/d.old");
	th_host_symlink(&t, t.outside, "root/d");
	CHILD_CHECK(q_create(d.nodeid, "secret", O_RDWR | O_TRUNC, &fh) == 0);
	CHILD_CHECK(th_host_exists(&t, "root/d.old/secret"));
	_exit(0);
}

START_TEST(without_openat2)
{
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		fallback_child();
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "fallback child failed: status %#x (exit code = failing line %% 200 + 1)", status);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fuse_confine");
	TCase *tc = tcase_create("confine");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, symlinks_are_not_followed);
	tcase_add_test(tc, symlink_attrs_stay_on_symlink);
	tcase_add_test(tc, create_over_symlink);
	tcase_add_test(tc, bad_names);
	tcase_add_test(tc, dir_swapped_for_symlink);
	tcase_add_test(tc, file_swapped_for_symlink);
	tcase_add_test(tc, no_setid_files);
	tcase_add_test(tc, readonly_refuses_writes);
	tcase_add_test(tc, without_openat2);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)

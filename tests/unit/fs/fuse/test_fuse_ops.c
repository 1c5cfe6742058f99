/* test_fuse_ops.c - the FUSE server's ops round trip against a temporary
 * host folder (harness.h), their effects checked on the host: INIT
 * negotiation, lookup/getattr, create/write/read, open, mkdir/rmdir,
 * readdir(plus), rename(2), unlink, symlink/readlink, link, setattr,
 * statfs, access, mknod, xattrs, fallocate/lseek/copy_file_range/fsync.
 * Each round trip runs four times: requests and reply buffers in one
 * iovec, and cut into iovecs of 1, 3 and 7 bytes.
 */
#include "../../check_main.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static const size_t splits[] = { 0, 1, 3, 7 };
static struct th t;

static void setup_split(int i)
{
	th_setup(&t, NULL);
	t.split = splits[i];
}

static void teardown(void)
{
	th_teardown(&t); /* after a failed assert too */
}

#define ROOT FUSE_ROOT_ID

START_TEST(init_negotiation)
{
	th_setup_dirs(&t);
	struct fs_err err;
	t.srv = fs_server_new(t.rootfd, false, &err);
	ck_assert_ptr_nonnull(t.srv);
	struct fuse_entry_out eo;
	ck_assert_int_eq(th_lookup(&t, ROOT, "x", &eo), -EIO); /* before INIT */
	struct fuse_init_out o;
	ck_assert_int_eq(th_init(&t, 7, 30, 0, &o), -EPROTO);
	ck_assert_int_eq(th_init(&t, 6, 38, 0, &o), -EPROTO);
	ck_assert_int_eq(th_init(&t, 8, 0, 0, &o), -EPROTO);
	ck_assert_int_eq(th_init(&t, 7, 31, 0, &o), 0);
	ck_assert_uint_eq(o.major, 7);
	ck_assert_uint_eq(o.minor, 31);
	ck_assert_uint_eq(o.flags, 0); /* nothing the guest did not offer */
	ck_assert_uint_eq(o.max_write, FS_MAX_IO);
	ck_assert_int_eq(th_init(&t, 7, 99, 0xffffffffu, &o), 0);
	ck_assert_uint_eq(o.minor, FUSE_KERNEL_MINOR_VERSION);
	ck_assert(o.flags & FUSE_DO_READDIRPLUS);
	ck_assert(o.flags & FUSE_MAX_PAGES);
	ck_assert_uint_eq(o.max_pages, FS_MAX_IO / 4096);
	ck_assert(!(o.flags & (FUSE_POSIX_LOCKS | FUSE_FLOCK_LOCKS | FUSE_WRITEBACK_CACHE |
			       FUSE_EXPORT_SUPPORT | FUSE_POSIX_ACL)));
	/* A 7.31 guest sends the 16-byte fuse_init_in. */
	uint32_t small[4] = { 7, 31, 4096, FUSE_ASYNC_READ | FUSE_POSIX_LOCKS };
	size_t n;
	ck_assert_int_eq(th_call(&t, FUSE_INIT, 0, small, sizeof(small), &o, sizeof(o), &n), 0);
	ck_assert_uint_eq(o.flags, FUSE_ASYNC_READ);
	ck_assert_int_eq(th_lookup(&t, ROOT, "x", &eo), -ENOENT);
	ck_assert_int_eq(th_call(&t, FUSE_DESTROY, 0, NULL, 0, NULL, 0, NULL), 0);
	ck_assert_int_eq(th_lookup(&t, ROOT, "x", &eo), -EIO);
	ck_assert_int_eq(th_init(&t, 7, 38, 0, &o), 0);
	th_teardown(&t);
}
END_TEST

/* The constructors' checks, and a server made from a /proc/self/fd
 * opened beforehand (what a jailed VMM uses). */
START_TEST(server_new_variants)
{
	th_setup_dirs(&t);
	struct fs_err err = { "" };
	int proc = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(proc, 0);
	ck_assert_ptr_null(fs_server_new_procfd(t.rootfd, t.rootfd, NULL, &err));
	ck_assert_str_eq(err.msg, "/proc/self/fd: not a procfs directory fd");
	ck_assert_ptr_null(fs_server_new_procfd(t.rootfd, -1, NULL, &err));
	ck_assert_ptr_null(fs_server_new_procfd(-1, proc, NULL, &err));
	ck_assert(strstr(err.msg, "shared folder") != NULL);
	th_host_write(&t, "root/f", "x");
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/f", t.root);
	int filefd = open(p, O_RDONLY | O_CLOEXEC);
	ck_assert_ptr_null(fs_server_new(filefd, false, &err));
	ck_assert(strstr(err.msg, "shared folder") != NULL);
	close(filefd);
	ck_assert_ptr_null(fs_server_new(-1, false, NULL)); /* err may be NULL */
	t.srv = fs_server_new_procfd(t.rootfd, proc, NULL, &err);
	close(proc);
	ck_assert_ptr_nonnull(t.srv);
	struct fuse_init_out o;
	ck_assert_int_eq(th_init(&t, 7, 38, 0, &o), 0);
	struct fuse_entry_out eo;
	uint64_t fh;
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &eo), 0);
	ck_assert_int_eq(th_open(&t, eo.nodeid, O_RDONLY, &fh), 0); /* reopens via proc */
	char buf[2];
	ck_assert_int_eq(th_read(&t, eo.nodeid, fh, 0, buf, 2), 1);
	ck_assert_int_eq(th_release(&t, eo.nodeid, fh), 0);
}
END_TEST

START_TEST(lookup_getattr)
{
	setup_split(_i);
	th_host_write(&t, "root/a", "hello");
	struct fuse_entry_out eo;
	ck_assert_int_eq(th_lookup(&t, ROOT, "a", &eo), 0);
	struct stat st;
	th_host_lstat(&t, "root/a", &st);
	ck_assert(S_ISREG(eo.attr.mode));
	ck_assert_uint_eq(eo.attr.size, 5);
	ck_assert_uint_eq(eo.attr.ino, st.st_ino);
	ck_assert_uint_ne(eo.nodeid, st.st_ino); /* IDs are the server's own */
	ck_assert_uint_ne(eo.nodeid, ROOT);
	struct fuse_attr a;
	ck_assert_int_eq(th_getattr(&t, ROOT, &a), 0);
	ck_assert(S_ISDIR(a.mode));
	ck_assert_int_eq(th_getattr(&t, eo.nodeid, &a), 0);
	ck_assert_uint_eq(a.size, 5);
	struct fuse_entry_out e2;
	ck_assert_int_eq(th_lookup(&t, ROOT, "missing", &e2), -ENOENT);
	ck_assert_int_eq(th_lookup(&t, eo.nodeid, "x", &e2), -ENOTDIR);
	th_teardown(&t);
}
END_TEST

START_TEST(create_write_read)
{
	setup_split(_i);
	struct fuse_entry_out eo;
	uint64_t fh;
	ck_assert_int_eq(th_create(&t, ROOT, "new", O_RDWR | O_CREAT | O_EXCL, S_IFREG | 0640, &eo, &fh), 0);
	struct stat st;
	th_host_lstat(&t, "root/new", &st);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_uint_eq(eo.attr.ino, st.st_ino);
	ck_assert_int_eq(th_handles(&t), 1);
	ck_assert_int_eq(th_write(&t, eo.nodeid, fh, 0, "hello world", 11), 11);
	ck_assert_int_eq(th_write(&t, eo.nodeid, fh, 100, "!", 1), 1);
	th_host_lstat(&t, "root/new", &st);
	ck_assert_int_eq(st.st_size, 101);
	char buf[256];
	ck_assert_int_eq(th_read(&t, eo.nodeid, fh, 0, buf, 11), 11);
	ck_assert_mem_eq(buf, "hello world", 11);
	ck_assert_int_eq(th_read(&t, eo.nodeid, fh, 6, buf, 5), 5);
	ck_assert_mem_eq(buf, "world", 5);
	ck_assert_int_eq(th_read(&t, eo.nodeid, fh, 90, buf, 200), 11); /* up to EOF */
	ck_assert_int_eq(buf[10], '!');
	ck_assert_int_eq(th_read(&t, eo.nodeid, fh, 101, buf, 10), 0);
	bool ex;
	ck_assert_mem_eq(th_host_read(&t, "root/new", &ex), "hello world", 11);
	/* CREATE of an existing name: O_EXCL fails, without it opens. */
	uint64_t fh2;
	ck_assert_int_eq(th_create(&t, ROOT, "new", O_RDWR | O_CREAT | O_EXCL, 0644, NULL, &fh2), -EEXIST);
	struct fuse_entry_out e2;
	ck_assert_int_eq(th_create(&t, ROOT, "new", O_RDWR | O_CREAT, 0644, &e2, &fh2), 0);
	ck_assert_uint_eq(e2.nodeid, eo.nodeid);
	ck_assert_int_eq(th_release(&t, e2.nodeid, fh2), 0);
	ck_assert_int_eq(th_release(&t, eo.nodeid, fh), 0);
	ck_assert_int_eq(th_release(&t, eo.nodeid, fh), -EBADF);
	ck_assert_int_eq(th_handles(&t), 0);
	th_forget(&t, eo.nodeid, 2);
	ck_assert_int_eq(th_nodes(&t), 1);
	th_teardown(&t);
}
END_TEST

START_TEST(open_modes)
{
	setup_split(_i);
	th_host_write(&t, "root/f", "0123456789");
	struct fuse_entry_out eo;
	uint64_t fh;
	char buf[32];
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &eo), 0);
	ck_assert_int_eq(th_open(&t, eo.nodeid, O_RDONLY, &fh), 0);
	ck_assert_int_eq(th_read(&t, eo.nodeid, fh, 2, buf, 3), 3);
	ck_assert_mem_eq(buf, "234", 3);
	ck_assert_int_eq(th_write(&t, eo.nodeid, fh, 0, "x", 1), -EBADF); /* read-only fd */
	ck_assert_int_eq(th_release(&t, eo.nodeid, fh), 0);
	ck_assert_int_eq(th_open(&t, eo.nodeid, O_WRONLY | O_APPEND, &fh), 0);
	ck_assert_int_eq(th_write(&t, eo.nodeid, fh, 10, "AB", 2), 2);
	ck_assert_int_eq(th_release(&t, eo.nodeid, fh), 0);
	bool ex;
	ck_assert_str_eq(th_host_read(&t, "root/f", &ex), "0123456789AB");
	ck_assert_int_eq(th_open(&t, eo.nodeid, O_RDWR | O_TRUNC, &fh), 0);
	ck_assert_str_eq(th_host_read(&t, "root/f", &ex), "");
	ck_assert_int_eq(th_release(&t, eo.nodeid, fh), 0);
	ck_assert_int_eq(th_open(&t, ROOT, O_RDONLY, &fh), -EISDIR);
	ck_assert_int_eq(th_opendir(&t, eo.nodeid, &fh), -ENOTDIR);
	ck_assert_int_eq(th_handles(&t), 0);
	th_teardown(&t);
}
END_TEST

START_TEST(mkdir_rmdir)
{
	setup_split(_i);
	mode_t old = umask(022); /* the host's umask must not take the guest's bits */
	struct fuse_entry_out d, f;
	ck_assert_int_eq(th_mkdir(&t, ROOT, "d", 0777, &d), 0);
	umask(old);
	struct stat st;
	th_host_lstat(&t, "root/d", &st);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0777);
	ck_assert(S_ISDIR(d.attr.mode));
	ck_assert_int_eq(th_mkdir(&t, ROOT, "d", 0755, &f), -EEXIST);
	ck_assert_int_eq(th_mkdir(&t, d.nodeid, "sub", 0700, &f), 0);
	ck_assert(th_host_exists(&t, "root/d/sub"));
	ck_assert_int_eq(th_rmdir(&t, ROOT, "d"), -ENOTEMPTY);
	ck_assert_int_eq(th_rmdir(&t, d.nodeid, "sub"), 0);
	ck_assert(!th_host_exists(&t, "root/d/sub"));
	ck_assert_int_eq(th_rmdir(&t, ROOT, "d"), 0);
	ck_assert(!th_host_exists(&t, "root/d"));
	/* The removed directory's node stays valid until forgotten. */
	struct fuse_attr a;
	ck_assert_int_eq(th_getattr(&t, d.nodeid, &a), 0);
	ck_assert_int_eq(th_mkdir(&t, d.nodeid, "x", 0700, &f), -ENOENT);
	th_teardown(&t);
}
END_TEST

START_TEST(readdir_both)
{
	setup_split(_i);
	th_host_write(&t, "root/a", "");
	th_host_write(&t, "root/b", "");
	th_host_mkdir(&t, "root/d");
	th_host_symlink(&t, "/etc", "root/s");
	char list[65536];
	ck_assert_int_eq(th_list(&t, ROOT, false, list, sizeof(list)), 0);
	ck_assert_str_eq(list, "a,b,d,s");
	ck_assert_int_eq(th_list(&t, ROOT, true, list, sizeof(list)), 0);
	ck_assert_str_eq(list, "a,b,d,s");
	ck_assert_int_eq(th_nodes(&t), 1); /* th_list forgot the READDIRPLUS lookups */
	ck_assert_int_eq(th_handles(&t), 0);
	th_teardown(&t);
}
END_TEST

/* Enough entries that a listing takes several READDIR requests. */
START_TEST(readdir_paging)
{
	setup_split(_i);
	char name[PATH_MAX], expect[65536] = "", list[65536];
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "root/entry-with-a-long-name-%03d", i);
		th_host_write(&t, name, "");
	}
	th_host_list(&t, "root", expect, sizeof(expect));
	ck_assert_int_eq(th_list(&t, ROOT, false, list, sizeof(list)), 0);
	ck_assert_str_eq(list, expect);
	ck_assert_int_eq(th_list(&t, ROOT, true, list, sizeof(list)), 0);
	ck_assert_str_eq(list, expect);
	ck_assert_int_eq(th_nodes(&t), 1);
	th_teardown(&t);
}
END_TEST

START_TEST(rename_ops)
{
	setup_split(_i);
	th_host_write(&t, "root/a", "A");
	th_host_write(&t, "root/b", "B");
	th_host_mkdir(&t, "root/d");
	struct fuse_entry_out d;
	ck_assert_int_eq(th_lookup(&t, ROOT, "d", &d), 0);
	bool ex;
	ck_assert_int_eq(th_rename(&t, ROOT, "a", ROOT, "c", 0), 0);
	ck_assert(!th_host_exists(&t, "root/a"));
	ck_assert_str_eq(th_host_read(&t, "root/c", &ex), "A");
	ck_assert_int_eq(th_rename(&t, ROOT, "c", ROOT, "b", RENAME_NOREPLACE), -EEXIST);
	ck_assert_int_eq(th_rename(&t, ROOT, "c", ROOT, "b", RENAME_EXCHANGE), 0);
	ck_assert_str_eq(th_host_read(&t, "root/c", &ex), "B");
	ck_assert_str_eq(th_host_read(&t, "root/b", &ex), "A");
	ck_assert_int_eq(th_rename(&t, ROOT, "b", d.nodeid, "moved", 0), 0);
	ck_assert_str_eq(th_host_read(&t, "root/d/moved", &ex), "A");
	ck_assert_int_eq(th_rename(&t, ROOT, "c", ROOT, "x", RENAME_WHITEOUT), -EINVAL);
	ck_assert_int_eq(th_rename(&t, ROOT, "missing", ROOT, "x", 0), -ENOENT);
	th_teardown(&t);
}
END_TEST

START_TEST(unlink_symlink_link)
{
	setup_split(_i);
	th_host_write(&t, "root/a", "A");
	struct fuse_entry_out a, s, h;
	ck_assert_int_eq(th_lookup(&t, ROOT, "a", &a), 0);
	ck_assert_int_eq(th_symlink(&t, ROOT, "s", "../target/x", &s), 0);
	ck_assert(S_ISLNK(s.attr.mode));
	char buf[PATH_MAX];
	ck_assert_int_eq(readlink(strcat(strcpy(buf, t.root), "/s"), buf, sizeof(buf)), 11);
	ck_assert_mem_eq(buf, "../target/x", 11);
	ck_assert_int_eq(th_readlink(&t, s.nodeid, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "../target/x");
	ck_assert_int_eq(th_readlink(&t, a.nodeid, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(th_link(&t, a.nodeid, ROOT, "h", &h), 0);
	ck_assert_uint_eq(h.nodeid, a.nodeid); /* one node per inode */
	ck_assert_uint_eq(h.attr.nlink, 2);
	struct stat st1, st2;
	th_host_lstat(&t, "root/a", &st1);
	th_host_lstat(&t, "root/h", &st2);
	ck_assert_uint_eq(st1.st_ino, st2.st_ino);
	struct fuse_entry_out s2; /* a link to a symlink links the symlink */
	ck_assert_int_eq(th_link(&t, s.nodeid, ROOT, "s2", &s2), 0);
	ck_assert(S_ISLNK(s2.attr.mode));
	ck_assert_int_eq(th_link(&t, ROOT, ROOT, "rootlink", &s2), -EPERM);
	ck_assert_int_eq(th_unlink(&t, ROOT, "a"), 0);
	ck_assert(!th_host_exists(&t, "root/a"));
	ck_assert(th_host_exists(&t, "root/h"));
	ck_assert_int_eq(th_unlink(&t, ROOT, "a"), -ENOENT);
	ck_assert_int_eq(th_unlink(&t, ROOT, "s"), 0);
	ck_assert(!th_host_exists(&t, "root/s"));
	th_teardown(&t);
}
END_TEST

START_TEST(setattr_ops)
{
	setup_split(_i);
	th_host_write(&t, "root/f", "0123456789");
	struct fuse_entry_out f;
	struct fuse_attr a;
	struct stat st;
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &f), 0);
	struct fuse_setattr_in in = { .valid = FATTR_MODE, .mode = S_IFREG | 0600 };
	ck_assert_int_eq(th_setattr(&t, f.nodeid, &in, &a), 0);
	th_host_lstat(&t, "root/f", &st);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(a.mode & 07777, 0600);
	in = (struct fuse_setattr_in){ .valid = FATTR_SIZE, .size = 4 };
	ck_assert_int_eq(th_setattr(&t, f.nodeid, &in, &a), 0);
	ck_assert_uint_eq(a.size, 4);
	bool ex;
	ck_assert_str_eq(th_host_read(&t, "root/f", &ex), "0123");
	in = (struct fuse_setattr_in){ .valid = FATTR_ATIME | FATTR_MTIME, .atime = 1000,
				       .atimensec = 5, .mtime = 2000, .mtimensec = 7 };
	ck_assert_int_eq(th_setattr(&t, f.nodeid, &in, &a), 0);
	th_host_lstat(&t, "root/f", &st);
	ck_assert_int_eq(st.st_atim.tv_sec, 1000);
	ck_assert_int_eq(st.st_mtim.tv_sec, 2000);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 7);
	ck_assert_uint_eq(a.mtime, 2000);
	in = (struct fuse_setattr_in){ .valid = FATTR_MTIME | FATTR_MTIME_NOW };
	ck_assert_int_eq(th_setattr(&t, f.nodeid, &in, &a), 0);
	th_host_lstat(&t, "root/f", &st);
	ck_assert_int_ge(st.st_mtim.tv_sec, time(NULL) - 5);
	ck_assert_int_eq(st.st_atim.tv_sec, 1000); /* untouched */
	in = (struct fuse_setattr_in){ .valid = FATTR_UID | FATTR_GID, .uid = geteuid(), .gid = getegid() };
	ck_assert_int_eq(th_setattr(&t, f.nodeid, &in, &a), 0);
	if (geteuid() == 0) {
		in.uid = 1234;
		in.gid = 4321;
		ck_assert_int_eq(th_setattr(&t, f.nodeid, &in, &a), 0);
		th_host_lstat(&t, "root/f", &st);
		ck_assert_uint_eq(st.st_uid, 1234);
		ck_assert_uint_eq(st.st_gid, 4321);
	}
	in = (struct fuse_setattr_in){ .valid = FATTR_SIZE, .size = 1 };
	ck_assert_int_eq(th_setattr(&t, ROOT, &in, &a), -EISDIR);
	/* Truncate through an open handle. */
	uint64_t fh;
	ck_assert_int_eq(th_open(&t, f.nodeid, O_RDWR, &fh), 0);
	in = (struct fuse_setattr_in){ .valid = FATTR_SIZE | FATTR_FH, .fh = fh, .size = 2 };
	ck_assert_int_eq(th_setattr(&t, f.nodeid, &in, &a), 0);
	ck_assert_str_eq(th_host_read(&t, "root/f", &ex), "01");
	ck_assert_int_eq(th_release(&t, f.nodeid, fh), 0);
	th_teardown(&t);
}
END_TEST

START_TEST(statfs_access_mknod)
{
	setup_split(_i);
	struct fuse_statfs_out so;
	size_t n;
	ck_assert_int_eq(th_call(&t, FUSE_STATFS, ROOT, NULL, 0, &so, sizeof(so), &n), 0);
	ck_assert_uint_eq(n, sizeof(so));
	struct statvfs sv;
	ck_assert_int_eq(statvfs(t.root, &sv), 0);
	ck_assert_uint_eq(so.st.bsize, sv.f_bsize);
	ck_assert_uint_eq(so.st.blocks, sv.f_blocks);
	ck_assert_uint_eq(so.st.namelen, sv.f_namemax);
	struct fuse_access_in ai = { .mask = R_OK | X_OK };
	ck_assert_int_eq(th_call(&t, FUSE_ACCESS, ROOT, &ai, sizeof(ai), NULL, 0, NULL), 0);
	ai.mask = 0x100;
	ck_assert_int_eq(th_call(&t, FUSE_ACCESS, ROOT, &ai, sizeof(ai), NULL, 0, NULL), -EINVAL);
	struct fuse_entry_out e;
	ck_assert_int_eq(th_mknod(&t, ROOT, "fifo", S_IFIFO | 0644, &e), 0);
	ck_assert(S_ISFIFO(e.attr.mode));
	struct stat st;
	th_host_lstat(&t, "root/fifo", &st);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_int_eq(th_mknod(&t, ROOT, "reg", S_IFREG | 0600, &e), 0);
	th_host_lstat(&t, "root/reg", &st);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(th_mknod(&t, ROOT, "null", S_IFCHR | 0666, &e), -EPERM);
	ck_assert_int_eq(th_mknod(&t, ROOT, "blk", S_IFBLK | 0666, &e), -EPERM);
	ck_assert(!th_host_exists(&t, "root/null"));
	/* FIFOs are never opened on the host (the guest keeps them local). */
	uint64_t fh;
	ck_assert_int_eq(th_lookup(&t, ROOT, "fifo", &e), 0);
	ck_assert_int_eq(th_open(&t, e.nodeid, O_RDONLY, &fh), -ENXIO);
	th_teardown(&t);
}
END_TEST

static int xattr_call(uint32_t op, uint64_t id, const char *name, const void *val, uint32_t size,
		      uint32_t getsize, void *out, size_t cap, size_t *n)
{
	struct th_buf b = { 0 };
	if (op == FUSE_SETXATTR) {
		struct { uint32_t size, flags; } in = { size, 0 };
		th_put(&b, &in, sizeof(in));
	} else if (op != FUSE_REMOVEXATTR) {
		struct fuse_getxattr_in in = { .size = getsize };
		th_put(&b, &in, sizeof(in));
	}
	if (name)
		th_puts(&b, name);
	th_put(&b, val, size);
	int e = th_call(&t, op, id, b.p, b.len, out, cap, n);
	th_buf_free(&b);
	return e;
}

START_TEST(xattrs)
{
	setup_split(_i);
	th_host_write(&t, "root/f", "");
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/f", t.root);
	if (setxattr(p, "user.probe", "1", 1, 0) < 0 && errno == ENOTSUP) {
		th_teardown(&t);
		return; /* no user xattrs on this file system */
	}
	removexattr(p, "user.probe");
	struct fuse_entry_out f;
	ck_assert_int_eq(th_lookup(&t, ROOT, "f", &f), 0);
	char out[256];
	size_t n;
	ck_assert_int_eq(xattr_call(FUSE_SETXATTR, f.nodeid, "user.k", "value", 5, 0, NULL, 0, NULL), 0);
	char hv[16] = "";
	ck_assert_int_eq(getxattr(p, "user.k", hv, sizeof(hv)), 5);
	ck_assert_mem_eq(hv, "value", 5);
	ck_assert_int_eq(xattr_call(FUSE_GETXATTR, f.nodeid, "user.k", NULL, 0, 0, out, sizeof(out), &n), 0);
	struct fuse_getxattr_out go;
	memcpy(&go, out, sizeof(go));
	ck_assert_uint_eq(go.size, 5);
	ck_assert_int_eq(xattr_call(FUSE_GETXATTR, f.nodeid, "user.k", NULL, 0, 64, out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(out, "value", 5);
	ck_assert_int_eq(xattr_call(FUSE_GETXATTR, f.nodeid, "user.k", NULL, 0, 2, out, sizeof(out), &n), -ERANGE);
	ck_assert_int_eq(xattr_call(FUSE_GETXATTR, f.nodeid, "user.none", NULL, 0, 64, out, sizeof(out), &n), -ENODATA);
	ck_assert_int_eq(xattr_call(FUSE_LISTXATTR, f.nodeid, NULL, NULL, 0, 256, out, sizeof(out), &n), 0);
	ck_assert(memmem(out, n, "user.k", 7) != NULL);
	ck_assert_int_eq(xattr_call(FUSE_SETXATTR, f.nodeid, "trusted.k", "v", 1, 0, NULL, 0, NULL), -EPERM);
	ck_assert_int_eq(xattr_call(FUSE_SETXATTR, f.nodeid, "security.capability", "v", 1, 0, NULL, 0, NULL), -EPERM);
	ck_assert_int_eq(xattr_call(FUSE_REMOVEXATTR, f.nodeid, "user.k", NULL, 0, 0, NULL, 0, NULL), 0);
	ck_assert_int_lt(getxattr(p, "user.k", hv, sizeof(hv)), 0);
	/* Directories too. */
	ck_assert_int_eq(xattr_call(FUSE_SETXATTR, ROOT, "user.d", "x", 1, 0, NULL, 0, NULL), 0);
	ck_assert_int_eq(getxattr(t.root, "user.d", hv, sizeof(hv)), 1);
	th_teardown(&t);
}
END_TEST

START_TEST(file_range_ops)
{
	setup_split(_i);
	th_host_write(&t, "root/src", "abcdefghij");
	struct fuse_entry_out s, d;
	uint64_t fs, fd;
	ck_assert_int_eq(th_lookup(&t, ROOT, "src", &s), 0);
	ck_assert_int_eq(th_open(&t, s.nodeid, O_RDONLY, &fs), 0);
	ck_assert_int_eq(th_create(&t, ROOT, "dst", O_RDWR, 0644, &d, &fd), 0);
	struct fuse_copy_file_range_in ci = { .fh_in = fs, .off_in = 2, .nodeid_out = d.nodeid,
					      .fh_out = fd, .off_out = 1, .len = 4 };
	struct fuse_write_out wo;
	size_t n;
	ck_assert_int_eq(th_call(&t, FUSE_COPY_FILE_RANGE, s.nodeid, &ci, sizeof(ci), &wo, sizeof(wo), &n), 0);
	ck_assert_uint_eq(wo.size, 4);
	char buf[16];
	ck_assert_int_eq(th_read(&t, d.nodeid, fd, 0, buf, sizeof(buf)), 5);
	ck_assert_mem_eq(buf, "\0cdef", 5);
	struct fuse_fallocate_in fa = { .fh = fd, .offset = 0, .length = 8192 };
	ck_assert_int_eq(th_call(&t, FUSE_FALLOCATE, d.nodeid, &fa, sizeof(fa), NULL, 0, NULL), 0);
	struct stat st;
	th_host_lstat(&t, "root/dst", &st);
	ck_assert_int_eq(st.st_size, 8192);
	struct fuse_lseek_in li = { .fh = fd, .offset = 0, .whence = SEEK_DATA };
	struct fuse_lseek_out lo;
	ck_assert_int_eq(th_call(&t, FUSE_LSEEK, d.nodeid, &li, sizeof(li), &lo, sizeof(lo), &n), 0);
	ck_assert_uint_eq(lo.offset, 0);
	li.whence = SEEK_SET;
	ck_assert_int_eq(th_call(&t, FUSE_LSEEK, d.nodeid, &li, sizeof(li), &lo, sizeof(lo), &n), -EINVAL);
	struct fuse_fsync_in fi = { .fh = fd, .fsync_flags = FUSE_FSYNC_FDATASYNC };
	ck_assert_int_eq(th_call(&t, FUSE_FSYNC, d.nodeid, &fi, sizeof(fi), NULL, 0, NULL), 0);
	struct fuse_flush_in fl = { .fh = fd };
	ck_assert_int_eq(th_call(&t, FUSE_FLUSH, d.nodeid, &fl, sizeof(fl), NULL, 0, NULL), 0);
	uint64_t dh;
	ck_assert_int_eq(th_opendir(&t, ROOT, &dh), 0);
	fi.fh = dh;
	ck_assert_int_eq(th_call(&t, FUSE_FSYNCDIR, ROOT, &fi, sizeof(fi), NULL, 0, NULL), 0);
	ck_assert_int_eq(th_releasedir(&t, ROOT, dh), 0);
	ck_assert_int_eq(th_release(&t, s.nodeid, fs), 0);
	ck_assert_int_eq(th_release(&t, d.nodeid, fd), 0);
	th_teardown(&t);
}
END_TEST

/* Create honours the guest's umask, and its mode beats the host's umask. */
START_TEST(create_modes)
{
	setup_split(_i);
	mode_t old = umask(077);
	struct fuse_create_in in = { .flags = O_WRONLY, .mode = S_IFREG | 0666, .umask = 022 };
	struct th_buf b = { 0 };
	th_put(&b, &in, sizeof(in));
	th_puts(&b, "m");
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} out;
	ck_assert_int_eq(th_call(&t, FUSE_CREATE, ROOT, b.p, b.len, &out, sizeof(out), NULL), 0);
	th_buf_free(&b);
	umask(old);
	struct stat st;
	th_host_lstat(&t, "root/m", &st);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_uint_eq(out.e.attr.mode & 07777, 0644);
	ck_assert_int_eq(th_release(&t, out.e.nodeid, out.o.fh), 0);
	th_teardown(&t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fuse_ops");
	TCase *tc = tcase_create("ops");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, init_negotiation);
	tcase_add_test(tc, server_new_variants);
	tcase_add_loop_test(tc, lookup_getattr, 0, 4);
	tcase_add_loop_test(tc, create_write_read, 0, 4);
	tcase_add_loop_test(tc, open_modes, 0, 4);
	tcase_add_loop_test(tc, mkdir_rmdir, 0, 4);
	tcase_add_loop_test(tc, readdir_both, 0, 4);
	tcase_add_loop_test(tc, readdir_paging, 0, 4);
	tcase_add_loop_test(tc, rename_ops, 0, 4);
	tcase_add_loop_test(tc, unlink_symlink_link, 0, 4);
	tcase_add_loop_test(tc, setattr_ops, 0, 4);
	tcase_add_loop_test(tc, statfs_access_mknod, 0, 4);
	tcase_add_loop_test(tc, xattrs, 0, 4);
	tcase_add_loop_test(tc, file_range_ops, 0, 4);
	tcase_add_loop_test(tc, create_modes, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)

/* test_fuse_jailed.c - the FUSE server inside the VMM's jail (daemon/vm/
 * jail.h with the shared folder): a forked child enters the jail exactly
 * as a VMM serving that folder does, then runs every kind of request the
 * server answers - any system call missing from the allowlist kills it by
 * SIGSYS after a line naming the call - and, where the kernel offers
 * Landlock, finds every path outside the folder out of reach even through
 * the calls the allowlist now permits. A read-only folder is jailed with
 * read rights only.
 */
#include "../../check_main.h"
#include "daemon/vm/jail.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROOT FUSE_ROOT_ID

static struct th t;
static int landlock; /* the kernel's Landlock ABI, asked before the jail */

static void teardown(void)
{
	th_teardown(&t);
}

/* Every op family once: entries, I/O, attributes, directories, links,
 * renames, xattrs (ENOTSUP from the host filesystem is fine), statfs. */
static void exercise_server(void)
{
	struct fuse_entry_out e, d, l;
	uint64_t fh, dh;
	ck_assert_int_eq(th_create(&t, ROOT, "f", O_RDWR, 0644, &e, &fh), 0);
	ck_assert_int_eq(th_write(&t, e.nodeid, fh, 0, "jailed", 6), 6);
	char buf[16] = { 0 };
	ck_assert_int_eq(th_read(&t, e.nodeid, fh, 0, buf, sizeof buf), 6);
	ck_assert_str_eq(buf, "jailed");
	struct fuse_flush_in fl = { .fh = fh };
	ck_assert_int_eq(th_call(&t, FUSE_FLUSH, e.nodeid, &fl, sizeof fl, NULL, 0, NULL), 0);
	struct fuse_fsync_in fs = { .fh = fh };
	ck_assert_int_eq(th_call(&t, FUSE_FSYNC, e.nodeid, &fs, sizeof fs, NULL, 0, NULL), 0);
	struct fuse_fallocate_in fa = { .fh = fh, .offset = 0, .length = 4096 };
	ck_assert_int_eq(th_call(&t, FUSE_FALLOCATE, e.nodeid, &fa, sizeof fa, NULL, 0, NULL), 0);
	struct fuse_lseek_in ls = { .fh = fh, .offset = 0, .whence = SEEK_DATA };
	struct fuse_lseek_out lo;
	ck_assert_int_eq(th_call(&t, FUSE_LSEEK, e.nodeid, &ls, sizeof ls, &lo, sizeof lo, NULL), 0);
	struct fuse_setattr_in sa = { .valid = FATTR_MODE | FATTR_SIZE | FATTR_MTIME_NOW,
				      .mode = S_IFREG | 0600, .size = 3 };
	struct fuse_attr a;
	ck_assert_int_eq(th_setattr(&t, e.nodeid, &sa, &a), 0);
	ck_assert_uint_eq(a.size, 3);
	ck_assert_int_eq(th_getattr(&t, e.nodeid, &a), 0);
	ck_assert_int_eq(th_release(&t, e.nodeid, fh), 0);

	ck_assert_int_eq(th_mkdir(&t, ROOT, "d", 0755, &d), 0);
	ck_assert_int_eq(th_link(&t, e.nodeid, d.nodeid, "hard", &l), 0);
	ck_assert_int_eq(th_symlink(&t, d.nodeid, "sym", "../f", &l), 0);
	char target[32];
	ck_assert_int_eq(th_readlink(&t, l.nodeid, target, sizeof target), 0);
	ck_assert_str_eq(target, "../f");
	ck_assert_int_eq(th_rename(&t, d.nodeid, "hard", ROOT, "moved", 0), 0);
	ck_assert_int_eq(th_rename(&t, ROOT, "moved", ROOT, "f", RENAME_EXCHANGE), 0);
	char names[128];
	ck_assert_int_eq(th_list(&t, ROOT, true, names, sizeof names), 0);
	ck_assert_str_eq(names, "d,f,moved");
	ck_assert_int_eq(th_opendir(&t, d.nodeid, &dh), 0);
	ck_assert_int_eq(th_releasedir(&t, d.nodeid, dh), 0);

	struct th_buf x = { 0 };
	struct fuse_setxattr_in sx = { .size = 1 };
	th_put(&x, &sx, FUSE_COMPAT_SETXATTR_IN_SIZE); /* no SETXATTR_EXT */
	th_puts(&x, "user.sm");
	th_put(&x, "v", 1);
	int r = th_call(&t, FUSE_SETXATTR, e.nodeid, x.p, x.len, NULL, 0, NULL);
	ck_assert_msg(r == 0 || r == -ENOTSUP, "setxattr: %d", r);
	th_buf_free(&x);
	struct fuse_getxattr_in gx = { .size = 0 }; /* size 0: how long is the list? */
	struct fuse_getxattr_out go = { 0 };
	r = th_call(&t, FUSE_LISTXATTR, e.nodeid, &gx, sizeof gx, &go, sizeof go, NULL);
	ck_assert_msg(r == 0 || r == -ENOTSUP, "listxattr: %d", r);

	struct fuse_statfs_out so;
	ck_assert_int_eq(th_call(&t, FUSE_STATFS, ROOT, NULL, 0, &so, sizeof so, NULL), 0);
	struct fuse_access_in ac = { .mask = R_OK };
	ck_assert_int_eq(th_call(&t, FUSE_ACCESS, e.nodeid, &ac, sizeof ac, NULL, 0, NULL), 0);
	ck_assert_int_eq(th_unlink(&t, d.nodeid, "sym"), 0);
	ck_assert_int_eq(th_unlink(&t, ROOT, "moved"), 0);
	ck_assert_int_eq(th_rmdir(&t, ROOT, "d"), 0);
}

/* With Landlock, no path outside the folder opens, whatever the call. */
static void check_outside_unreachable(void)
{
	char secret[128];
	snprintf(secret, sizeof secret, "%s/secret", t.outside);
	ck_assert_int_lt(open(secret, O_RDONLY), 0);
	ck_assert_int_eq(errno, EACCES);
	ck_assert_int_lt(openat(t.rootfd, "../outside/secret", O_RDONLY), 0);
	ck_assert_int_lt(open("/etc/hostname", O_RDONLY), 0);
	ck_assert_int_lt(mkdirat(AT_FDCWD, "/tmp/sm-jail-escape", 0700), 0);
}

/* A server's /proc/self/fd is its creator's: the child makes its own
 * (before the jail, as the VMM does) and sends INIT again. */
static void serve_here(bool readonly)
{
	struct fs_server_opts o = { .readonly = readonly };
	struct fs_err err;
	fs_server_free(t.srv);
	t.srv = fs_server_new_opts(t.rootfd, &o, &err);
	ck_assert_msg(t.srv != NULL, "%s", err.msg);
	struct fuse_init_out io;
	ck_assert_int_eq(th_init(&t, FUSE_KERNEL_VERSION, FUSE_KERNEL_MINOR_VERSION, 0, &io), 0);
}

/* Fork; the child is jailed as a VMM serving t.root and runs fn. Returns
 * its wait status; its stderr (the jail's report) goes to ours. */
static int run_jailed(bool readonly, void (*fn)(void))
{
	struct jail_folders f = { .n = 1, .path = { t.root }, .readonly = { readonly } };
	landlock = jail_landlock_abi();
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		serve_here(readonly);
		struct vm_err err = { "" };
		if (vm_jail_enter(-1, &f, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(100);
		}
		fn();
		if (landlock > 0)
			check_outside_unreachable();
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return st;
}

START_TEST(every_op_works_jailed)
{
	th_setup(&t, NULL);
	th_host_write(&t, "outside/secret", "host secret");
	int st = run_jailed(false, exercise_server);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "jailed server: %s %d (a SIGSYS names its call above)",
		      WIFSIGNALED(st) ? "signal" : "exit",
		      WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	bool there;
	const char *content = th_host_read(&t, "root/f", &there); /* the harness's buffer */
	ck_assert(there);
	ck_assert_str_eq(content, "jai"); /* written, then truncated to 3 */
}
END_TEST

static void read_only_reads(void)
{
	struct fuse_entry_out e;
	uint64_t fh;
	ck_assert_int_eq(th_lookup(&t, ROOT, "r", &e), 0);
	ck_assert_int_eq(th_open(&t, e.nodeid, O_RDONLY, &fh), 0);
	char buf[8] = { 0 };
	ck_assert_int_eq(th_read(&t, e.nodeid, fh, 0, buf, sizeof buf), 2);
	ck_assert_int_eq(th_release(&t, e.nodeid, fh), 0);
	char p[160];
	snprintf(p, sizeof p, "%s/r", t.root);
	/* Landlock grants reading only: even the process itself cannot write. */
	if (landlock > 0)
		ck_assert_int_lt(open(p, O_WRONLY), 0);
}

START_TEST(read_only_folder_jailed_for_reading)
{
	struct fs_server_opts o = { .readonly = true };
	th_setup(&t, &o);
	th_host_write(&t, "root/r", "ro");
	th_host_write(&t, "outside/secret", "host secret");
	int st = run_jailed(true, read_only_reads);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "jailed read-only server: %d", st);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fuse_jailed");
	TCase *tc = tcase_create("jailed");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, every_op_works_jailed);
	tcase_add_test(tc, read_only_folder_jailed_for_reading);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)

/* test_fs_bind.c - the worker channel's FS_BIND and FS_SEAL (daemon/vm/
 * fs_bind.h, worker_proto.h) against a real channel thread and real
 * virtio-fs slots (no /dev/kvm: the slots are initialised without a VM).
 *
 * In this process: every bad request gets FS_BIND_DONE -1 with a reason
 * that names it (no descriptor, two, a file, a bad slot index, bad flag
 * bits, a slot that serves a folder already, a VMM started without
 * --fs-allow), and none leaves a descriptor behind; good binds give the
 * slot its server. In a forked child that enters the VMM's jail with
 * --fs-allow of a root folder, with three extra threads blocked in read()
 * as a VMM's are: before FS_SEAL every thread reaches the whole root;
 * after it, every thread (main, the three, the channel's own) reaches the
 * bound folder only (none at all after a seal with nothing bound), and a
 * bind after the seal is refused.
 */
#include "../check_main.h"
#include "../worker_request.h"
#include "daemon/vm/fs_bind.h"
#include "daemon/vm/jail.h"
#include "daemon/vm/vm_control.h"
#include "daemon/vm/worker_channel.h"
#include "daemon/vm/worker_proto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NPROBES 3

static char dir[64], a[96], b[96], file[96];
static struct guest_mem mem;
static struct virtio_fs fsdev[2];
static struct virtio_devices devs;
static struct vm vm;
static struct vm_control ctl;

static void mkfile(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void setup(void)
{
	strcpy(dir, "/tmp/sm-fsbind-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	snprintf(file, sizeof file, "%s/file", dir);
	ck_assert_int_eq(mkdir(a, 0755), 0);
	ck_assert_int_eq(mkdir(b, 0755), 0);
	char p[128];
	snprintf(p, sizeof p, "%s/f", a);
	mkfile(p, "a");
	snprintf(p, sizeof p, "%s/f", b);
	mkfile(p, "b");
	mkfile(file, "not a folder");
	memset(&devs, 0, sizeof devs);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(virtio_fs_init(&fsdev[i], &mem, i ? "sm1" : "sm0"), 0);
		devs.fs[i] = &fsdev[i];
	}
	devs.nfs = 2;
	memset(&vm, 0, sizeof vm);
	ck_assert_int_eq(vm_control_init(&ctl), 0);
	vm.ctl = &ctl;
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++) {
		virtio_fs_fini(&fsdev[i]);
		virtio_mmio_destroy(&fsdev[i].t);
	}
	vm_control_destroy(&ctl);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static int bind_req(int sock, int value, const int *fds, int nfds, char *msg, size_t len)
{
	return worker_request(sock, WORKER_FS_BIND, value, fds, nfds, WORKER_FS_BIND_DONE, msg, len);
}

/* A refused bind names its reason and leaves no descriptor behind. */
static void expect_refused(int sock, int value, const int *fds, int nfds, const char *why)
{
	char msg[256];
	int before = count_fds();
	ck_assert_int_eq(bind_req(sock, value, fds, nfds, msg, sizeof msg), -1);
	ck_assert_msg(strstr(msg, why), "refusal \"%s\" does not say \"%s\"", msg, why);
	ck_assert_int_eq(count_fds(), before);
}

START_TEST(bad_binds_refused)
{
	struct fs_binder bd;
	struct vm_err err = { "" };
	ck_assert_int_eq(fs_binder_open(&bd, &devs, true, &err), 0);
	int sock, peer, fa = open(a, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fb = open(b, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ff = open(file, O_RDONLY | O_CLOEXEC);
	struct worker_channel *ch = worker_test_channel(&vm, &bd, NULL, &sock, &peer);
	expect_refused(sock, 0, NULL, 0, "without the folder's descriptor");
	expect_refused(sock, 7, &fa, 1, "no virtio-fs slot 7 (this VM has 2)");
	expect_refused(sock, 0x200, &fa, 1, "bad value 0x200");
	expect_refused(sock, 0, &ff, 1, "not a directory");
	expect_refused(sock, 0, (int[]){ fa, fb }, 2, "takes one descriptor, not two");
	char msg[256];
	ck_assert_int_eq(bind_req(sock, 0, &fa, 1, msg, sizeof msg), 0);
	ck_assert_msg(strstr(msg, "slot 0 (tag sm0) serves its folder"), "%s", msg);
	ck_assert_ptr_nonnull(fsdev[0].srv);
	expect_refused(sock, 0, &fb, 1, "slot 0 (tag sm0) serves a folder already");
	ck_assert_int_eq(bind_req(sock, 1 | WORKER_FS_READONLY, &fb, 1, msg, sizeof msg), 0);
	ck_assert_msg(strstr(msg, "read-only"), "%s", msg);
	ck_assert_ptr_nonnull(fsdev[1].srv);
	expect_refused(sock, 1, &fb, 1, "serves a folder already");
	worker_test_channel_stop(ch, sock, peer);
	fs_binder_close(&bd);
	close(fa);
	close(fb);
	close(ff);
}
END_TEST

START_TEST(bind_needs_fs_allow)
{
	struct fs_binder bd;
	struct vm_err err = { "" };
	ck_assert_int_eq(fs_binder_open(&bd, &devs, false, &err), 0);
	int sock, peer, fa = open(a, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct worker_channel *ch = worker_test_channel(&vm, &bd, NULL, &sock, &peer);
	expect_refused(sock, 0, &fa, 1, "started without --fs-allow");
	ck_assert_ptr_null(fsdev[0].srv);
	char msg[256];
	ck_assert_int_eq(worker_request(sock, WORKER_FS_SEAL, 0, NULL, 0, WORKER_FS_SEAL_DONE, msg,
				 sizeof msg), 0);
	ck_assert_msg(strstr(msg, "nothing to seal"), "%s", msg);
	worker_test_channel_stop(ch, sock, peer);
	fs_binder_close(&bd);
	close(fa);
}
END_TEST

/* ---- the jailed child ---- */

static struct {
	int cmd[NPROBES][2], res[2];
} probe;

/* 1 if the file opens, 0 if Landlock refuses it (EACCES), -errno else. */
static int try_open(const char *folder)
{
	char p[128];
	snprintf(p, sizeof p, "%s/f", folder);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EACCES ? 0 : -errno;
}

static void *probe_thread(void *arg)
{
	int i = (int)(long)arg;
	char c;
	while (read(probe.cmd[i][0], &c, 1) == 1) {
		int r[2] = { try_open(a), try_open(b) };
		if (write(probe.res[1], r, sizeof r) != sizeof r)
			_exit(40);
	}
	return NULL;
}

/* Every probe thread and this one open a/f and b/f; want[] each. */
static void child_probe(const int want[2], int code)
{
	for (int i = 0; i < NPROBES; i++)
		if (write(probe.cmd[i][1], "p", 1) != 1)
			_exit(41);
	for (int i = 0; i <= NPROBES; i++) {
		int r[2] = { try_open(a), try_open(b) };
		if (i < NPROBES && read(probe.res[0], r, sizeof r) != sizeof r)
			_exit(42);
		if (r[0] != want[0] || r[1] != want[1]) {
			fprintf(stderr, "probe %d: a %d b %d, want %d %d\n", i, r[0], r[1], want[0],
				want[1]);
			_exit(code);
		}
	}
}

/* The child: probes before and after the parent's bind + seal. */
static void child(int sock, int go)
{
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	struct fs_binder bd;
	struct vm_err err = { "" };
	pthread_t t[NPROBES];
	for (int i = 0; i < NPROBES; i++)
		if (pipe2(probe.cmd[i], O_CLOEXEC) ||
		    pthread_create(&t[i], NULL, probe_thread, (void *)(long)i))
			_exit(30);
	struct jail_folders f = { .n = 1, .path = { dir } };
	if (fs_binder_open(&bd, &devs, true, &err) < 0 || vm_jail_enter(-1, &f, &err) < 0) {
		fprintf(stderr, "child: %s\n", err.msg);
		_exit(31);
	}
	child_probe((int[]){ 1, 1 }, 32); /* the jail's ruleset: all of dir */
	struct worker_channel *ch = worker_channel_start(sock, &vm, NULL, NULL, &bd, NULL, &err);
	char c;
	if (!ch || read(go, &c, 1) != 1)
		_exit(33);
	child_probe(c == 'a' ? (int[]){ 1, 0 } : (int[]){ 0, 0 }, 34);
	_exit(0);
}

static void seal_case(bool bind_a)
{
	int sv[2], go[2];
	ck_assert_int_eq(pipe(probe.res), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(pipe(go), 0);
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child(sv[1], go[0]);
	close(sv[1]);
	struct worker_msg m;
	ck_assert_int_eq(recv(sv[0], &m, sizeof m, 0), (ssize_t)sizeof m);
	ck_assert_uint_eq(m.type, WORKER_READY);
	char msg[256];
	int fa = open(a, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (bind_a)
		ck_assert_int_eq(bind_req(sv[0], 0, &fa, 1, msg, sizeof msg), 0);
	ck_assert_int_eq(worker_request(sv[0], WORKER_FS_SEAL, 0, NULL, 0, WORKER_FS_SEAL_DONE, msg,
				 sizeof msg), 0);
	ck_assert_msg(strstr(msg, bind_a ? "every thread confined to the 1 bound folder(s)" :
			      "every thread confined to the 0 bound folder(s)"), "%s", msg);
	ck_assert_int_eq(bind_req(sv[0], 1, &fa, 1, msg, sizeof msg), -1);
	ck_assert_msg(strstr(msg, "sealed"), "%s", msg);
	ck_assert_int_eq(write(go[1], bind_a ? "a" : "n", 1), 1);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: wait status 0x%x", st);
	close(fa);
	close(sv[0]);
	close(go[0]);
	close(go[1]);
	close(probe.res[0]);
	close(probe.res[1]);
}

START_TEST(seal_confines_every_thread)
{
	ck_assert_msg(jail_landlock_abi() > 0, "this kernel offers no Landlock");
	seal_case(true);
}
END_TEST

START_TEST(seal_without_binds_confines_to_nothing)
{
	ck_assert_msg(jail_landlock_abi() > 0, "this kernel offers no Landlock");
	seal_case(false);
}
END_TEST

static Suite *fs_bind_suite(void)
{
	Suite *s = suite_create("fs_bind");
	TCase *tc = tcase_create("fs_bind");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_binds_refused);
	tcase_add_test(tc, bind_needs_fs_allow);
	tcase_add_test(tc, seal_confines_every_thread);
	tcase_add_test(tc, seal_without_binds_confines_to_nothing);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(fs_bind_suite)

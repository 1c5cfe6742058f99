/* test_jail.c - the VMM's jail (daemon/vm/jail.h): a forked child enters it
 * and then either does what the VMM does at run time (I/O on descriptors it
 * opened before, eventfd, a KVM ioctl, memory, threads, AF_UNIX connects,
 * getrandom, and the thread kicks and joins by which a VM ends) and exits
 * 0, or tries one thing outside the allowlist and must die of SIGSYS after
 * a line that names the call (and a WORKER_FORBIDDEN message on the worker
 * channel). The parent also reads the jailed child's /proc status: seccomp
 * filter mode, no_new_privs, no capabilities.
 */
#include "../check_main.h"
#include "daemon/vm/jail.h"
#include "daemon/vm/jail_report.h"
#include "daemon/vm/worker_proto.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the allowed child uses, all opened before the jail. */
static struct {
	int pipe[2], go[2], quiet[2], efd, kvm, listen_fd;
	char dir[64], sock[100];
} pre;

/* Fork; the child enters the jail (reporting on report_fd, with stderr
 * on stderr_fd unless -1) and runs fn, then exit(0) (which in a sanitized
 * build runs LeakSanitizer inside the jail). Returns its pid. */
static pid_t fork_jailed(void (*fn)(void), int report_fd, int stderr_fd)
{
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core); /* SIGSYS would dump core */
		if (stderr_fd >= 0)
			dup2(stderr_fd, STDERR_FILENO);
		struct vm_err err = { "" };
		if (vm_jail_enter(report_fd, NULL, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(100);
		}
		fn();
		exit(0);
	}
	return pid;
}

/* The child's wait status; what it wrote to stderr goes to out. */
static int run_jailed(void (*fn)(void), int report_fd, char *out, size_t outlen)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork_jailed(fn, report_fd, p[1]);
	close(p[1]);
	size_t len = 0;
	ssize_t n;
	while (len < outlen - 1 && (n = read(p[0], out + len, outlen - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = 0;
	close(p[0]);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return st;
}

/* Death by SIGSYS after a line naming the call. */
static void expect_sigsys(void (*fn)(void), const char *what, long nr, const char *name)
{
	char out[4096], want[128];
	int st = run_jailed(fn, -1, out, sizeof(out));
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
		      "%s: wait status 0x%x, want death by SIGSYS; stderr: %s", what, st, out);
	snprintf(want, sizeof(want), "supermachine-vmm: jail: forbidden system call %ld (%s); "
		 "ending by SIGSYS\n", nr, name);
	ck_assert_msg(strstr(out, want), "%s: stderr has no \"%s\": %s", what, want, out);
}

static void do_execve(void)
{
	char *argv[] = { "true", NULL };
	execve("/bin/true", argv, environ);
}
static void do_open(void) { open("/etc/passwd", O_RDONLY); }
static void do_open_rw(void) { syscall(SYS_open, "/etc/passwd", O_RDWR); }
static void do_inet(void) { socket(AF_INET, SOCK_STREAM, 0); }
#if !defined(__SANITIZE_ADDRESS__)
static void do_sys_open(void) { syscall(SYS_open, "/etc/passwd", O_RDONLY); }
static void do_ptrace(void) { ptrace(PTRACE_TRACEME, 0, NULL, NULL); }
#endif
static void do_fork(void) { if (fork() == 0) _exit(0); }
static void do_unlink(void) { unlink(pre.sock); }
static void do_exec_mem(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static void do_tty_ioctl(void) { ioctl(pre.pipe[1], TIOCSTI, "x"); }
/* A VMM without shared folders (bound or --fs-allow) cannot narrow or
 * change its Landlock domain either: FS_SEAL's calls are not its own. */
static void do_landlock(void) { syscall(SYS_landlock_create_ruleset, NULL, 0, 1); }

START_TEST(forbidden_calls_kill)
{
	expect_sigsys(do_execve, "execve", SYS_execve, "execve");
	expect_sigsys(do_open, "open /etc/passwd (openat)", SYS_openat, "openat");
	expect_sigsys(do_open_rw, "open(2) /etc/passwd read-write", SYS_open, "open");
	expect_sigsys(do_inet, "socket(AF_INET)", SYS_socket, "socket");
	expect_sigsys(do_fork, "fork", SYS_clone, "clone");
	expect_sigsys(do_unlink, "unlink", SYS_unlink, "unlink");
	expect_sigsys(do_exec_mem, "mmap PROT_EXEC", SYS_mmap, "mmap");
	expect_sigsys(do_tty_ioctl, "ioctl TIOCSTI", SYS_ioctl, "ioctl");
	expect_sigsys(do_landlock, "landlock_create_ruleset", SYS_landlock_create_ruleset,
		      "landlock_create_ruleset");
#if !defined(__SANITIZE_ADDRESS__)
	/* allowed in sanitized builds for LeakSanitizer (jail.c) */
	expect_sigsys(do_sys_open, "open(2) /etc/passwd read-only", SYS_open, "open");
	expect_sigsys(do_ptrace, "ptrace", SYS_ptrace, "ptrace");
#endif
}
END_TEST

/* The names come from libseccomp: spot-check the table. */
START_TEST(syscall_names)
{
	struct vm_err err = { "" };
	ck_assert_int_eq(jail_report_install(-1, &err), 0);
	signal(SIGSYS, SIG_DFL);
	ck_assert_str_eq(jail_syscall_name(SYS_execve), "execve");
	ck_assert_str_eq(jail_syscall_name(SYS_gettid), "gettid");
	ck_assert_str_eq(jail_syscall_name(SYS_openat), "openat");
	ck_assert_str_eq(jail_syscall_name(-1), "unknown");
	ck_assert_str_eq(jail_syscall_name(100000), "unknown");
}
END_TEST

/* With a worker channel, the daemon hears of the call too. */
START_TEST(forbidden_call_reported_on_channel)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	char out[4096];
	int st = run_jailed(do_execve, sv[1], out, sizeof(out));
	close(sv[1]);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "wait status 0x%x", st);
	struct worker_msg m;
	ck_assert_int_eq(recv(sv[0], &m, sizeof(m), MSG_DONTWAIT), (ssize_t)sizeof(m));
	ck_assert_uint_eq(m.type, WORKER_FORBIDDEN);
	ck_assert_int_eq(m.value, SYS_execve);
	ck_assert_str_eq(m.text, "execve");
	close(sv[0]);
}
END_TEST

static void *thread_fn(void *arg)
{
	struct timespec ts = { 0, 1000000 };
	nanosleep(&ts, NULL);
	return arg;
}

/* The ways a VM ends, as glibc sees them: a vCPU thread that ends the VM
 * kicks every vCPU, itself included (vm_request_stop: pthread_kill, which
 * for the calling thread is gettid + tgkill with every signal blocked),
 * and the others out of a blocking call; then every thread is joined. */
static void kick(int sig) { (void)sig; }

static void *blocked_vcpu(void *arg)
{
	struct pollfd p = { .fd = pre.quiet[0], .events = POLLIN };
	poll(&p, 1, 200); /* the kick ends it early, or the timeout does */
	return arg;
}

static void *stopping_vcpu(void *arg)
{
	pthread_t *peer = arg;
	if (pthread_kill(pthread_self(), SIGUSR1) || pthread_kill(*peer, SIGUSR1))
		_exit(20);
	return arg;
}

static void vm_ending_paths(void)
{
	struct sigaction sa = { .sa_handler = kick };
	sigemptyset(&sa.sa_mask);
	pthread_t blocked, stopping;
	if (sigaction(SIGUSR1, &sa, NULL) || pthread_create(&blocked, NULL, blocked_vcpu, NULL) ||
	    pthread_create(&stopping, NULL, stopping_vcpu, &blocked) ||
	    pthread_join(stopping, NULL) || pthread_join(blocked, NULL))
		_exit(21);
	raise(SIGUSR1);
}

static void uds_roundtrip(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, pre.sock);
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		_exit(10);
	int s = accept4(pre.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	char b = 0;
	if (s < 0 || send(c, "v", 1, MSG_NOSIGNAL) != 1 || recv(s, &b, 1, 0) != 1 || b != 'v')
		_exit(11);
	shutdown(s, SHUT_RDWR);
	close(s);
	close(c);
}

static void allowed(void)
{
	char b;
	/* wait until the parent has looked at our /proc status */
	if (write(pre.pipe[1], "j", 1) != 1 || read(pre.go[0], &b, 1) != 1)
		_exit(1);
	eventfd_t v = 0;
	if (eventfd_write(pre.efd, 3) || eventfd_read(pre.efd, &v) || v != 3)
		_exit(2);
	if (pre.kvm >= 0 && ioctl(pre.kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		_exit(3);
	char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m, 4096, PROT_READ) || munmap(m, 1 << 20))
		_exit(4);
	void *p = malloc(8 << 20); /* glibc: mmap; ASan: its own */
	free(p);
	pthread_t t;
	void *ret = NULL;
	if (pthread_create(&t, NULL, thread_fn, &b) || pthread_join(t, &ret) || ret != &b)
		_exit(5);
	uds_roundtrip();
	vm_ending_paths();
	uint8_t rnd[16];
	struct timespec ts;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd) || clock_gettime(CLOCK_MONOTONIC, &ts))
		_exit(6);
	fprintf(stderr, "jailed child: all allowed calls worked\n");
}

static void status_line(pid_t pid, const char *key, char *val, size_t n)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	val[0] = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			snprintf(val, n, "%s", line + strlen(key));
	fclose(f);
	val[strcspn(val, "\n")] = 0;
}

START_TEST(allowed_calls_work)
{
	pid_t pid = fork_jailed(allowed, -1, -1);
	char b, val[64];
	ck_assert_int_eq(read(pre.pipe[0], &b, 1), 1);
	status_line(pid, "Seccomp:", val, sizeof(val));
	ck_assert_str_eq(val, "\t2");
	status_line(pid, "NoNewPrivs:", val, sizeof(val));
	ck_assert_str_eq(val, "\t1");
	status_line(pid, "CapEff:", val, sizeof(val));
	ck_assert_str_eq(val, "\t0000000000000000");
	status_line(pid, "CapPrm:", val, sizeof(val));
	ck_assert_str_eq(val, "\t0000000000000000");
	ck_assert_int_eq(write(pre.go[1], "g", 1), 1);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status 0x%x, want exit 0", st);
}
END_TEST

static void setup(void)
{
	ck_assert_int_eq(pipe(pre.pipe), 0);
	ck_assert_int_eq(pipe(pre.go), 0);
	ck_assert_int_eq(pipe(pre.quiet), 0);
	pre.efd = eventfd(0, EFD_CLOEXEC);
	ck_assert_int_ge(pre.efd, 0);
	pre.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC); /* -1 without KVM: skip that call */
	strcpy(pre.dir, "/tmp/sm-jail-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(pre.dir));
	snprintf(pre.sock, sizeof(pre.sock), "%s/s", pre.dir);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, pre.sock);
	pre.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(pre.listen_fd, 0);
	ck_assert_int_eq(bind(pre.listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(pre.listen_fd, 4), 0);
}

static void teardown(void)
{
	unlink(pre.sock);
	rmdir(pre.dir);
	close(pre.listen_fd);
	close(pre.pipe[0]);
	close(pre.pipe[1]);
	close(pre.go[0]);
	close(pre.go[1]);
	close(pre.quiet[0]);
	close(pre.quiet[1]);
	close(pre.efd);
	if (pre.kvm >= 0)
		close(pre.kvm);
}

static Suite *jail_suite(void)
{
	Suite *s = suite_create("jail");
	TCase *tc = tcase_create("jail");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, forbidden_calls_kill);
	tcase_add_test(tc, syscall_names);
	tcase_add_test(tc, forbidden_call_reported_on_channel);
	tcase_add_test(tc, allowed_calls_work);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(jail_suite)

/* jail_report.c - a jailed VMM that makes a forbidden system call says which
 * one before it dies (jail_report.h).
 *
 * The filter's default action is SECCOMP_RET_TRAP: the kernel does not run
 * the call and sends SIGSYS to the thread that made it, with the call's
 * number in si_syscall. The handler here writes
 *     supermachine-vmm: jail: forbidden system call 39 (getpid); ending by SIGSYS
 * to stderr, sends the same on the worker channel (WORKER_FORBIDDEN,
 * worker_proto.h) when there is one, and then ends the whole process by
 * SIGSYS with the default action, so every parent sees exactly what the
 * kernel's kill action would have shown.
 *
 * The handler uses only async-signal-safe calls (write, send, sigaction,
 * raise, sigprocmask, _exit), all of them in the allowlist; the names come
 * from libseccomp, resolved once before the jail into a fixed table.
 *
 * One case it cannot report: a forbidden call made while SIGSYS is blocked
 * (glibc blocks every signal while pthread_kill signals another thread and
 * around pthread_create's clone). The kernel then kills the process by
 * SIGSYS at once and no handler runs; the parent still sees SIGSYS. A
 * kernel booted with print-fatal-signals=1 (the emulated KVM host is)
 * logs the death with the registers, ORIG_RAX being the call's number.
 */
#include "jail_report.h"
#include "worker_proto.h"

#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NAME_MAX_LEN 32
#define NAMES 512 /* x86-64 numbers in use end below 470 */

static char names[NAMES][NAME_MAX_LEN];
static int report_fd = -1;

static void fill_names(void)
{
	for (int nr = 0; nr < NAMES; nr++) {
		char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (n && strlen(n) < NAME_MAX_LEN)
			strcpy(names[nr], n);
		free(n);
	}
}

const char *jail_syscall_name(long nr)
{
	return nr >= 0 && nr < NAMES && names[nr][0] ? names[nr] : "unknown";
}

/* Async-signal-safe string building. */
struct line {
	char buf[200];
	size_t len;
};

static void put_str(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = *s++;
}

static void put_num(struct line *l, long v)
{
	char digits[24];
	int n = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
	do
		digits[n++] = (char)('0' + u % 10);
	while ((u /= 10) && n < (int)sizeof(digits));
	if (v < 0)
		put_str(l, "-");
	while (n > 0 && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = digits[--n];
}

static void send_report(long nr, const char *name)
{
	if (report_fd < 0)
		return;
	struct worker_msg m = { .type = WORKER_FORBIDDEN, .value = (int32_t)nr };
	size_t n = strlen(name);
	memcpy(m.text, name, n < sizeof(m.text) ? n : sizeof(m.text) - 1);
	(void)!send(report_fd, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The default action of SIGSYS ends the process (the signal stays blocked
 * inside this handler until it is unblocked below). */
static void die_by_sigsys(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGSYS, &dfl, NULL);
	raise(SIGSYS);
	sigset_t sys;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	sigprocmask(SIG_UNBLOCK, &sys, NULL);
	_exit(128 + SIGSYS); /* not reached */
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	long nr = si->si_syscall;
	const char *name = jail_syscall_name(nr);
	struct line l = { .len = 0 };
	put_str(&l, "supermachine-vmm: jail: forbidden system call ");
	put_num(&l, nr);
	put_str(&l, " (");
	put_str(&l, name);
	put_str(&l, "); ending by SIGSYS\n");
	(void)!write(STDERR_FILENO, l.buf, l.len);
	send_report(nr, name);
	die_by_sigsys();
}

int jail_report_install(int fd, struct vm_err *err)
{
	fill_names();
	report_fd = fd;
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return vm_errno(err, "jail: SIGSYS handler");
	sigset_t sys;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	if (pthread_sigmask(SIG_UNBLOCK, &sys, NULL) != 0)
		return vm_errf(err, "jail: unblocking SIGSYS");
	return 0;
}

/* jail_threads.c - enforce a Landlock ruleset on every thread of the VMM
 * (jail_files.h: jail_landlock_all_threads).
 *
 * landlock_restrict_self() restricts the calling thread (and the threads
 * it makes later) only. A kernel with LANDLOCK_RESTRICT_SELF_TSYNC (ABI 8)
 * does the rest itself. Elsewhere (Debian 12's 6.1 has ABI 2) each thread
 * must make the call: this one directly, every other by a signal whose
 * handler makes it with the ruleset and writes {tid, errno} to a pipe.
 * The threads are read from /proc/self/task (opened before the jail; a
 * directory read needs no path lookup, so Landlock does not stand in the
 * way); after the confirmations the list is read again, and threads that
 * appeared meanwhile (made by a thread not yet restricted) are signalled
 * in turn. No answer within JAIL_CONFIRM_MS, or a failed call, is an
 * error naming the thread. The VMM's threads are all in system calls that
 * a signal interrupts harmlessly: KVM_RUN returns EINTR (a vCPU goes
 * round its loop), futex and read restart (SA_RESTART), epoll_wait and
 * poll return EINTR, which their loops retry.
 */
#include "jail_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define JAIL_CONFIRM_MS 2000
#define MAX_THREADS 512
#define MAX_ROUNDS 8

struct confirm {
	pid_t tid;
	int err; /* 0, or landlock_restrict_self's errno */
};

static volatile int sig_ruleset = -1;
static volatile int sig_pipe = -1;

static void on_signal(int sig)
{
	(void)sig;
	int saved = errno;
	struct confirm c = { .tid = (pid_t)syscall(SYS_gettid) };
	if (syscall(SYS_landlock_restrict_self, sig_ruleset, 0) < 0)
		c.err = errno;
	if (sig_pipe >= 0 && write(sig_pipe, &c, sizeof c) != sizeof c) {
		/* the waiter reports the missing answer */
	}
	errno = saved;
}

/* The tids in /proc/self/task; -1 with err. */
static int list_threads(int task_fd, pid_t *tids, int cap, struct vm_err *err)
{
	char buf[4096];
	int n = 0;
	if (lseek(task_fd, 0, SEEK_SET) < 0)
		return vm_errno(err, "jail: listing the threads");
	for (;;) {
		long len = syscall(SYS_getdents64, task_fd, buf, sizeof buf);
		if (len < 0)
			return vm_errno(err, "jail: listing the threads");
		if (len == 0)
			return n;
		for (long off = 0; off < len;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			if (d->d_name[0] == '.')
				continue;
			if (n == cap)
				return vm_errf(err, "jail: more than %d threads", cap);
			tids[n++] = (pid_t)atoi(d->d_name);
		}
	}
}

static bool contains(const pid_t *set, int n, pid_t tid)
{
	for (int i = 0; i < n; i++)
		if (set[i] == tid)
			return true;
	return false;
}

/* Read `want` confirmations into done[]; 0, or -1 with err. */
static int collect(int rd, int want, pid_t *done, int *ndone, struct vm_err *err)
{
	while (want > 0) {
		struct pollfd p = { .fd = rd, .events = POLLIN };
		int r = poll(&p, 1, JAIL_CONFIRM_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return vm_errf(err, "jail: %d thread(s) did not confirm their Landlock "
				       "restriction within %d ms", want, JAIL_CONFIRM_MS);
		struct confirm c;
		if (read(rd, &c, sizeof c) != sizeof c)
			return vm_errno(err, "jail: reading a thread's confirmation");
		if (c.err) {
			errno = c.err;
			return vm_errno(err, "jail: thread %d: landlock_restrict_self", (int)c.tid);
		}
		if (*ndone < MAX_THREADS)
			done[(*ndone)++] = c.tid;
		want--;
	}
	return 0;
}

/* Signal every listed thread not yet done, until a listing finds none. */
static int signal_rounds(int task_fd, int rd, pid_t self, pid_t *done, int *ndone,
			 struct vm_err *err)
{
	static pid_t tids[MAX_THREADS];
	for (int round = 0; round < MAX_ROUNDS; round++) {
		int n = list_threads(task_fd, tids, MAX_THREADS, err), sent = 0;
		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			if (tids[i] == self || contains(done, *ndone, tids[i]))
				continue;
			if (syscall(SYS_tgkill, getpid(), tids[i], JAIL_SIG_LANDLOCK) < 0) {
				if (errno == ESRCH)
					continue; /* it ended meanwhile */
				return vm_errno(err, "jail: signalling thread %d", (int)tids[i]);
			}
			sent++;
		}
		if (sent == 0)
			return 0;
		if (collect(rd, sent, done, ndone, err) < 0)
			return -1;
	}
	return vm_errf(err, "jail: threads kept appearing while the Landlock ruleset was "
		       "enforced");
}

static int by_signals(int ruleset, int task_fd, struct vm_err *err)
{
	static pid_t done[MAX_THREADS];
	int ndone = 0, p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return vm_errno(err, "jail: confirmation pipe");
	sig_ruleset = ruleset;
	sig_pipe = p[1];
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART }, old;
	sigemptyset(&sa.sa_mask);
	int r = sigaction(JAIL_SIG_LANDLOCK, &sa, &old);
	if (r < 0)
		vm_errno(err, "jail: sigaction");
	else if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		r = vm_errno(err, "jail: enforcing the Landlock ruleset");
	else
		r = signal_rounds(task_fd, p[0], (pid_t)syscall(SYS_gettid), done, &ndone, err);
	if (r < 0) /* a late handler may still run: keep its pipe and ruleset open */
		return -1;
	sigaction(JAIL_SIG_LANDLOCK, &old, NULL);
	sig_pipe = -1;
	sig_ruleset = -1;
	close(p[0]);
	close(p[1]);
	return 0;
}

int jail_landlock_all_threads(int ruleset, int task_fd, struct vm_err *err)
{
#ifdef LANDLOCK_RESTRICT_SELF_TSYNC
	if (jail_landlock_abi() >= 8) {
		if (syscall(SYS_landlock_restrict_self, ruleset, LANDLOCK_RESTRICT_SELF_TSYNC) < 0)
			return vm_errno(err, "jail: enforcing the Landlock ruleset on every thread");
		return 0;
	}
#endif
	return by_signals(ruleset, task_fd, err);
}

/* jail.c - drop capabilities, NO_NEW_PRIVS, a seccomp allowlist (jail.h);
 * with shared folders (bound, or allowed for a later bind: --fs-allow) the
 * file calls too, then Landlock on every thread (jail_files.c).
 *
 * The list was found by reading the VMM's run-time code and checked by
 * running every VM test with the filter in audit mode (SCMP_ACT_LOG) under
 * the emulated KVM host, then with the kill action. Setup (opening KVM,
 * files, the listener, creating eventfds) happens before the jail and needs
 * none of this. Arguments are checked where the call could otherwise do
 * more than the VMM needs: sockets are AF_UNIX only, clone makes threads
 * only, mmap/mprotect never make memory executable, ioctl is KVM's only
 * (run mode never asks for a pty, so no terminal ioctl), fcntl only reads
 * and sets fd/status flags.
 *
 * Sanitizer builds (-Dsanitize=true, what the tests use) add what
 * ASan/LSan do at exit and when reporting: LSan's StopTheWorld clones a
 * tracer task that ptrace-attaches to every thread, and both read
 * /proc/self/{maps,task} (read-only open(2); glibc's open() is openat,
 * which stays forbidden). So a sanitized VMM can read files; release
 * builds allow none of that.
 */
#include "jail.h"
#include "jail_files.h"
#include "jail_report.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Allowed with any arguments. */
static const int any_args[] = {
	/* I/O on descriptors opened before the jail, and ones accept4/socket
	 * make: guest disks (blk: preadv/pwritev, zeroes by pwrite, FLUSH is
	 * fdatasync, DISCARD and WRITE_ZEROES are fallocate), console log,
	 * vsock sockets, the worker channel, eventfds, run mode's stdin/stdout
	 * and signalfd. writev: glibc's fatal error messages (malloc checks). */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(pwrite64),
	SCMP_SYS(preadv), SCMP_SYS(pwritev), SCMP_SYS(fdatasync), SCMP_SYS(fallocate),
	SCMP_SYS(close),
	/* waiting: device thread (epoll), agent client and run mode (poll) */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_ctl), SCMP_SYS(poll),
	/* vsock host side and the worker channel (send/recv are sendto/recvfrom) */
	SCMP_SYS(connect), SCMP_SYS(accept4), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(shutdown),
	/* threads, locks, memory (malloc, thread stacks) */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(munmap),
	SCMP_SYS(madvise), SCMP_SYS(brk), SCMP_SYS(mremap), SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	/* signals: vCPU kicks (pthread_kill: getpid, tgkill; on the calling
	 * thread itself, as when a vCPU that ends the VM kicks every vCPU,
	 * glibc asks gettid first), run mode's forwarding (signalfd made
	 * before; agent_client sends the signal), jail_report.c's raise() */
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(tgkill), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
	/* time (clock_gettime when the vDSO cannot answer): supervisor
	 * timeouts, the agent client's retries (usleep: clock_nanosleep) */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	/* virtio-rng */
	SCMP_SYS(getrandom),
	/* a snapshot's copy of the read-write disk (file_copy.c) into the
	 * file the daemon sent: its extents (lseek SEEK_DATA/SEEK_HOLE),
	 * copy_file_range, else pread/pwrite; ftruncate sizes it (FICLONE is
	 * an ioctl: add_restricted). pread also reads NET_ATTACH's policy
	 * file (net_attach.c), whose socket is checked by recv (recvfrom)
	 * with MSG_PEEK and made non-blocking by fcntl F_SETFL. */
	SCMP_SYS(lseek), SCMP_SYS(copy_file_range), SCMP_SYS(pread64), SCMP_SYS(ftruncate),
	/* run mode's agent client makes a wake-up pipe per connection */
	SCMP_SYS(pipe2),
};

/* A VMM serving host folders (jail_files.h): the FUSE server's calls, all
 * on descriptors beneath the shared roots (Landlock, where the kernel has
 * it, keeps every path inside them): lookups and reopens (openat2, openat
 * of /proc/self/fd/N), attributes, directory listing, creating, linking,
 * renaming and removing entries, I/O beyond what disks use (lseek, pread,
 * ftruncate and copy_file_range are any_args' already), xattrs. */
static const int file_server_calls[] = {
	SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(newfstatat), SCMP_SYS(fstat),
	SCMP_SYS(statx), SCMP_SYS(fstatfs), SCMP_SYS(getdents64),
	SCMP_SYS(readlinkat), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
	SCMP_SYS(mkdirat), SCMP_SYS(mknodat), SCMP_SYS(symlinkat), SCMP_SYS(linkat),
	SCMP_SYS(unlinkat), SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(fchmod),
	SCMP_SYS(fchmodat), SCMP_SYS(fchown), SCMP_SYS(fchownat), SCMP_SYS(utimensat),
	SCMP_SYS(fsync),
	SCMP_SYS(fgetxattr), SCMP_SYS(fsetxattr), SCMP_SYS(flistxattr),
	SCMP_SYS(fremovexattr),
	/* FS_SEAL (fs_bind.c) narrows Landlock to the bound folders, on
	 * every thread (jail_threads.c: a signal each, confirmed on a pipe) */
	SCMP_SYS(landlock_create_ruleset), SCMP_SYS(landlock_add_rule),
	SCMP_SYS(landlock_restrict_self),
};

#if JAIL_SANITIZER
/* ASan/LSan at exit and in reports (see the top of this file), as seen
 * in the audit log of jailed sanitized VMMs, unit tests and a leaking test
 * program: the tracer task (ptrace, wait4, prctl, getdents of
 * /proc/self/task and lseek to list it again when threads came or went,
 * kill when the tracer fails, its own sigaltstack), the leak
 * report (getppid, sched_yield), ASan's start of every thread
 * (sigaltstack, pthread_getattr_np's sched_getaffinity). */
static const int sanitizer_any_args[] = {
	SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(prctl), SCMP_SYS(getdents),
	SCMP_SYS(kill), SCMP_SYS(sigaltstack),
	SCMP_SYS(getppid), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
};
#endif

static int add(scmp_filter_ctx ctx, int nr, unsigned n, const struct scmp_arg_cmp *cmp)
{
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
}

/* Calls allowed only with some arguments; 0 or a negative errno. */
static int add_restricted(scmp_filter_ctx ctx)
{
	const uint64_t thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
	const uint64_t kvm_type = (uint64_t)0xff << _IOC_TYPESHIFT;
	int r = 0;
	r = r ?: add(ctx, SCMP_SYS(socket), 1,
		     (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_EQ, AF_UNIX) });
	/* pthread_create: clone with every "share" flag, i.e. a thread;
	 * clone3 (whose flags live in memory we cannot check) says ENOSYS,
	 * which makes glibc fall back to clone. */
	r = r ?: add(ctx, SCMP_SYS(clone), 1,
		     (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_MASKED_EQ, thread, thread) });
	r = r ?: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	r = r ?: add(ctx, SCMP_SYS(mmap), 1,
		     (struct scmp_arg_cmp[]){ SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) });
	r = r ?: add(ctx, SCMP_SYS(mprotect), 1,
		     (struct scmp_arg_cmp[]){ SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) });
	/* KVM_RUN, register access, irq lines: every KVM ioctl is type 0xAE */
	r = r ?: add(ctx, SCMP_SYS(ioctl), 1, (struct scmp_arg_cmp[]){
		     SCMP_A1(SCMP_CMP_MASKED_EQ, kvm_type, (uint64_t)KVMIO << _IOC_TYPESHIFT) });
	/* a snapshot's reflink of the read-write disk (file_copy.c) */
	r = r ?: add(ctx, SCMP_SYS(ioctl), 1,
		     (struct scmp_arg_cmp[]){ SCMP_A1(SCMP_CMP_EQ, (uint64_t)FICLONE) });
	static const int fcntl_cmds[] = { F_GETFD, F_SETFD, F_GETFL, F_SETFL };
	for (unsigned i = 0; i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]); i++)
		r = r ?: add(ctx, SCMP_SYS(fcntl), 1,
			     (struct scmp_arg_cmp[]){ SCMP_A1(SCMP_CMP_EQ, fcntl_cmds[i]) });
	return r;
}

/* file_server_calls, and fcntl's F_DUPFD_CLOEXEC: FUSE FLUSH closes a
 * duplicate of the open file (which flushes as the guest's close would,
 * keeping the file open for its other users). */
static int add_file_server(scmp_filter_ctx ctx)
{
	int r = 0;
	for (unsigned i = 0; i < sizeof(file_server_calls) / sizeof(file_server_calls[0]); i++)
		r = r ?: add(ctx, file_server_calls[i], 0, NULL);
	r = r ?: add(ctx, SCMP_SYS(fcntl), 1,
		     (struct scmp_arg_cmp[]){ SCMP_A1(SCMP_CMP_EQ, F_DUPFD_CLOEXEC) });
	return r;
}

#if JAIL_SANITIZER
/* LSan's tracer task (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED,
 * no CLONE_THREAD) and the read-only opens of /proc/self/... */
static int add_sanitizer(scmp_filter_ctx ctx)
{
	const uint64_t tracer = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED;
	int r = 0;
	for (unsigned i = 0; i < sizeof(sanitizer_any_args) / sizeof(sanitizer_any_args[0]); i++)
		r = r ?: add(ctx, sanitizer_any_args[i], 0, NULL);
	r = r ?: add(ctx, SCMP_SYS(clone), 1,
		     (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_EQ, tracer) });
	/* sanitizer_common's internal_open is the open syscall (not openat) */
	const uint64_t no_write = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND;
	r = r ?: add(ctx, SCMP_SYS(open), 1,
		     (struct scmp_arg_cmp[]){ SCMP_A1(SCMP_CMP_MASKED_EQ, no_write, O_RDONLY) });
	return r;
}
#endif

static int load_filter(bool file_server, struct vm_err *err)
{
	/* TRAP: jail_report.c names the call, then the process dies by
	 * SIGSYS. (Not SECCOMP_FILTER_FLAG_LOG: it would log every thread's
	 * clone3 ENOSYS in the host's kernel log too.) */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return vm_errf(err, "jail: seccomp_init failed");
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	r = r ?: seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (unsigned i = 0; i < sizeof(any_args) / sizeof(any_args[0]); i++)
		r = r ?: add(ctx, any_args[i], 0, NULL);
	r = r ?: add_restricted(ctx);
	if (file_server)
		r = r ?: add_file_server(ctx);
#if JAIL_SANITIZER
	r = r ?: add_sanitizer(ctx);
#endif
	r = r ?: seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return vm_errf(err, "jail: loading the seccomp filter: %s", strerror(-r));
	return 0;
}

/* No capabilities at all when the process has any (run as root). The
 * bounding and ambient sets only matter across execve, which the filter
 * forbids (and NO_NEW_PRIVS would defuse). */
static int drop_caps(struct vm_err *err)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { 0 };
	if (syscall(SYS_capget, &h, d) < 0)
		return vm_errno(err, "jail: capget");
	bool any = false;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		any |= d[i].effective || d[i].permitted || d[i].inheritable;
	memset(d, 0, sizeof(d));
	if (any && syscall(SYS_capset, &h, d) < 0)
		return vm_errno(err, "jail: dropping capabilities");
	return 0;
}

int vm_jail_enter(int report_fd, const struct jail_folders *folders, struct vm_err *err)
{
	bool file_server = folders && folders->n > 0;
	if (jail_report_install(report_fd, err) < 0 || drop_caps(err) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return vm_errno(err, "jail: PR_SET_NO_NEW_PRIVS");
	/* The filter first: its TSYNC gives every thread no_new_privs, which
	 * each needs to take the Landlock ruleset on itself. */
	if (load_filter(file_server, err) < 0)
		return -1;
	return file_server ? jail_files_restrict(folders, err) : 0;
}

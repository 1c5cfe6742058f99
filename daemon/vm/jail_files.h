/* jail_files.h - the jail of a VMM that serves host folders (virtio-fs).
 *
 * Such a VMM must open and change files at run time, which seccomp alone
 * cannot confine to the shared folders (it sees no path strings). So before
 * the seccomp filter is loaded, jail_files_restrict() applies a Landlock
 * ruleset where the kernel offers one: from then on the process can reach
 * nothing of the filesystem but the shared folders (read-only ones only for
 * reading), whatever path or descriptor it names; then vm_jail_enter()
 * adds the file calls of the FUSE server (daemon/fs/fuse) to the
 * allowlist. A kernel without Landlock (or with it disabled) leaves the
 * FUSE server's own confinement (openat2 beneath each root) as the only
 * one, and jail_files_restrict() says so on stderr.
 */
#ifndef SM_JAIL_FILES_H
#define SM_JAIL_FILES_H

#include <signal.h>
#include <stdbool.h>

#include "vm_err.h"

#define JAIL_MAX_FOLDERS 8
/* The signal by which each thread enforces a new Landlock ruleset on
 * itself (jail_threads.c); SIGUSR1 is the vCPU kick, SIGUSR2 the dump. */
#define JAIL_SIG_LANDLOCK (SIGRTMIN + 1)

/* Sanitizer builds (-Dsanitize=true) need more of the jail: see jail.c. */
#if defined(__SANITIZE_ADDRESS__)
#define JAIL_SANITIZER 1
#else
#define JAIL_SANITIZER 0
#endif

struct jail_folders {
	int n;
	const char *path[JAIL_MAX_FOLDERS];
	bool readonly[JAIL_MAX_FOLDERS];
};

/* The Landlock ABI version the kernel offers; 0: none. */
int jail_landlock_abi(void);

/* Restrict this process (every thread, jail_landlock_all_threads) to the
 * folders. With sanitizer builds, /proc stays readable (LeakSanitizer
 * reads /proc/self at exit). 0, or -1 with err; a kernel without
 * Landlock is not an error. */
int jail_files_restrict(const struct jail_folders *f, struct vm_err *err);

/* A Landlock ruleset that grants the n folders (fds: any descriptor of
 * each directory, O_PATH will do) every right beneath them (readonly[i]:
 * reading only) and nothing else; with sanitizer builds /proc is readable
 * too (proc_fd, -1: not). Its fd, or -1 with err (also when the kernel
 * has no Landlock). */
int jail_landlock_ruleset(const int *fds, const bool *readonly, int n, int proc_fd,
			  struct vm_err *err);

/* Enforce the ruleset on every thread of this process (jail_threads.c):
 * with LANDLOCK_RESTRICT_SELF_TSYNC where the kernel has it, otherwise
 * the calling thread itself and a signal (JAIL_SIG_LANDLOCK) to every
 * other thread listed in task_fd (an open /proc/self/task), whose handler
 * enforces it and confirms; threads made meanwhile are listed again. A
 * thread that does not confirm within 2 s, or whose landlock_restrict_self
 * fails, fails the whole: -1 with err naming it (then some threads may be
 * restricted and others not: end the process). no_new_privs must be set
 * already (vm_jail_enter, or a seccomp filter with TSYNC). */
int jail_landlock_all_threads(int ruleset, int task_fd, struct vm_err *err);

#endif

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

#include <stdbool.h>

#include "vm_err.h"

#define JAIL_MAX_FOLDERS 8

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

/* Restrict this process (all its threads: call it before any thread is
 * started, or see landlock(7)) to the folders. With sanitizer builds,
 * /proc stays readable (LeakSanitizer reads /proc/self at exit). 0, or -1
 * with err; a kernel without Landlock is not an error. */
int jail_files_restrict(const struct jail_folders *f, struct vm_err *err);

#endif

/* jail_files.c - Landlock for a VMM that serves host folders (see
 * jail_files.h).
 *
 * The ruleset handles every filesystem right the kernel's ABI knows, so
 * anything not granted is denied; each shared folder is granted all of
 * them beneath it (read-only folders: reading files and directories
 * only). The rules take a descriptor of each folder (O_PATH will do):
 * paths are opened by jail_files_restrict() before the ruleset is
 * enforced; the folders bound later (fs_bind.h) arrive as descriptors.
 * Landlock applies to the calling thread only, so every ruleset is
 * enforced on every thread of the process (jail_threads.c): the debug
 * dump thread, for one, exists before the jail.
 */
#include "jail_files.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int jail_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

/* Every filesystem right of ABI version abi. */
static uint64_t all_fs_rights(int abi)
{
	uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	return r;
}

static const uint64_t read_rights = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;

static int allow_fd(int ruleset, int fd, uint64_t rights, const char *what, struct vm_err *err)
{
	struct landlock_path_beneath_attr rule = { .allowed_access = rights, .parent_fd = fd };
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
		return vm_errno(err, "jail: Landlock rule for %s", what);
	return 0;
}

int jail_landlock_ruleset(const int *fds, const bool *readonly, int n, int proc_fd,
			  struct vm_err *err)
{
	int abi = jail_landlock_abi();
	if (abi == 0)
		return vm_errf(err, "jail: this kernel offers no Landlock");
	struct landlock_ruleset_attr attr = { .handled_access_fs = all_fs_rights(abi) };
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (ruleset < 0)
		return vm_errno(err, "jail: creating a Landlock ruleset");
	char what[48];
	for (int i = 0; i < n; i++) {
		snprintf(what, sizeof what, "shared folder %d", i);
		if (allow_fd(ruleset, fds[i], readonly[i] ? read_rights : attr.handled_access_fs,
			     what, err) < 0)
			goto fail;
	}
	if (JAIL_SANITIZER && proc_fd >= 0 && allow_fd(ruleset, proc_fd, read_rights, "/proc",
						       err) < 0)
		goto fail;
	return ruleset;
fail:
	close(ruleset);
	return -1;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* O_PATH descriptors of the folders, /proc and /proc/self/task. */
static int open_folders(const struct jail_folders *f, int fds[JAIL_MAX_FOLDERS], int *proc,
			int *task, struct vm_err *err)
{
	for (int i = 0; i < f->n; i++) {
		fds[i] = open(f->path[i], O_PATH | O_CLOEXEC | O_DIRECTORY);
		if (fds[i] < 0) {
			vm_errno(err, "jail: shared folder %s", f->path[i]);
			close_all(fds, i);
			return -1;
		}
	}
	*proc = JAIL_SANITIZER ? open("/proc", O_PATH | O_CLOEXEC | O_DIRECTORY) : -1;
	*task = open("/proc/self/task", O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	if (*task < 0 || (JAIL_SANITIZER && *proc < 0)) {
		vm_errno(err, "jail: opening /proc");
		close_all(fds, f->n);
		close_all((int[]){ *proc, *task }, 2);
		return -1;
	}
	return 0;
}

int jail_files_restrict(const struct jail_folders *f, struct vm_err *err)
{
	if (jail_landlock_abi() == 0) {
		fprintf(stderr, "supermachine-vmm: this kernel offers no Landlock: shared folders "
			"are confined by the FUSE server alone\n");
		return 0;
	}
	int fds[JAIL_MAX_FOLDERS], proc, task;
	if (f->n > JAIL_MAX_FOLDERS)
		return vm_errf(err, "jail: %d shared folders (at most %d)", f->n, JAIL_MAX_FOLDERS);
	if (open_folders(f, fds, &proc, &task, err) < 0)
		return -1;
	int ruleset = jail_landlock_ruleset(fds, f->readonly, f->n, proc, err), r = -1;
	if (ruleset >= 0)
		r = jail_landlock_all_threads(ruleset, task, err);
	if (ruleset >= 0)
		close(ruleset);
	close_all(fds, f->n);
	close_all((int[]){ proc, task }, 2);
	return r;
}

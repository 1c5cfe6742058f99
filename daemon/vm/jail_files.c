/* jail_files.c - Landlock for a VMM that serves host folders (see
 * jail_files.h).
 *
 * The ruleset handles every filesystem right the kernel's ABI knows, so
 * anything not granted is denied; each shared folder is granted all of
 * them beneath it (read-only folders: reading files and directories
 * only). The rules need an O_PATH descriptor of each folder, opened here
 * before the ruleset is enforced. Landlock applies to the calling thread
 * and the threads it creates afterwards; vm_jail_enter() runs before the
 * VMM starts its vCPU and device threads.
 */
#include "jail_files.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
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

static int allow_beneath(int ruleset, const char *path, uint64_t rights, struct vm_err *err)
{
	int fd = open(path, O_PATH | O_CLOEXEC | O_DIRECTORY);
	if (fd < 0)
		return vm_errno(err, "jail: shared folder %s", path);
	struct landlock_path_beneath_attr rule = { .allowed_access = rights, .parent_fd = fd };
	long r = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	int saved = errno;
	close(fd);
	errno = saved;
	return r < 0 ? vm_errno(err, "jail: Landlock rule for %s", path) : 0;
}

static int add_rules(int ruleset, const struct jail_folders *f, uint64_t all, struct vm_err *err)
{
	for (int i = 0; i < f->n; i++)
		if (allow_beneath(ruleset, f->path[i], f->readonly[i] ? read_rights : all, err) < 0)
			return -1;
	if (JAIL_SANITIZER && allow_beneath(ruleset, "/proc", read_rights, err) < 0)
		return -1;
	return 0;
}

int jail_files_restrict(const struct jail_folders *f, struct vm_err *err)
{
	int abi = jail_landlock_abi();
	if (abi == 0) {
		fprintf(stderr, "supermachine-vmm: this kernel offers no Landlock: shared folders "
			"are confined by the FUSE server alone\n");
		return 0;
	}
	struct landlock_ruleset_attr attr = { .handled_access_fs = all_fs_rights(abi) };
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (ruleset < 0)
		return vm_errno(err, "jail: creating a Landlock ruleset");
	int r = add_rules(ruleset, f, attr.handled_access_fs, err);
	if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = vm_errno(err, "jail: PR_SET_NO_NEW_PRIVS");
	if (r == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		r = vm_errno(err, "jail: enforcing the Landlock ruleset");
	close(ruleset);
	return r;
}

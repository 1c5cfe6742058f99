/* fuse_confine.c - name checks, beneath-the-parent opens and reopening
 * O_PATH nodes; see fuse_confine.h for why each exists.
 */
#include "daemon/fs/fuse/fuse_confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int fs_name_check(const char *name)
{
	if (name[0] == '\0' || strchr(name, '/'))
		return -EINVAL;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	return 0;
}

static atomic_bool no_openat2;

/* Before openat2 (Linux < 5.6): a single component with O_NOFOLLOW cannot
 * leave dirfd; a mount crossing is caught by comparing st_dev. */
static int open_fallback(int dirfd, const char *name, int flags, mode_t mode, bool allow_xdev)
{
	int fd = openat(dirfd, name, flags, mode);
	if (fd < 0)
		return -errno;
	struct stat a, b;
	if (!allow_xdev && (fstat(dirfd, &a) < 0 || fstat(fd, &b) < 0 || a.st_dev != b.st_dev)) {
		close(fd);
		return -EXDEV;
	}
	return fd;
}

int fs_open_beneath(int dirfd, const char *name, int flags, mode_t mode, bool allow_xdev)
{
	if (fs_name_check(name) < 0)
		return -EINVAL;
	flags |= O_NOFOLLOW | O_CLOEXEC;
	if (!(flags & O_CREAT))
		mode = 0;
	if (atomic_load(&no_openat2))
		return open_fallback(dirfd, name, flags, mode, allow_xdev);
	struct open_how how = {
		.flags = (uint64_t)(unsigned)flags,
		.mode = mode,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   (allow_xdev ? 0 : RESOLVE_NO_XDEV),
	};
	long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno == ENOSYS) {
		atomic_store(&no_openat2, true);
		return open_fallback(dirfd, name, flags, mode, allow_xdev);
	}
	return -errno;
}

void fs_fd_name(int fd, char buf[16])
{
	snprintf(buf, 16, "%d", fd);
}

int fs_reopen(int proc_fd, int fd, mode_t type, int flags)
{
	flags = (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_DIRECTORY | O_PATH | O_TMPFILE)) |
		O_CLOEXEC | O_NOCTTY;
	int r;
	if (S_ISDIR(type)) {
		r = openat(fd, ".", flags | O_DIRECTORY);
	} else if (S_ISREG(type)) {
		/* The magic link leads to the inode fd holds, which is not a
		 * symlink: nothing is resolved by name here. */
		char name[16];
		fs_fd_name(fd, name);
		r = openat(proc_fd, name, flags);
	} else {
		return S_ISLNK(type) ? -ELOOP : -ENXIO;
	}
	return r < 0 ? -errno : r;
}

int fs_open_flags(uint32_t guest_flags)
{
	int f = (int)guest_flags;
	if ((f & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	return f & (O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | O_DSYNC);
}

bool fs_open_flags_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

mode_t fs_guest_mode(uint32_t mode, mode_t type, bool allow_setid)
{
	mode_t m = mode & 07777;
	if (!allow_setid && !S_ISDIR(type))
		m &= ~(mode_t)(S_ISUID | S_ISGID);
	return m;
}

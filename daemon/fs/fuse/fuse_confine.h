/* fuse_confine.h - keeping the guest inside the shared folder
 * (fuse_confine.c). Every host access the server makes on the guest's
 * behalf goes through these:
 *   - fs_name_check: a guest name is exactly one path component;
 *   - fs_open_beneath: one component, resolved beneath its parent's fd by
 *     openat2 with symlinks, magic links and (by default) mount crossings
 *     refused, and never following a trailing symlink;
 *   - fs_reopen: an O_PATH node reopened for I/O through /proc/self/fd,
 *     only for inode types where that cannot follow a symlink or open a
 *     device;
 *   - fs_open_flags / fs_guest_mode: what of the guest's flags and modes
 *     reaches the host (no O_PATH/O_TMPFILE/O_CREAT tricks on reopen, no
 *     set-user-ID files unless allowed).
 */
#ifndef SM_FS_FUSE_CONFINE_H
#define SM_FS_FUSE_CONFINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* 0 for a single component; -EINVAL for "", "." , ".." and names with '/'. */
int fs_name_check(const char *name);

/* openat2(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode) beneath dirfd,
 * no symlinks or magic links, no mount crossing unless allow_xdev. name
 * must have passed fs_name_check. Returns an fd or -errno. */
int fs_open_beneath(int dirfd, const char *name, int flags, mode_t mode, bool allow_xdev);

/* Reopen the inode behind O_PATH fd (of file type `type`) with flags:
 * regular files through proc_fd (/proc/self/fd), directories as ".";
 * -ELOOP for symlinks, -ENXIO for FIFOs, devices and sockets (opening
 * them can block or act). Returns an fd or -errno. */
int fs_reopen(int proc_fd, int fd, mode_t type, int flags);

/* "N", fd's name in /proc/self/fd. */
void fs_fd_name(int fd, char buf[16]);

/* The host flags for a guest OPEN/CREATE: access mode, O_APPEND, O_TRUNC,
 * O_SYNC/O_DSYNC kept, everything else dropped; -EINVAL for access mode 3. */
int fs_open_flags(uint32_t guest_flags);
/* True if the flags could modify the file (for read-only servers). */
bool fs_open_flags_write(int flags);

/* The permission bits a guest may set on an inode of `type`: 07777, less
 * S_ISUID/S_ISGID on non-directories unless allow_setid. */
mode_t fs_guest_mode(uint32_t mode, mode_t type, bool allow_setid);

#endif

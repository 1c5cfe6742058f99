/* tar_check.h - is a tar of a folder safe to extract into a target folder?
 *
 * Shared by the daemon (PUT /v1/vms/{id}/files with a tar body, checked
 * before anything reaches the guest) and libsupermachine (a folder copied
 * out of a VM, checked before anything is written on the host). Refused:
 * absolute names, ".." segments, device nodes, fifos and sockets, entries
 * below a symlink of the same archive, symlinks whose target is absolute
 * or climbs out of the target (resolved without the file system; a ".."
 * after passing through another symlink of the archive is refused too),
 * and hard links to anything but a regular file of the archive. Not
 * checked: what the target folder already holds (its own symlinks).
 */
#ifndef SM_TAR_CHECK_H
#define SM_TAR_CHECK_H

#include <stddef.h>

#define TAR_CHECK_MAX_ENTRIES (1u << 20)

/* Reads the tar in fd from offset 0 (an empty file is an empty tar) and
 * seeks back to 0. 0 when every entry is safe; -1 with the reason in why,
 * naming the entry ("tar entry \"a/../b\": a \"..\" segment"), or
 * saying why it is not a tar. */
int tar_check_fd(int fd, char *why, size_t whylen);

/* One entry name: "" (the target itself) or a relative path without "."
 * or empty segments written into out; -1 with why for an absolute name
 * or a ".." segment. */
int tar_check_name(const char *name, char *out, size_t outlen, char *why, size_t whylen);

#endif

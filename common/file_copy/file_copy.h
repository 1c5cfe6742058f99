/* file_copy.h - copy a disk image file cheaply: a reflink when the
 * filesystem shares extents (FICLONE: btrfs, XFS), else only its data
 * extents (SEEK_DATA/SEEK_HOLE, each range by copy_file_range, or
 * pread/pwrite where that is refused), so holes stay holes and a sparse
 * 8 GiB image holding 4 MiB of data costs 4 MiB to copy.
 *
 * Used by the daemon (a VM's writable layer from its template or its
 * snapshot, daemon/vms/upper_disk.c) and by the VMM (the writable layer
 * into a snapshot while the VM is paused, with descriptors the daemon
 * opened: no path is opened here).
 */
#ifndef SM_FILE_COPY_H
#define SM_FILE_COPY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum fc_how {
	FC_REFLINK = 1,      /* FICLONE: no data moved */
	FC_SPARSE_COPY = 2,  /* data extents copied, holes kept */
};

struct fc_stats {
	enum fc_how how;
	uint64_t data_bytes; /* bytes copied (0 for a reflink) */
};

/* Makes dst (an open, writable, regular file) a copy of src's first size
 * bytes; src must be exactly size bytes long. dst ends up size bytes
 * long; whatever it held before is replaced. 0, or -1 with err naming
 * what failed (the caller adds which files). */
int fc_copy_fd(int src, int dst, uint64_t size, struct fc_stats *st, char *err, size_t errlen);

/* fc_copy_fd with FC_PLAIN_IO: no reflink and no copy_file_range, only
 * pread/pwrite (what a file system refusing both gets; for tests). */
#define FC_PLAIN_IO 1u
int fc_copy_fd_flags(int src, int dst, uint64_t size, unsigned flags, struct fc_stats *st,
		     char *err, size_t errlen);

/* The same by path: dst is created new (mode, O_EXCL), and removed again
 * when the copy fails. 0, or -1 with err naming both paths. */
int fc_copy_path(const char *src, const char *dst, mode_t mode, struct fc_stats *st,
		 char *err, size_t errlen);

/* "reflink" or "sparse copy". */
const char *fc_how_name(enum fc_how how);

#endif

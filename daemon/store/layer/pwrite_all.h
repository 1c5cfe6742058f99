/* pwrite_all.h - positional read/write that finish short transfers.
 *
 * Shared by the erofs writer files; retries on EINTR and short counts.
 */
#ifndef SM_PWRITE_ALL_H
#define SM_PWRITE_ALL_H

#include <errno.h>
#include <sys/types.h>
#include <unistd.h>

static inline int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Reads exactly len bytes; a short file reads as an error (EIO). */
static inline int pread_all(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

#endif

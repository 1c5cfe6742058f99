/* file_copy.c - reflink, else a copy of the data extents (file_copy.h). */
#include "file_copy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define CHUNK (1u << 20)   /* copy_file_range per call */
#define RW_BUF (64u << 10)  /* pread/pwrite per call */

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return -1;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* [off, end) by pread/pwrite through buf (RW_BUF bytes); chunks of zeros
 * are left as holes (dst was emptied first). */
static int copy_rw_buf(int src, int dst, uint64_t off, uint64_t end, unsigned char *buf,
		       uint64_t *copied, char *err, size_t errlen)
{
	while (off < end) {
		size_t want = end - off < RW_BUF ? (size_t)(end - off) : RW_BUF;
		ssize_t n = pread(src, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(err, errlen, "read");
		if (n == 0) {
			snprintf(err, errlen, "read: the source ended at byte %llu, before its size",
				 (unsigned long long)off);
			return -1;
		}
		if (!all_zero(buf, (size_t)n)) {
			for (ssize_t w = 0; w < n;) {
				ssize_t k = pwrite(dst, buf + w, (size_t)(n - w), (off_t)off + w);
				if (k < 0 && errno == EINTR)
					continue;
				if (k <= 0)
					return fail(err, errlen, "write");
				w += k;
			}
			*copied += (uint64_t)n;
		}
		off += (uint64_t)n;
	}
	return 0;
}

static int copy_rw(int src, int dst, uint64_t off, uint64_t end, uint64_t *copied, char *err,
		   size_t errlen)
{
	unsigned char *buf = malloc(RW_BUF);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = copy_rw_buf(src, dst, off, end, buf, copied, err, errlen);
	free(buf);
	return rc;
}

/* copy_file_range is refused across some filesystems and by some kernels. */
static bool cfr_unsupported(int e)
{
	return e == EXDEV || e == EINVAL || e == ENOSYS || e == EOPNOTSUPP || e == EPERM ||
	       e == EBADF;
}

/* One data extent [off, end); *use_cfr turns false once refused. */
static int copy_range(int src, int dst, uint64_t off, uint64_t end, bool *use_cfr,
		      uint64_t *copied, char *err, size_t errlen)
{
	while (*use_cfr && off < end) {
		loff_t in = (loff_t)off, out = (loff_t)off;
		size_t len = end - off < CHUNK ? (size_t)(end - off) : CHUNK;
		ssize_t n = copy_file_range(src, &in, dst, &out, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && cfr_unsupported(errno)) {
			*use_cfr = false;
			break;
		}
		if (n < 0)
			return fail(err, errlen, "copy_file_range");
		if (n == 0) {
			snprintf(err, errlen, "copy_file_range: the source ended at byte %llu, "
				 "before its size", (unsigned long long)off);
			return -1;
		}
		off += (uint64_t)n;
		*copied += (uint64_t)n;
	}
	return off < end ? copy_rw(src, dst, off, end, copied, err, errlen) : 0;
}

/* The next data extent at or after pos: [*start, *end), false at the end.
 * Without SEEK_DATA (EINVAL), everything left is data. */
static int next_extent(int src, uint64_t pos, uint64_t size, uint64_t *start, uint64_t *end,
		       char *err, size_t errlen)
{
	off_t d = lseek(src, (off_t)pos, SEEK_DATA);
	if (d < 0 && errno == ENXIO)
		return 0;
	if (d < 0 && errno == EINVAL) {
		*start = pos;
		*end = size;
		return 1;
	}
	if (d < 0)
		return fail(err, errlen, "lseek SEEK_DATA");
	off_t h = lseek(src, d, SEEK_HOLE);
	if (h < 0)
		return fail(err, errlen, "lseek SEEK_HOLE");
	*start = (uint64_t)d;
	*end = (uint64_t)h < size ? (uint64_t)h : size;
	return *start < size;
}

static int sparse_copy(int src, int dst, uint64_t size, bool use_cfr, uint64_t *copied,
		       char *err, size_t errlen)
{
	uint64_t pos = 0, start, end;
	*copied = 0;
	/* Empty dst first: what is not copied must read as zeros (holes). */
	if (ftruncate(dst, 0) < 0 || ftruncate(dst, (off_t)size) < 0)
		return fail(err, errlen, "truncate");
	for (;;) {
		int more = next_extent(src, pos, size, &start, &end, err, errlen);
		if (more <= 0)
			return more;
		if (copy_range(src, dst, start, end, &use_cfr, copied, err, errlen) < 0)
			return -1;
		pos = end;
	}
}

int fc_copy_fd(int src, int dst, uint64_t size, struct fc_stats *st, char *err, size_t errlen)
{
	return fc_copy_fd_flags(src, dst, size, 0, st, err, errlen);
}

int fc_copy_fd_flags(int src, int dst, uint64_t size, unsigned flags, struct fc_stats *st,
		     char *err, size_t errlen)
{
	bool plain = flags & FC_PLAIN_IO;
	struct fc_stats s = { .how = FC_REFLINK };
	off_t end = lseek(src, 0, SEEK_END);
	if (end < 0)
		return fail(err, errlen, "lseek SEEK_END");
	if ((uint64_t)end != size) {
		snprintf(err, errlen, "the source is %lld bytes, not %llu: it ended early "
			 "(truncated?)", (long long)end, (unsigned long long)size);
		return -1;
	}
	if (!plain && ioctl(dst, FICLONE, src) == 0) {
		if (ftruncate(dst, (off_t)size) < 0)   /* src is size bytes: a no-op */
			return fail(err, errlen, "truncate after reflink");
	} else {
		s.how = FC_SPARSE_COPY;
		if (sparse_copy(src, dst, size, !plain, &s.data_bytes, err, errlen) < 0)
			return -1;
	}
	if (st)
		*st = s;
	return 0;
}

int fc_copy_path(const char *src, const char *dst, mode_t mode, struct fc_stats *st,
		 char *err, size_t errlen)
{
	char why[256];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		snprintf(err, errlen, "copying %s: open: %s", src, strerror(errno));
		return -1;
	}
	off_t size = lseek(in, 0, SEEK_END);
	int out = size < 0 ? -1 : open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		snprintf(err, errlen, "copying %s to %s: %s: %s", src, dst,
			 size < 0 ? "seek" : "create", strerror(errno));
		close(in);
		return -1;
	}
	int rc = fc_copy_fd(in, out, (uint64_t)size, st, why, sizeof why);
	if (rc < 0)
		snprintf(err, errlen, "copying %s to %s: %s", src, dst, why);
	close(in);
	if (close(out) < 0 && rc == 0) {
		snprintf(err, errlen, "copying %s to %s: close: %s", src, dst, strerror(errno));
		rc = -1;
	}
	if (rc < 0)
		unlink(dst);
	return rc;
}

const char *fc_how_name(enum fc_how how)
{
	return how == FC_REFLINK ? "reflink" : "sparse copy";
}

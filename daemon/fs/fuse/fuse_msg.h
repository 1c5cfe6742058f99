/* fuse_msg.h - reading a FUSE request out of the guest's readable iovecs
 * and writing the reply into its writable ones (fuse_msg.c).
 *
 * The guest may split a request at any byte and may change its buffers
 * while we read them: everything the server decides on is copied out once
 * (fs_in_read, fs_in_str); only WRITE payloads are handed to the host as
 * slices of guest memory (fs_in_slices), and only READ payloads are
 * written in place (fs_out_slices).
 */
#ifndef SM_FS_FUSE_MSG_H
#define SM_FS_FUSE_MSG_H

#include <stddef.h>
#include <sys/uio.h>

/* A cursor over the request; `left` bounds it to the request's extent. */
struct fs_in {
	const struct iovec *iov;
	int n;
	int i;        /* current iovec */
	size_t off;   /* offset in it */
	size_t left;  /* bytes left before the end of the request */
};

/* The reply buffers as one flat space of `cap` bytes. */
struct fs_out {
	const struct iovec *iov;
	int n;
	size_t cap;
};

/* Total length of an iovec array, saturating instead of overflowing. */
size_t fs_iov_total(const struct iovec *iov, int n);

void fs_in_init(struct fs_in *r, const struct iovec *iov, int n, size_t limit);
/* Copy the next len bytes; -EINVAL (and nothing consumed) if fewer are left. */
int fs_in_read(struct fs_in *r, void *dst, size_t len);
/* Skip len bytes; -EINVAL if fewer are left. */
int fs_in_skip(struct fs_in *r, size_t len);
/* Copy a NUL-terminated string into dst[cap] and step past its NUL.
 * Returns its length, -EINVAL if the request ends before a NUL,
 * -ENAMETOOLONG if it does not fit in cap (NUL included). */
int fs_in_str(struct fs_in *r, char *dst, size_t cap);
/* Describe up to len of the next bytes as at most max slices of the guest
 * buffers (nothing copied) and step past them; returns the slice count,
 * the bytes covered in *got (less than len when max slices are not
 * enough), -EINVAL if fewer than len bytes are left. */
int fs_in_slices(struct fs_in *r, size_t len, struct iovec *dst, int max, size_t *got);

void fs_out_init(struct fs_out *w, const struct iovec *iov, int n);
/* Write src[len] at offset off; returns 0, or -ERANGE if it does not fit. */
int fs_out_write(const struct fs_out *w, size_t off, const void *src, size_t len);
/* Zero len bytes at off (padding); 0 or -ERANGE. */
int fs_out_zero(const struct fs_out *w, size_t off, size_t len);
/* Slices covering [off, off+len) of the reply space (clamped to cap);
 * returns the slice count (<= max; the bytes covered go to *got). */
int fs_out_slices(const struct fs_out *w, size_t off, size_t len,
		  struct iovec *dst, int max, size_t *got);

#endif

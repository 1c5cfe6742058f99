/* fuse_ops_io.c - the ops on an open file handle: READ, WRITE, FLUSH,
 * FSYNC, FALLOCATE, LSEEK, COPY_FILE_RANGE. Data moves between the host
 * fd and the guest's buffers directly (preadv into the reply's slices,
 * pwritev from the request's), never through a copy. A READ returns
 * everything up to EOF it can (a short read would tell the guest the file
 * ends there).
 */
#include "daemon/fs/fuse/fuse_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define SLICES 64
/* Largest COPY_FILE_RANGE in one request (its reply counts in 32 bits;
 * smaller keeps a queue from being held long). */
#define COPY_MAX (64u << 20)

static bool bad_off(uint64_t off)
{
	return off > (uint64_t)INT64_MAX;
}

/* preadv into the reply until n bytes or EOF; bytes read or -errno. */
static ssize_t read_into_reply(struct fs_req *r, int fd, off_t off, size_t n)
{
	size_t done = 0;
	while (done < n) {
		struct iovec iov[SLICES];
		size_t got;
		int cnt = fs_out_slices(&r->out, sizeof(struct fuse_out_header) + r->len + done,
					n - done, iov, SLICES, &got);
		if (cnt <= 0)
			break;
		ssize_t k = preadv(fd, iov, cnt, off + (off_t)done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return done ? (ssize_t)done : -errno;
		if (k == 0)
			break;
		done += (size_t)k;
	}
	return (ssize_t)done;
}

int fs_op_read(struct fs_req *r)
{
	struct fuse_read_in in;
	struct fs_handle_ref h;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0)
		return e;
	if (bad_off(in.offset))
		return -EINVAL;
	if ((e = fs_pin_fh(r, in.fh, false, &h)) < 0)
		return e;
	size_t n = in.size < FS_MAX_IO ? in.size : FS_MAX_IO;
	if (n > fs_reply_room(r))
		n = fs_reply_room(r);
	ssize_t k = read_into_reply(r, h.fd, (off_t)in.offset, n);
	fs_unpin_fh(r, &h);
	if (k < 0)
		return (int)k;
	r->len += (size_t)k;
	return 0;
}

/* pwritev the next n request bytes; bytes written or -errno. */
static ssize_t write_from_request(struct fs_req *r, int fd, off_t off, size_t n)
{
	size_t done = 0;
	while (done < n) {
		struct iovec iov[SLICES];
		size_t got;
		struct fs_in before = r->in;
		int cnt = fs_in_slices(&r->in, n - done, iov, SLICES, &got);
		if (cnt <= 0)
			return done ? (ssize_t)done : -EINVAL;
		ssize_t k = pwritev(fd, iov, cnt, off + (off_t)done);
		if (k < 0 && errno == EINTR)
			k = 0;
		else if (k <= 0)
			return done ? (ssize_t)done : k < 0 ? -errno : -EIO;
		if ((size_t)k < got) { /* step back to what was written */
			r->in = before;
			fs_in_skip(&r->in, (size_t)k);
		}
		done += (size_t)k;
	}
	return (ssize_t)done;
}

int fs_op_write(struct fs_req *r)
{
	struct fuse_write_in in;
	struct fs_handle_ref h;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0)
		return e;
	if (in.size > r->in.left || bad_off(in.offset))
		return -EINVAL;
	if ((e = fs_pin_fh(r, in.fh, false, &h)) < 0)
		return e;
	ssize_t k = write_from_request(r, h.fd, (off_t)in.offset, in.size);
	fs_unpin_fh(r, &h);
	if (k < 0)
		return (int)k;
	struct fuse_write_out o = { .size = (uint32_t)k };
	return fs_reply(r, &o, sizeof(o));
}

int fs_op_flush(struct fs_req *r)
{
	struct fuse_flush_in in;
	struct fs_handle_ref h;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0 || (e = fs_pin_fh(r, in.fh, false, &h)) < 0)
		return e;
	/* What a close would flush (NFS and the like), the fd staying open. */
	int dupfd = fcntl(h.fd, F_DUPFD_CLOEXEC, 0);
	e = dupfd < 0 ? -errno : (close(dupfd) < 0 ? -errno : 0);
	fs_unpin_fh(r, &h);
	return e;
}

int fs_sync_handle(struct fs_req *r, bool dir)
{
	struct fuse_fsync_in in;
	struct fs_handle_ref h;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0 || (e = fs_pin_fh(r, in.fh, dir, &h)) < 0)
		return e;
	int k = in.fsync_flags & FUSE_FSYNC_FDATASYNC ? fdatasync(h.fd) : fsync(h.fd);
	e = k < 0 ? -errno : 0;
	fs_unpin_fh(r, &h);
	return e;
}

int fs_op_fsync(struct fs_req *r)
{
	return fs_sync_handle(r, false);
}

int fs_op_fallocate(struct fs_req *r)
{
	struct fuse_fallocate_in in;
	struct fs_handle_ref h;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0)
		return e;
	if (bad_off(in.offset) || bad_off(in.length))
		return -EINVAL;
	if ((e = fs_pin_fh(r, in.fh, false, &h)) < 0)
		return e;
	e = fallocate(h.fd, (int)in.mode, (off_t)in.offset, (off_t)in.length) < 0 ? -errno : 0;
	fs_unpin_fh(r, &h);
	return e;
}

int fs_op_lseek(struct fs_req *r)
{
	struct fuse_lseek_in in;
	struct fs_handle_ref h;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0)
		return e;
	if (bad_off(in.offset) || (in.whence != SEEK_DATA && in.whence != SEEK_HOLE))
		return -EINVAL;
	if ((e = fs_pin_fh(r, in.fh, false, &h)) < 0)
		return e;
	off_t o = lseek(h.fd, (off_t)in.offset, (int)in.whence);
	e = o < 0 ? -errno : 0;
	fs_unpin_fh(r, &h);
	if (e < 0)
		return e;
	struct fuse_lseek_out out = { .offset = (uint64_t)o };
	return fs_reply(r, &out, sizeof(out));
}

int fs_op_copy_file_range(struct fs_req *r)
{
	struct fuse_copy_file_range_in in;
	struct fs_handle_ref a, b;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0)
		return e;
	if (in.flags || bad_off(in.off_in) || bad_off(in.off_out))
		return -EINVAL;
	if ((e = fs_pin_fh(r, in.fh_in, false, &a)) < 0)
		return e;
	ssize_t k = -EBADF;
	if (fs_pin_fh(r, in.fh_out, false, &b) == 0) {
		off_t oi = (off_t)in.off_in, oo = (off_t)in.off_out;
		size_t len = in.len < COPY_MAX ? (size_t)in.len : COPY_MAX;
		k = copy_file_range(a.fd, &oi, b.fd, &oo, len, 0);
		if (k < 0)
			k = -errno;
		fs_unpin_fh(r, &b);
	}
	fs_unpin_fh(r, &a);
	if (k < 0)
		return (int)k;
	struct fuse_write_out o = { .size = (uint32_t)k };
	return fs_reply(r, &o, sizeof(o));
}

/* fuse_ops_setattr.c - SETATTR: mode, owner, size, atime/mtime (given or
 * NOW), applied in that order to the node's inode without following a
 * symlink: owner and times through AT_EMPTY_PATH on the O_PATH fd, mode
 * and size through the node's /proc/self/fd entry (never a symlink there).
 * Set-user/group-ID bits on files are dropped unless the server allows
 * them (fs_guest_mode): a guest must not plant a set-user-ID binary in a
 * host folder. ctime cannot be set and is ignored.
 */
#include "daemon/fs/fuse/fuse_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static int set_mode(struct fs_req *r, const struct fs_node_ref *n, const struct fuse_setattr_in *in)
{
	if (!(in->valid & FATTR_MODE))
		return 0;
	return fs_chmod_node(r->s, n->fd, n->type, fs_guest_mode(in->mode, n->type, r->s->opts.allow_setid));
}

static int set_owner(const struct fs_node_ref *n, const struct fuse_setattr_in *in)
{
	if (!(in->valid & (FATTR_UID | FATTR_GID)))
		return 0;
	uid_t uid = in->valid & FATTR_UID ? (uid_t)in->uid : (uid_t)-1;
	gid_t gid = in->valid & FATTR_GID ? (gid_t)in->gid : (gid_t)-1;
	return fchownat(n->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* ftruncate through the guest's handle, or a write-only reopen. */
static int set_size(struct fs_req *r, const struct fs_node_ref *n, const struct fuse_setattr_in *in)
{
	if (!(in->valid & FATTR_SIZE))
		return 0;
	if (!S_ISREG(n->type))
		return S_ISDIR(n->type) ? -EISDIR : -EINVAL;
	if (in->size > (uint64_t)INT64_MAX)
		return -EFBIG;
	struct fs_handle_ref h;
	if ((in->valid & FATTR_FH) && fs_pin_fh(r, in->fh, false, &h) == 0) {
		int e = ftruncate(h.fd, (off_t)in->size) < 0 ? -errno : 0;
		fs_unpin_fh(r, &h);
		return e;
	}
	int fd = fs_reopen(r->s->proc_fd, n->fd, n->type, O_WRONLY);
	if (fd < 0)
		return fd;
	int e = ftruncate(fd, (off_t)in->size) < 0 ? -errno : 0;
	close(fd);
	return e;
}

static struct timespec time_of(uint32_t valid, uint32_t set, uint32_t now, uint64_t sec, uint32_t nsec)
{
	if (valid & now)
		return (struct timespec){ .tv_nsec = UTIME_NOW };
	if (valid & set)
		return (struct timespec){ .tv_sec = (time_t)sec, .tv_nsec = nsec };
	return (struct timespec){ .tv_nsec = UTIME_OMIT };
}

static int set_times(struct fs_req *r, const struct fs_node_ref *n, const struct fuse_setattr_in *in)
{
	uint32_t v = in->valid;
	if (!(v & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW)))
		return 0;
	struct timespec ts[2] = {
		time_of(v, FATTR_ATIME, FATTR_ATIME_NOW, in->atime, in->atimensec),
		time_of(v, FATTR_MTIME, FATTR_MTIME_NOW, in->mtime, in->mtimensec),
	};
	if ((ts[0].tv_nsec >= 1000000000 && ts[0].tv_nsec != UTIME_NOW && ts[0].tv_nsec != UTIME_OMIT) ||
	    (ts[1].tv_nsec >= 1000000000 && ts[1].tv_nsec != UTIME_NOW && ts[1].tv_nsec != UTIME_OMIT))
		return -EINVAL;
	if (utimensat(n->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (errno != EINVAL || S_ISLNK(n->type))
		return -errno;
	char name[16]; /* kernels without AT_EMPTY_PATH in utimensat */
	fs_fd_name(n->fd, name);
	return utimensat(r->s->proc_fd, name, ts, 0) < 0 ? -errno : 0;
}

int fs_op_setattr(struct fs_req *r)
{
	struct fuse_setattr_in in;
	struct fs_node_ref n;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0 || (e = fs_pin(r, r->h.nodeid, &n)) < 0)
		return e;
	struct stat st;
	if ((e = set_mode(r, &n, &in)) == 0 && (e = set_owner(&n, &in)) == 0 &&
	    (e = set_size(r, &n, &in)) == 0 && (e = set_times(r, &n, &in)) == 0)
		e = fs_stat(n.fd, &st);
	fs_unpin(r, &n);
	if (e < 0)
		return e;
	struct fuse_attr_out o;
	fs_fill_attr_out(r->s, &o, &st);
	return fs_reply(r, &o, sizeof(o));
}

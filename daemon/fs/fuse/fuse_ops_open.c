/* fuse_ops_open.c - OPEN, CREATE and RELEASE: file handles for regular
 * files. OPEN reopens the node's O_PATH fd through /proc/self/fd, which
 * only ever happens for a regular file (no symlink followed, no device or
 * FIFO opened on the host). CREATE makes the file with O_CREAT|O_EXCL
 * beneath its parent's fd; when the guest did not ask for O_EXCL and the
 * name exists, it opens that as OPEN would. Handles are opened without
 * FOPEN_KEEP_CACHE: the guest rereads on open what the host changed.
 */
#include "daemon/fs/fuse/fuse_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int fs_not_regular(mode_t type)
{
	return S_ISDIR(type) ? -EISDIR : S_ISLNK(type) ? -ELOOP : -ENXIO;
}

static int reply_open(struct fs_req *r, uint64_t fh)
{
	struct fuse_open_out o = { .fh = fh };
	return fs_reply(r, &o, sizeof(o));
}

int fs_op_open(struct fs_req *r)
{
	struct fuse_open_in in;
	struct fs_node_ref n;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0)
		return e;
	int flags = fs_open_flags(in.flags);
	if (flags < 0)
		return flags;
	if (r->s->opts.readonly && fs_open_flags_write(flags))
		return -EROFS;
	if ((e = fs_pin(r, r->h.nodeid, &n)) < 0)
		return e;
	int fd = S_ISREG(n.type) ? fs_reopen(r->s->proc_fd, n.fd, n.type, flags) : fs_not_regular(n.type);
	fs_unpin(r, &n);
	uint64_t fh;
	if (fd < 0)
		return fd;
	if ((e = fs_handles_add(&r->s->handles, fd, false, false, &fh)) < 0)
		return e;
	return reply_open(r, fh);
}

/* Create name; *pathfd gets an O_PATH fd of the new file. */
static int create_new(struct fs_server *s, int dirfd, const char *name, int flags,
		      mode_t perm, int *pathfd)
{
	int fd = fs_open_beneath(dirfd, name, flags | O_CREAT | O_EXCL, perm, s->opts.allow_xdev);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 0777) != (perm & 0777))
		(void)fchmod(fd, perm); /* the host's umask took some bits */
	char self[16];
	fs_fd_name(fd, self);
	*pathfd = openat(s->proc_fd, self, O_PATH | O_CLOEXEC);
	if (*pathfd < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Open the existing regular file name; *pathfd as above. */
static int open_existing(struct fs_server *s, int dirfd, const char *name, int flags, int *pathfd)
{
	int pfd = fs_open_beneath(dirfd, name, O_PATH, 0, s->opts.allow_xdev);
	if (pfd < 0)
		return pfd;
	struct stat st;
	int fd = fs_stat(pfd, &st);
	if (fd == 0)
		fd = S_ISREG(st.st_mode) ? fs_reopen(s->proc_fd, pfd, S_IFREG, flags)
					 : fs_not_regular(st.st_mode & S_IFMT);
	if (fd < 0)
		close(pfd);
	else
		*pathfd = pfd;
	return fd;
}

/* The node and handle of an open file (fd, pathfd taken over). */
static int reply_create(struct fs_req *r, int fd, int pathfd)
{
	struct stat st;
	struct fuse_entry_out eo;
	uint64_t fh;
	int e = fs_stat(pathfd, &st);
	if (e < 0)
		close(pathfd);
	else
		e = fs_node_entry(r->s, pathfd, &st, &eo); /* takes pathfd over */
	if (e < 0) {
		close(fd);
		return e;
	}
	if ((e = fs_handles_add(&r->s->handles, fd, false, false, &fh)) < 0) {
		fs_nodes_forget(&r->s->nodes, eo.nodeid, 1);
		return e;
	}
	if ((e = fs_reply(r, &eo, sizeof(eo))) < 0)
		return e;
	return reply_open(r, fh);
}

int fs_op_create(struct fs_req *r)
{
	struct fuse_create_in in;
	char name[NAME_MAX + 1];
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0 || (e = fs_arg_name(r, name)) < 0)
		return e;
	int flags = fs_open_flags(in.flags);
	if (flags < 0)
		return flags;
	mode_t perm = fs_guest_mode(in.mode & ~in.umask, S_IFREG, r->s->opts.allow_setid);
	struct fs_node_ref d;
	if ((e = fs_pin(r, r->h.nodeid, &d)) < 0)
		return e;
	int pathfd = -1, fd = -ENOTDIR;
	if (S_ISDIR(d.type)) {
		fd = create_new(r->s, d.fd, name, flags, perm, &pathfd);
		if (fd == -EEXIST && !(in.flags & O_EXCL))
			fd = open_existing(r->s, d.fd, name, flags, &pathfd);
	}
	fs_unpin(r, &d);
	return fd < 0 ? fd : reply_create(r, fd, pathfd);
}

int fs_op_release(struct fs_req *r)
{
	struct fuse_release_in in;
	int e = fs_args(r, &in, sizeof(in));
	return e < 0 ? e : fs_handles_release(&r->s->handles, in.fh, false);
}

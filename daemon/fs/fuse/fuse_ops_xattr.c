/* fuse_ops_xattr.c - GETXATTR, LISTXATTR, SETXATTR, REMOVEXATTR.
 * The f*xattr calls need a real fd, and O_PATH fds are not one: regular
 * files are reopened read-only through /proc/self/fd, directories as ".";
 * symlinks, FIFOs, devices and sockets are not opened (no attributes to
 * read: ENODATA and an empty list; EPERM to set).
 * The guest may set and remove only "user." attributes: security.*,
 * trusted.* and system.* ones (file capabilities, ACLs, SELinux labels)
 * would change what host processes may do.
 */
#include "daemon/fs/fuse/fuse_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#define NAME_CAP 256          /* XATTR_NAME_MAX + NUL */
#define VALUE_MAX 65536       /* XATTR_SIZE_MAX */

/* An fd to read or write the attributes of the request's node, or
 * -ENODATA for nodes that are not opened on the host. */
static int xattr_fd(struct fs_req *r)
{
	struct fs_node_ref n;
	int e = fs_pin(r, r->h.nodeid, &n);
	if (e < 0)
		return e;
	if (S_ISREG(n.type) || S_ISDIR(n.type))
		e = fs_reopen(r->s->proc_fd, n.fd, n.type, O_RDONLY);
	else
		e = -ENODATA;
	fs_unpin(r, &n);
	return e;
}

/* Reply to a GETXATTR/LISTXATTR of `size`: the value's length when size
 * is 0, else the value. get(fd, buf, cap) is the host call. */
static int reply_value(struct fs_req *r, uint32_t size, int fd,
		       ssize_t (*get)(int fd, const char *name, void *buf, size_t cap),
		       const char *name)
{
	size_t cap = size < VALUE_MAX ? size : VALUE_MAX;
	if (cap > fs_reply_room(r))
		cap = fs_reply_room(r);
	if (size && !cap)
		return -ERANGE;
	void *buf = cap ? malloc(cap) : NULL;
	if (cap && !buf)
		return -ENOMEM;
	ssize_t k = fd < 0 ? 0 : get(fd, name, buf, cap);
	int e = k < 0 ? -errno : 0;
	if (e == 0 && size == 0) {
		struct fuse_getxattr_out o = { .size = (uint32_t)k };
		e = fs_reply(r, &o, sizeof(o));
	} else if (e == 0) {
		e = fs_reply(r, buf, (size_t)k);
	}
	free(buf);
	return e;
}

static ssize_t get_one(int fd, const char *name, void *buf, size_t cap)
{
	return fgetxattr(fd, name, buf, cap);
}

static ssize_t list_all(int fd, const char *name, void *buf, size_t cap)
{
	(void)name;
	return flistxattr(fd, buf, cap);
}

int fs_op_getxattr(struct fs_req *r)
{
	struct fuse_getxattr_in in;
	char name[NAME_CAP];
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0 || (e = fs_in_str(&r->in, name, sizeof(name))) < 0)
		return e == -ENAMETOOLONG ? -ERANGE : e;
	int fd = xattr_fd(r);
	if (fd < 0)
		return fd;
	e = reply_value(r, in.size, fd, get_one, name);
	close(fd);
	return e;
}

int fs_op_listxattr(struct fs_req *r)
{
	struct fuse_getxattr_in in;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0)
		return e;
	int fd = xattr_fd(r);
	if (fd < 0 && fd != -ENODATA)
		return fd;
	e = reply_value(r, in.size, fd, list_all, NULL); /* fd < 0: empty list */
	if (fd >= 0)
		close(fd);
	return e;
}

static int settable(const char *name)
{
	return strncmp(name, "user.", 5) == 0 && name[5] ? 0 : -EPERM;
}

int fs_op_setxattr(struct fs_req *r)
{
	struct fuse_setxattr_in in = { 0 };
	char name[NAME_CAP];
	int e = fs_args(r, &in, FUSE_COMPAT_SETXATTR_IN_SIZE);
	if (e < 0 || (e = fs_in_str(&r->in, name, sizeof(name))) < 0)
		return e == -ENAMETOOLONG ? -ERANGE : e;
	if (in.size > VALUE_MAX)
		return -E2BIG;
	if (in.size > r->in.left || (in.flags & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE)))
		return -EINVAL;
	if ((e = settable(name)) < 0)
		return e;
	void *val = malloc(in.size ? in.size : 1);
	if (!val)
		return -ENOMEM;
	int fd = fs_args(r, val, in.size) < 0 ? -EINVAL : xattr_fd(r);
	if (fd >= 0) {
		e = fsetxattr(fd, name, val, in.size, (int)in.flags) < 0 ? -errno : 0;
		close(fd);
	} else {
		e = fd == -ENODATA ? -EPERM : fd;
	}
	free(val);
	return e;
}

int fs_op_removexattr(struct fs_req *r)
{
	char name[NAME_CAP];
	int e = fs_in_str(&r->in, name, sizeof(name));
	if (e < 0)
		return e == -ENAMETOOLONG ? -ERANGE : e;
	if ((e = settable(name)) < 0)
		return e;
	int fd = xattr_fd(r);
	if (fd < 0)
		return fd == -ENODATA ? -EPERM : fd;
	e = fremovexattr(fd, name) < 0 ? -errno : 0;
	close(fd);
	return e;
}

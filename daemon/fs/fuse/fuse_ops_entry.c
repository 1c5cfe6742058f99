/* fuse_ops_entry.c - the ops on one node that neither create nor open:
 * LOOKUP, FORGET, BATCH_FORGET, GETATTR, READLINK, STATFS, ACCESS.
 * LOOKUP never follows a symlink: it returns the symlink's own node and
 * attributes, and the guest reads its target with READLINK and resolves
 * it in its own namespace. "." and ".." are refused (ENOENT): the guest
 * kernel resolves them itself, and the root's ".." must not reach the
 * host folder's parent.
 */
#include "daemon/fs/fuse/fuse_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

int fs_op_lookup(struct fs_req *r)
{
	char name[NAME_MAX + 1];
	int e = fs_in_str(&r->in, name, sizeof(name));
	if (e < 0)
		return e;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -ENOENT;
	if ((e = fs_name_check(name)) < 0)
		return e;
	struct fs_node_ref dir;
	if ((e = fs_pin(r, r->h.nodeid, &dir)) < 0)
		return e;
	struct fuse_entry_out eo;
	e = S_ISDIR(dir.type) ? fs_lookup_at(r->s, dir.fd, name, &eo) : -ENOTDIR;
	fs_unpin(r, &dir);
	return e < 0 ? e : fs_reply(r, &eo, sizeof(eo));
}

int fs_op_forget(struct fs_req *r)
{
	struct fuse_forget_in in;
	if (fs_args(r, &in, sizeof(in)) == 0)
		fs_nodes_forget(&r->s->nodes, r->h.nodeid, in.nlookup);
	return 0;
}

int fs_op_batch_forget(struct fs_req *r)
{
	struct fuse_batch_forget_in in;
	if (fs_args(r, &in, sizeof(in)) < 0)
		return 0;
	/* As many entries as are really there, at most count. */
	struct fuse_forget_one one;
	for (uint32_t i = 0; i < in.count && fs_args(r, &one, sizeof(one)) == 0; i++)
		fs_nodes_forget(&r->s->nodes, one.nodeid, one.nlookup);
	return 0;
}

int fs_op_getattr(struct fs_req *r)
{
	struct fuse_getattr_in in;
	struct fs_node_ref n;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0 || (e = fs_pin(r, r->h.nodeid, &n)) < 0)
		return e;
	struct stat st;
	e = fs_stat(n.fd, &st);
	fs_unpin(r, &n);
	if (e < 0)
		return e;
	struct fuse_attr_out o;
	fs_fill_attr_out(r->s, &o, &st);
	return fs_reply(r, &o, sizeof(o));
}

int fs_op_readlink(struct fs_req *r)
{
	struct fs_node_ref n;
	int e = fs_pin(r, r->h.nodeid, &n);
	if (e < 0)
		return e;
	char target[PATH_MAX];
	ssize_t len = -EINVAL;
	if (S_ISLNK(n.type)) {
		len = readlinkat(n.fd, "", target, sizeof(target));
		if (len < 0)
			len = -errno;
	}
	fs_unpin(r, &n);
	if (len < 0)
		return (int)len;
	size_t room = fs_reply_room(r);
	return fs_reply(r, target, (size_t)len < room ? (size_t)len : room);
}

int fs_op_statfs(struct fs_req *r)
{
	struct fs_node_ref n;
	int e = fs_pin(r, r->h.nodeid, &n);
	if (e < 0)
		return e;
	struct statfs sf;
	e = fstatfs(n.fd, &sf) < 0 ? -errno : 0;
	fs_unpin(r, &n);
	if (e < 0)
		return e;
	struct fuse_statfs_out o = { .st = {
		.blocks = sf.f_blocks, .bfree = sf.f_bfree, .bavail = sf.f_bavail,
		.files = sf.f_files, .ffree = sf.f_ffree, .bsize = (uint32_t)sf.f_bsize,
		.namelen = (uint32_t)sf.f_namelen, .frsize = (uint32_t)sf.f_frsize,
	} };
	return fs_reply(r, &o, sizeof(o));
}

/* access(2) for the server's own credentials on the node at O_PATH fd. */
static int check_access(struct fs_server *s, const struct fs_node_ref *n, int mask)
{
	if (syscall(SYS_faccessat2, n->fd, "", mask, AT_EMPTY_PATH | AT_EACCESS) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	if (S_ISLNK(n->type))
		return 0; /* a symlink's permissions are not checked on Linux */
	char name[16];
	fs_fd_name(n->fd, name);
	return faccessat(s->proc_fd, name, mask, AT_EACCESS) < 0 ? -errno : 0;
}

int fs_op_access(struct fs_req *r)
{
	struct fuse_access_in in;
	struct fs_node_ref n;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0)
		return e;
	if (in.mask & ~(uint32_t)(R_OK | W_OK | X_OK))
		return -EINVAL;
	if ((in.mask & W_OK) && r->s->opts.readonly)
		return -EROFS;
	if ((e = fs_pin(r, r->h.nodeid, &n)) < 0)
		return e;
	e = check_access(r->s, &n, (int)in.mask);
	fs_unpin(r, &n);
	return e;
}

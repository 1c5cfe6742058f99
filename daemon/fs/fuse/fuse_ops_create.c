/* fuse_ops_create.c - the ops that add, remove or move names: MKNOD,
 * MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME, RENAME2. Each works on its
 * parent node's fd with one checked name component (*at calls, never a
 * path), so no symlink, "..", or name swapped in on the host can point it
 * outside the shared folder; a symlink is created with the guest's target
 * as plain text and never followed on the host. MKNOD makes regular
 * files, FIFOs and sockets only: device nodes get EPERM.
 */
#include "daemon/fs/fuse/fuse_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* Pin node id, which must be a directory. */
static int pin_dir(struct fs_req *r, uint64_t id, struct fs_node_ref *d)
{
	int e = fs_pin(r, id, d);
	if (e == 0 && !S_ISDIR(d->type)) {
		fs_unpin(r, d);
		return -ENOTDIR;
	}
	return e;
}

int fs_op_mknod(struct fs_req *r)
{
	struct fuse_mknod_in in;
	char name[NAME_MAX + 1];
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0 || (e = fs_arg_name(r, name)) < 0)
		return e;
	mode_t type = in.mode & S_IFMT ? in.mode & S_IFMT : S_IFREG;
	if (!S_ISREG(type) && !S_ISFIFO(type) && !S_ISSOCK(type))
		return -EPERM;
	mode_t perm = fs_guest_mode(in.mode & ~in.umask, type, r->s->opts.allow_setid);
	struct fs_node_ref d;
	if ((e = pin_dir(r, r->h.nodeid, &d)) < 0)
		return e;
	e = mknodat(d.fd, name, type | perm, 0) < 0 ? -errno : 0;
	if (e == 0)
		e = fs_reply_created(r, d.fd, name, (int)perm);
	fs_unpin(r, &d);
	return e;
}

int fs_op_mkdir(struct fs_req *r)
{
	struct fuse_mkdir_in in;
	char name[NAME_MAX + 1];
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0 || (e = fs_arg_name(r, name)) < 0)
		return e;
	mode_t perm = fs_guest_mode(in.mode & ~in.umask, S_IFDIR, r->s->opts.allow_setid);
	struct fs_node_ref d;
	if ((e = pin_dir(r, r->h.nodeid, &d)) < 0)
		return e;
	e = mkdirat(d.fd, name, perm) < 0 ? -errno : 0;
	if (e == 0)
		e = fs_reply_created(r, d.fd, name, (int)perm);
	fs_unpin(r, &d);
	return e;
}

int fs_op_symlink(struct fs_req *r)
{
	char name[NAME_MAX + 1], target[PATH_MAX];
	int e = fs_arg_name(r, name);
	if (e < 0 || (e = fs_in_str(&r->in, target, sizeof(target))) < 0)
		return e;
	struct fs_node_ref d;
	if ((e = pin_dir(r, r->h.nodeid, &d)) < 0)
		return e;
	e = symlinkat(target, d.fd, name) < 0 ? -errno : 0;
	if (e == 0)
		e = fs_reply_created(r, d.fd, name, -1);
	fs_unpin(r, &d);
	return e;
}

/* A new name for old's inode: linkat through its /proc/self/fd entry
 * (linkat with AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH). */
static int link_node(struct fs_req *r, const struct fs_node_ref *old,
		     const struct fs_node_ref *d, const char *name)
{
	if (S_ISDIR(old->type))
		return -EPERM;
	char src[16];
	fs_fd_name(old->fd, src);
	if (linkat(r->s->proc_fd, src, d->fd, name, AT_SYMLINK_FOLLOW) < 0)
		return -errno;
	return fs_reply_created(r, d->fd, name, -1);
}

int fs_op_link(struct fs_req *r)
{
	struct fuse_link_in in;
	char name[NAME_MAX + 1];
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0 || (e = fs_arg_name(r, name)) < 0)
		return e;
	struct fs_node_ref old, d;
	if ((e = fs_pin(r, in.oldnodeid, &old)) < 0)
		return e;
	if ((e = pin_dir(r, r->h.nodeid, &d)) == 0) {
		e = link_node(r, &old, &d, name);
		fs_unpin(r, &d);
	}
	fs_unpin(r, &old);
	return e;
}

static int remove_name(struct fs_req *r, int flags)
{
	char name[NAME_MAX + 1];
	struct fs_node_ref d;
	int e = fs_arg_name(r, name);
	if (e < 0 || (e = pin_dir(r, r->h.nodeid, &d)) < 0)
		return e;
	e = unlinkat(d.fd, name, flags) < 0 ? -errno : 0;
	fs_unpin(r, &d);
	return e;
}

int fs_op_unlink(struct fs_req *r)
{
	return remove_name(r, 0);
}

int fs_op_rmdir(struct fs_req *r)
{
	return remove_name(r, AT_REMOVEDIR);
}

static int do_rename(struct fs_req *r, uint64_t newdir, unsigned flags)
{
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	char oldname[NAME_MAX + 1], newname[NAME_MAX + 1];
	int e = fs_arg_name(r, oldname);
	if (e < 0 || (e = fs_arg_name(r, newname)) < 0)
		return e;
	struct fs_node_ref od, nd;
	if ((e = pin_dir(r, r->h.nodeid, &od)) < 0)
		return e;
	if ((e = pin_dir(r, newdir, &nd)) == 0) {
		e = renameat2(od.fd, oldname, nd.fd, newname, flags) < 0 ? -errno : 0;
		fs_unpin(r, &nd);
	}
	fs_unpin(r, &od);
	return e;
}

int fs_op_rename(struct fs_req *r)
{
	struct fuse_rename_in in;
	int e = fs_args(r, &in, sizeof(in));
	return e < 0 ? e : do_rename(r, in.newdir, 0);
}

int fs_op_rename2(struct fs_req *r)
{
	struct fuse_rename2_in in;
	int e = fs_args(r, &in, sizeof(in));
	return e < 0 ? e : do_rename(r, in.newdir, in.flags);
}

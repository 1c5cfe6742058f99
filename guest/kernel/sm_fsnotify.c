// SPDX-License-Identifier: GPL-2.0-only
/*
 * sm_fsnotify.c - host changes to a virtio-fs share, made visible in the
 * guest: supermachine's own addition to its guest kernel.
 *
 * script/build-guest-kernel copies this file into fs/fuse/ and links it
 * into the (built-in) fuse object, so it can use FUSE's own cache
 * invalidation, the code behind FUSE_NOTIFY_INVAL_ENTRY/INODE, which
 * Linux's virtio-fs driver cannot receive (it has no notification queue).
 *
 * The host's watcher (daemon/fs/watch) sees a change in a shared folder and
 * sends a record to the guest agent, which writes it here. For each record
 * this file drops what the guest cached about the path (the dentry, the
 * attributes, the page cache), looks the path up again, and raises the
 * fsnotify event a local change would have raised, so inotify, fanotify
 * and every watcher built on them see host edits at once. Nothing is
 * written to the file system: an event raised here never echoes back to
 * the host.
 *
 * Interface: /proc/sm-fsnotify, root only. One write() is one record:
 *
 *     K T ' ' PATH [ '\0' PATH2 ]
 *
 * K is the kind: 'c' create, 'm' modify (contents), 'a' attrib, 'd'
 * delete, 'r' rename (PATH to PATH2), 's' rescan (PATH is a mount root:
 * drop every unused cached entry beneath it). T is 'd' for a directory,
 * '-' otherwise. Paths are absolute guest paths inside a virtio-fs mount.
 * A write returns its length when the record was applied, or an errno:
 * ENOENT (the path is gone again: nothing to report), EXDEV (not a FUSE
 * file system), EINVAL (a malformed record). Reading gives counters.
 *
 * Echoes: the guest's own changes reach the host and come back as
 * records. A create whose name the guest still caches for the same node,
 * a delete of a name the guest caches as gone, and a rename the guest
 * already sees raise no event; modify and attrib always do. What the
 * guest no longer caches (an unused entry FUSE let go) it cannot tell
 * from a host change: a second event then.
 */
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include <linux/namei.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/magic.h>

#include "fuse_i.h"

#ifdef MODULE
#error "sm_fsnotify.c is built into the kernel with CONFIG_FUSE_FS=y"
#endif

#define SM_FSN_MAX (2 * PATH_MAX + 4)

static atomic64_t sm_applied, sm_events, sm_echoes, sm_failed;

/* A path split into its parent folder (resolved) and its last name. */
struct sm_entry {
	struct path parent;
	struct qstr name;
	struct inode *dir;
	struct fuse_conn *fc;
};

static bool sm_is_fuse(const struct dentry *d)
{
	return d->d_sb->s_magic == FUSE_SUPER_MAGIC;
}

/* path is writable: the '/' before the last name becomes a NUL while the
 * parent is looked up, then comes back. */
static int sm_entry_get(char *path, struct sm_entry *e)
{
	char *slash = strrchr(path, '/');
	char *name;
	int err;

	if (!slash || path[0] != '/')
		return -EINVAL;
	name = slash + 1;
	if (!*name || strlen(name) > NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (slash == path) {
		err = kern_path("/", LOOKUP_DIRECTORY, &e->parent);
	} else {
		*slash = '\0';
		err = kern_path(path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &e->parent);
		*slash = '/';
	}
	if (err)
		return err;
	if (!sm_is_fuse(e->parent.dentry)) {
		path_put(&e->parent);
		return -EXDEV;
	}
	e->name = (struct qstr)QSTR_INIT(name, strlen(name));
	e->dir = d_inode(e->parent.dentry);
	e->fc = get_fuse_conn(e->dir);
	return 0;
}

static void sm_entry_put(struct sm_entry *e)
{
	path_put(&e->parent);
}

/* The node id the guest's cache holds for the name: 0 when nothing is
 * cached, -1 when the guest caches the name as absent. */
static s64 sm_cached_node(struct sm_entry *e)
{
	struct dentry *d = d_hash_and_lookup(e->parent.dentry, &e->name);
	s64 node;

	if (IS_ERR_OR_NULL(d))
		return 0;
	node = d_really_is_positive(d) ? (s64)get_node_id(d_inode(d)) : -1;
	dput(d);
	return node;
}

/* Drop the cached dentry of the name (and, with child set, mark that node
 * deleted, as FUSE_NOTIFY_DELETE does); the parent's attributes go too. */
static void sm_inval_entry(struct sm_entry *e, u64 child)
{
	struct qstr name = e->name;

	down_read(&e->fc->killsb);
	fuse_reverse_inval_entry(e->fc, get_node_id(e->dir), child, &name, 0);
	up_read(&e->fc->killsb);
}

/* The name looked up afresh (a FUSE LOOKUP): a positive dentry, or NULL
 * when it is gone, or an ERR_PTR. */
static struct dentry *sm_lookup(struct sm_entry *e)
{
	struct dentry *d = lookup_one_len_unlocked(e->name.name, e->parent.dentry, e->name.len);

	if (!IS_ERR(d) && d_really_is_negative(d)) {
		dput(d);
		return NULL;
	}
	return d;
}

static u32 sm_dir_bit(const struct inode *inode)
{
	return S_ISDIR(inode->i_mode) ? FS_ISDIR : 0;
}

static int sm_create(char *path)
{
	struct sm_entry e;
	struct dentry *d;
	s64 known;
	int err = sm_entry_get(path, &e);

	if (err)
		return err;
	known = sm_cached_node(&e);
	sm_inval_entry(&e, 0);
	d = sm_lookup(&e);
	if (IS_ERR_OR_NULL(d)) {
		err = d ? PTR_ERR(d) : -ENOENT;
	} else {
		if (known > 0 && (u64)known == get_node_id(d_inode(d))) {
			atomic64_inc(&sm_echoes);
		} else {
			fsnotify_dirent(e.dir, d, FS_CREATE | sm_dir_bit(d_inode(d)));
			atomic64_inc(&sm_events);
		}
		dput(d);
	}
	sm_entry_put(&e);
	return err;
}

static int sm_delete(char *path, bool is_dir)
{
	struct sm_entry e;
	struct dentry *d;
	int err = sm_entry_get(path, &e);

	if (err)
		return err;
	d = d_hash_and_lookup(e.parent.dentry, &e.name);
	if (IS_ERR(d))
		d = NULL;
	if (d && d_really_is_negative(d)) {
		atomic64_inc(&sm_echoes);      /* the guest knows it is gone */
	} else if (d) {
		struct inode *inode = d_inode(d);

		ihold(inode);
		sm_inval_entry(&e, get_node_id(inode));
		fsnotify_delete(e.dir, inode, d);
		iput(inode);
		atomic64_inc(&sm_events);
	} else {
		sm_inval_entry(&e, 0);
		fsnotify_name(FS_DELETE | (is_dir ? FS_ISDIR : 0), e.dir, FSNOTIFY_EVENT_INODE,
			      e.dir, &e.name, 0);
		atomic64_inc(&sm_events);
	}
	dput(d);
	sm_entry_put(&e);
	return 0;
}

static void sm_notify_move(struct sm_entry *from, struct sm_entry *to, struct inode *moved)
{
	u32 dir = sm_dir_bit(moved);
	u32 cookie = fsnotify_get_cookie();

	fsnotify_name(FS_MOVED_FROM | dir, moved, FSNOTIFY_EVENT_INODE, from->dir, &from->name,
		      cookie);
	fsnotify_name(FS_MOVED_TO | dir, moved, FSNOTIFY_EVENT_INODE, to->dir, &to->name, cookie);
	fsnotify_inode(moved, FS_MOVE_SELF);
}

static int sm_rename(char *from_path, char *to_path)
{
	struct sm_entry from, to;
	struct dentry *d;
	s64 old_from, old_to;
	int err = sm_entry_get(from_path, &from);

	if (err)
		return err;
	err = sm_entry_get(to_path, &to);
	if (err)
		goto put_from;
	if (from.parent.mnt->mnt_sb != to.parent.mnt->mnt_sb) {
		err = -EXDEV;
		goto put_to;
	}
	old_from = sm_cached_node(&from);
	old_to = sm_cached_node(&to);
	sm_inval_entry(&from, 0);
	sm_inval_entry(&to, 0);
	d = sm_lookup(&to);
	if (IS_ERR_OR_NULL(d)) {
		err = d ? PTR_ERR(d) : -ENOENT;
		goto put_to;
	}
	if (old_from == -1 && old_to > 0 && (u64)old_to == get_node_id(d_inode(d))) {
		atomic64_inc(&sm_echoes);      /* the guest renamed it itself */
	} else {
		sm_notify_move(&from, &to, d_inode(d));
		atomic64_inc(&sm_events);
	}
	dput(d);
put_to:
	sm_entry_put(&to);
put_from:
	sm_entry_put(&from);
	return err;
}

/* modify and attrib: fresh attributes (and, for modify, contents) on the
 * next access, then the events a local write or chmod raises. */
static int sm_changed(const char *path, bool contents)
{
	struct path p;
	struct inode *inode;
	struct fuse_conn *fc;
	int err = kern_path(path, 0, &p);

	if (err)
		return err;
	if (!sm_is_fuse(p.dentry)) {
		path_put(&p);
		return -EXDEV;
	}
	inode = d_inode(p.dentry);
	fc = get_fuse_conn(inode);
	down_read(&fc->killsb);
	fuse_reverse_inval_inode(fc, get_node_id(inode), contents ? 0 : -1, 0);
	up_read(&fc->killsb);
	if (contents) {
		fsnotify_dentry(p.dentry, FS_MODIFY);
		fsnotify_dentry(p.dentry, FS_CLOSE_WRITE);
	} else {
		fsnotify_dentry(p.dentry, FS_ATTRIB);
	}
	atomic64_inc(&sm_events);
	path_put(&p);
	return 0;
}

/* The watcher lost track: forget every unused cached entry beneath the
 * mount root and the root's own attributes; what is in use is checked
 * again after the FUSE attribute timeout. */
static int sm_rescan(const char *root)
{
	struct path p;
	struct fuse_conn *fc;
	int err = kern_path(root, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);

	if (err)
		return err;
	if (!sm_is_fuse(p.dentry)) {
		path_put(&p);
		return -EXDEV;
	}
	shrink_dcache_parent(p.dentry);
	fc = get_fuse_conn(d_inode(p.dentry));
	down_read(&fc->killsb);
	fuse_reverse_inval_inode(fc, get_node_id(d_inode(p.dentry)), 0, 0);
	up_read(&fc->killsb);
	path_put(&p);
	return 0;
}

static int sm_apply(char *rec, size_t len)
{
	char *path = rec + 3, *path2;
	size_t n;

	if (len < 4 || rec[2] != ' ' || (rec[1] != 'd' && rec[1] != '-'))
		return -EINVAL;
	n = strnlen(path, len - 3);
	path2 = n + 4 < len ? path + n + 1 : NULL;
	if (n >= PATH_MAX || (path2 && strnlen(path2, PATH_MAX) >= PATH_MAX))
		return -EINVAL;
	if ((rec[0] == 'r') != (path2 != NULL))
		return -EINVAL;
	switch (rec[0]) {
	case 'c': return sm_create(path);
	case 'm': return sm_changed(path, true);
	case 'a': return sm_changed(path, false);
	case 'd': return sm_delete(path, rec[1] == 'd');
	case 'r': return sm_rename(path, path2);
	case 's': return sm_rescan(path);
	}
	return -EINVAL;
}

static ssize_t sm_fsnotify_write(struct file *file, const char __user *buf, size_t len,
				 loff_t *off)
{
	char *rec;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (len < 4 || len > SM_FSN_MAX)
		return -EINVAL;
	rec = memdup_user_nul(buf, len);   /* a NUL after the last path */
	if (IS_ERR(rec))
		return PTR_ERR(rec);
	err = sm_apply(rec, len);
	kfree(rec);
	if (err) {
		atomic64_inc(&sm_failed);
		return err;
	}
	atomic64_inc(&sm_applied);
	return len;
}

static int sm_fsnotify_show(struct seq_file *m, void *v)
{
	seq_printf(m, "applied %lld\nevents %lld\nechoes %lld\nfailed %lld\n",
		   atomic64_read(&sm_applied), atomic64_read(&sm_events),
		   atomic64_read(&sm_echoes), atomic64_read(&sm_failed));
	return 0;
}

static int sm_fsnotify_open(struct inode *inode, struct file *file)
{
	return single_open(file, sm_fsnotify_show, NULL);
}

static const struct proc_ops sm_fsnotify_ops = {
	.proc_open = sm_fsnotify_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
	.proc_write = sm_fsnotify_write,
};

static int __init sm_fsnotify_init(void)
{
	return proc_create("sm-fsnotify", 0600, NULL, &sm_fsnotify_ops) ? 0 : -ENOMEM;
}
late_initcall(sm_fsnotify_init);

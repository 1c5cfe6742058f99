/* fuse_internal.h - what the server's files share: the server itself, one
 * request being served (struct fs_req), and the helpers every op uses to
 * read its arguments, pin its nodes and handles, and append its reply.
 *
 * An op is `int fs_op_X(struct fs_req *r)`: it reads its arguments from
 * r->in (fuse_server.c checked the header and that r->in holds at least
 * the op's fixed argument struct), appends its reply body with fs_reply()
 * (fuse_server.c checked the out buffers hold the op's fixed reply) and
 * returns 0, or -errno for an error reply.
 */
#ifndef SM_FS_FUSE_INTERNAL_H
#define SM_FS_FUSE_INTERNAL_H

#include "daemon/fs/fuse/fuse_confine.h"
#include "daemon/fs/fuse/fuse_handles.h"
#include "daemon/fs/fuse/fuse_msg.h"
#include "daemon/fs/fuse/fuse_nodes.h"
#include "daemon/fs/fuse/fuse_server.h"

#include <limits.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <sys/stat.h>

/* The oldest protocol minor we speak; we answer with min(guest's, ours). */
#define FS_MIN_MINOR 31u

struct fs_server {
	struct fs_server_opts opts;
	struct fs_nodes nodes;
	struct fs_handles handles;
	int proc_fd;          /* /proc/self/fd, for fs_reopen */
	pthread_mutex_t mu;   /* the INIT state below */
	bool initialized;
	uint32_t minor;       /* negotiated */
};

struct fs_req {
	struct fs_server *s;
	struct fuse_in_header h;
	struct fs_in in;      /* the op's arguments (after the header) */
	struct fs_out out;    /* the whole reply space, header included */
	size_t len;           /* reply body bytes so far */
};

/* Append to the reply body; -ERANGE if the out buffers are full. */
int fs_reply(struct fs_req *r, const void *p, size_t n);
/* Room left for the reply body. */
size_t fs_reply_room(const struct fs_req *r);

/* Read the op's fixed arguments. */
static inline int fs_args(struct fs_req *r, void *arg, size_t len)
{
	return fs_in_read(&r->in, arg, len);
}
/* Read a name (one component, checked with fs_name_check) into
 * name[NAME_MAX + 1]. */
int fs_arg_name(struct fs_req *r, char *name);

/* Pin the request's node / another node / a handle. */
int fs_pin(struct fs_req *r, uint64_t nodeid, struct fs_node_ref *ref);
void fs_unpin(struct fs_req *r, const struct fs_node_ref *ref);
int fs_pin_fh(struct fs_req *r, uint64_t fh, bool dir, struct fs_handle_ref *ref);
void fs_unpin_fh(struct fs_req *r, const struct fs_handle_ref *ref);

/* fuse_attr.c: host stat to FUSE attributes, and the lookup behind
 * LOOKUP, the creating ops and READDIRPLUS. */
int fs_stat(int fd, struct stat *st);
void fs_fill_attr(struct fuse_attr *a, const struct stat *st);
void fs_fill_attr_out(const struct fs_server *s, struct fuse_attr_out *o, const struct stat *st);
/* One more lookup of the node of the inode at O_PATH fd (taken over),
 * *eo filled from st. */
int fs_node_entry(struct fs_server *s, int fd, const struct stat *st, struct fuse_entry_out *eo);
/* Look name up beneath dirfd: one more lookup of its node, *eo filled. */
int fs_lookup_at(struct fs_server *s, int dirfd, const char *name, struct fuse_entry_out *eo);
/* Look up a just created name and append its entry; sets its permission
 * bits to perm (the guest's mode less its umask) if the host's umask
 * masked some. */
int fs_reply_created(struct fs_req *r, int dirfd, const char *name, int perm);
/* The errno for opening a non-regular file for I/O. */
int fs_not_regular(mode_t type);
/* chmod the node open at O_PATH fd (never a symlink: -EOPNOTSUPP). */
int fs_chmod_node(struct fs_server *s, int fd, mode_t type, mode_t mode);

/* fsync or fdatasync of the handle in a fuse_fsync_in (FSYNC, FSYNCDIR). */
int fs_sync_handle(struct fs_req *r, bool dir);

/* The ops, by file. */
int fs_op_init(struct fs_req *r);         /* fuse_ops_init.c */
int fs_op_destroy(struct fs_req *r);
int fs_op_lookup(struct fs_req *r);       /* fuse_ops_entry.c */
int fs_op_forget(struct fs_req *r);
int fs_op_batch_forget(struct fs_req *r);
int fs_op_getattr(struct fs_req *r);
int fs_op_readlink(struct fs_req *r);
int fs_op_statfs(struct fs_req *r);
int fs_op_access(struct fs_req *r);
int fs_op_setattr(struct fs_req *r);      /* fuse_ops_setattr.c */
int fs_op_mknod(struct fs_req *r);        /* fuse_ops_create.c */
int fs_op_mkdir(struct fs_req *r);
int fs_op_symlink(struct fs_req *r);
int fs_op_link(struct fs_req *r);
int fs_op_unlink(struct fs_req *r);
int fs_op_rmdir(struct fs_req *r);
int fs_op_rename(struct fs_req *r);
int fs_op_rename2(struct fs_req *r);
int fs_op_open(struct fs_req *r);         /* fuse_ops_open.c */
int fs_op_create(struct fs_req *r);
int fs_op_release(struct fs_req *r);
int fs_op_read(struct fs_req *r);         /* fuse_ops_io.c */
int fs_op_write(struct fs_req *r);
int fs_op_flush(struct fs_req *r);
int fs_op_fsync(struct fs_req *r);
int fs_op_fallocate(struct fs_req *r);
int fs_op_lseek(struct fs_req *r);
int fs_op_copy_file_range(struct fs_req *r);
int fs_op_opendir(struct fs_req *r);      /* fuse_ops_dir.c */
int fs_op_readdir(struct fs_req *r);
int fs_op_readdirplus(struct fs_req *r);
int fs_op_releasedir(struct fs_req *r);
int fs_op_fsyncdir(struct fs_req *r);
int fs_op_getxattr(struct fs_req *r);     /* fuse_ops_xattr.c */
int fs_op_listxattr(struct fs_req *r);
int fs_op_setxattr(struct fs_req *r);
int fs_op_removexattr(struct fs_req *r);

#endif

/* fuse_server.c - the server's life cycle and request dispatch: check the
 * fuse_in_header against the bytes really there, look the opcode up in
 * the op table (fixed argument and reply sizes, write-type or not), refuse
 * what the server's state or mode forbids, run the op (fuse_ops_*.c) and
 * write the fuse_out_header.
 */
#include "daemon/fs/fuse/fuse_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

struct op_info {
	int (*fn)(struct fs_req *r);
	uint32_t in_min;  /* fixed argument bytes */
	uint32_t out_min; /* fixed reply body bytes */
	bool write;       /* EROFS on a read-only server */
	bool noreply;     /* no reply, even for an error */
};

#define ENTRY sizeof(struct fuse_entry_out)
#define RD(fn, in, out) { fn, in, out, false, false }
#define WR(fn, in, out) { fn, in, out, true, false }

static const struct op_info ops[] = {
	[FUSE_LOOKUP] = RD(fs_op_lookup, 0, ENTRY),
	[FUSE_FORGET] = { fs_op_forget, sizeof(struct fuse_forget_in), 0, false, true },
	[FUSE_GETATTR] = RD(fs_op_getattr, sizeof(struct fuse_getattr_in), sizeof(struct fuse_attr_out)),
	[FUSE_SETATTR] = WR(fs_op_setattr, sizeof(struct fuse_setattr_in), sizeof(struct fuse_attr_out)),
	[FUSE_READLINK] = RD(fs_op_readlink, 0, 0),
	[FUSE_SYMLINK] = WR(fs_op_symlink, 0, ENTRY),
	[FUSE_MKNOD] = WR(fs_op_mknod, sizeof(struct fuse_mknod_in), ENTRY),
	[FUSE_MKDIR] = WR(fs_op_mkdir, sizeof(struct fuse_mkdir_in), ENTRY),
	[FUSE_UNLINK] = WR(fs_op_unlink, 0, 0),
	[FUSE_RMDIR] = WR(fs_op_rmdir, 0, 0),
	[FUSE_RENAME] = WR(fs_op_rename, sizeof(struct fuse_rename_in), 0),
	[FUSE_LINK] = WR(fs_op_link, sizeof(struct fuse_link_in), ENTRY),
	[FUSE_OPEN] = RD(fs_op_open, sizeof(struct fuse_open_in), sizeof(struct fuse_open_out)),
	[FUSE_READ] = RD(fs_op_read, sizeof(struct fuse_read_in), 0),
	[FUSE_WRITE] = WR(fs_op_write, sizeof(struct fuse_write_in), sizeof(struct fuse_write_out)),
	[FUSE_STATFS] = RD(fs_op_statfs, 0, sizeof(struct fuse_statfs_out)),
	[FUSE_RELEASE] = RD(fs_op_release, sizeof(struct fuse_release_in), 0),
	[FUSE_FSYNC] = RD(fs_op_fsync, sizeof(struct fuse_fsync_in), 0),
	[FUSE_SETXATTR] = WR(fs_op_setxattr, FUSE_COMPAT_SETXATTR_IN_SIZE, 0),
	[FUSE_GETXATTR] = RD(fs_op_getxattr, sizeof(struct fuse_getxattr_in), 0),
	[FUSE_LISTXATTR] = RD(fs_op_listxattr, sizeof(struct fuse_getxattr_in), 0),
	[FUSE_REMOVEXATTR] = WR(fs_op_removexattr, 0, 0),
	[FUSE_FLUSH] = RD(fs_op_flush, sizeof(struct fuse_flush_in), 0),
	[FUSE_INIT] = RD(fs_op_init, 4 * sizeof(uint32_t), 0),
	[FUSE_OPENDIR] = RD(fs_op_opendir, sizeof(struct fuse_open_in), sizeof(struct fuse_open_out)),
	[FUSE_READDIR] = RD(fs_op_readdir, sizeof(struct fuse_read_in), 0),
	[FUSE_RELEASEDIR] = RD(fs_op_releasedir, sizeof(struct fuse_release_in), 0),
	[FUSE_FSYNCDIR] = RD(fs_op_fsyncdir, sizeof(struct fuse_fsync_in), 0),
	[FUSE_ACCESS] = RD(fs_op_access, sizeof(struct fuse_access_in), 0),
	[FUSE_CREATE] = WR(fs_op_create, sizeof(struct fuse_create_in),
			   ENTRY + sizeof(struct fuse_open_out)),
	[FUSE_INTERRUPT] = { NULL, 0, 0, false, true }, /* ignored */
	[FUSE_DESTROY] = RD(fs_op_destroy, 0, 0),
	[FUSE_BATCH_FORGET] = { fs_op_batch_forget, sizeof(struct fuse_batch_forget_in), 0, false, true },
	[FUSE_FALLOCATE] = WR(fs_op_fallocate, sizeof(struct fuse_fallocate_in), 0),
	[FUSE_READDIRPLUS] = RD(fs_op_readdirplus, sizeof(struct fuse_read_in), 0),
	[FUSE_RENAME2] = WR(fs_op_rename2, sizeof(struct fuse_rename2_in), 0),
	[FUSE_LSEEK] = RD(fs_op_lseek, sizeof(struct fuse_lseek_in), sizeof(struct fuse_lseek_out)),
	[FUSE_COPY_FILE_RANGE] = WR(fs_op_copy_file_range, sizeof(struct fuse_copy_file_range_in),
				    sizeof(struct fuse_write_out)),
};

static const struct op_info *op_of(uint32_t opcode)
{
	if (opcode >= sizeof(ops) / sizeof(ops[0]))
		return NULL;
	const struct op_info *op = &ops[opcode];
	return op->fn || op->noreply ? op : NULL;
}

/* Read and check the header; narrow r->in to the op's arguments. */
static int parse_header(struct fs_req *r, size_t total)
{
	if (fs_in_read(&r->in, &r->h, sizeof(r->h)) < 0)
		return -EINVAL;
	if (r->h.len < sizeof(r->h) || r->h.len > total)
		return -EINVAL;
	size_t args = r->h.len - sizeof(r->h);
	size_t ext = (size_t)r->h.total_extlen * 8;
	if (ext > args)
		return -EINVAL;
	r->in.left = args - ext; /* extensions (none negotiated) are ignored */
	return 0;
}

/* The errno an op's request gets before it runs, or 0 to run it. */
static int admit(struct fs_req *r, const struct op_info *op)
{
	struct fs_server *s = r->s;
	pthread_mutex_lock(&s->mu);
	bool initialized = s->initialized;
	pthread_mutex_unlock(&s->mu);
	if (!initialized && r->h.opcode != FUSE_INIT)
		return -EIO;
	if (op->write && s->opts.readonly)
		return -EROFS;
	if (r->in.left < op->in_min)
		return -EINVAL;
	if (!op->noreply && r->out.cap < sizeof(struct fuse_out_header) + op->out_min)
		return -EINVAL;
	return 0;
}

static size_t reply_header(struct fs_req *r, int err)
{
	struct fuse_out_header oh = {
		.len = (uint32_t)(sizeof(oh) + (err ? 0 : r->len)),
		.error = err,
		.unique = r->h.unique,
	};
	if (fs_out_write(&r->out, 0, &oh, sizeof(oh)) < 0)
		return 0;
	return oh.len;
}

size_t fs_server_handle(struct fs_server *s, const struct iovec *in, int nin,
			const struct iovec *out, int nout)
{
	struct fs_req r = { .s = s };
	fs_in_init(&r.in, in, nin, SIZE_MAX);
	fs_out_init(&r.out, out, nout);
	int err = parse_header(&r, fs_iov_total(in, nin > 0 ? nin : 0));
	const struct op_info *op = op_of(r.h.opcode);
	if (op && op->noreply) {
		if (err == 0 && op->fn && admit(&r, op) == 0)
			op->fn(&r);
		return 0;
	}
	if (r.out.cap < sizeof(struct fuse_out_header))
		return 0; /* no room for any answer: do nothing */
	if (err == 0)
		err = op ? admit(&r, op) : -ENOSYS;
	if (err == 0) {
		err = op->fn(&r);
		/* A host ENOSYS must not tell the guest the op is unsupported
		 * for good (the kernel would stop sending it). */
		if (err == -ENOSYS)
			err = -EOPNOTSUPP;
	}
	return reply_header(&r, err);
}

static int open_root(int root_dirfd, struct stat *st, struct fs_err *err)
{
	int fd = openat(root_dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err->msg, sizeof(err->msg), "shared folder: %s", strerror(errno));
		return -1;
	}
	int r = fs_stat(fd, st);
	if (r < 0) {
		snprintf(err->msg, sizeof(err->msg), "shared folder: stat: %s", strerror(-r));
		close(fd);
		return -1;
	}
	return fd;
}

static void apply_defaults(struct fs_server_opts *o)
{
	if (!o->max_nodes)
		o->max_nodes = FS_DEFAULT_MAX_NODES;
	if (!o->max_handles)
		o->max_handles = FS_DEFAULT_MAX_HANDLES;
	if (!o->entry_timeout_ms)
		o->entry_timeout_ms = FS_DEFAULT_TIMEOUT_MS;
	if (!o->attr_timeout_ms)
		o->attr_timeout_ms = FS_DEFAULT_TIMEOUT_MS;
}

/* The tables and locks of a zeroed server; the root fd is taken over. */
static int init_tables(struct fs_server *s, int root, const struct stat *st, struct fs_err *err)
{
	int r = fs_nodes_init(&s->nodes, s->opts.max_nodes, root, st);
	if (r < 0) {
		close(root);
		snprintf(err->msg, sizeof(err->msg), "node table: %s", strerror(-r));
		return -1;
	}
	r = fs_handles_init(&s->handles, s->opts.max_handles);
	if (r == 0 && (r = -pthread_mutex_init(&s->mu, NULL)) < 0)
		fs_handles_fini(&s->handles);
	if (r < 0) {
		fs_nodes_fini(&s->nodes);
		snprintf(err->msg, sizeof(err->msg), "handle table: %s", strerror(-r));
		return -1;
	}
	return 0;
}

/* A duplicate of fd, checked to be a directory on procfs; -1 with err. */
static int dup_proc(int fd, struct fs_err *err)
{
	struct statfs sf;
	if (fd < 0 || fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) {
		snprintf(err->msg, sizeof(err->msg), "/proc/self/fd: not a procfs directory fd");
		return -1;
	}
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d < 0)
		snprintf(err->msg, sizeof(err->msg), "/proc/self/fd: dup: %s", strerror(errno));
	return d;
}

struct fs_server *fs_server_new_procfd(int root_dirfd, int proc_self_fd,
				       const struct fs_server_opts *opts, struct fs_err *err)
{
	struct fs_err dummy;
	err = err ? err : &dummy;
	struct fs_server *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return NULL;
	}
	s->opts = opts ? *opts : (struct fs_server_opts){ 0 };
	apply_defaults(&s->opts);
	struct stat st;
	int root = -1;
	if ((s->proc_fd = dup_proc(proc_self_fd, err)) < 0 ||
	    (root = open_root(root_dirfd, &st, err)) < 0 || init_tables(s, root, &st, err) < 0) {
		if (s->proc_fd >= 0)
			close(s->proc_fd);
		free(s);
		return NULL;
	}
	return s;
}

struct fs_server *fs_server_new_opts(int root_dirfd, const struct fs_server_opts *opts,
				     struct fs_err *err)
{
	struct fs_err dummy;
	err = err ? err : &dummy;
	int proc = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0) {
		snprintf(err->msg, sizeof(err->msg), "/proc/self/fd: %s", strerror(errno));
		return NULL;
	}
	struct fs_server *s = fs_server_new_procfd(root_dirfd, proc, opts, err);
	close(proc);
	return s;
}

struct fs_server *fs_server_new(int root_dirfd, bool readonly, struct fs_err *err)
{
	struct fs_server_opts o = { .readonly = readonly };
	return fs_server_new_opts(root_dirfd, &o, err);
}

void fs_server_free(struct fs_server *s)
{
	if (!s)
		return;
	fs_handles_fini(&s->handles);
	fs_nodes_fini(&s->nodes);
	pthread_mutex_destroy(&s->mu);
	close(s->proc_fd);
	free(s);
}

void fs_server_get_stats(struct fs_server *s, struct fs_server_stats *st)
{
	fs_nodes_count(&s->nodes, &st->nodes, &st->node_slots);
	fs_handles_count(&s->handles, &st->handles, &st->handle_slots);
}

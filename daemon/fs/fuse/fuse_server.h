/* fuse_server.h - the FUSE server behind a virtio-fs device.
 *
 * One struct fs_server serves one shared host folder (one virtio-fs mount
 * in the guest). The VMM's virtio-fs device pops a request from any of its
 * queues and calls fs_server_handle() with the descriptor chain's readable
 * part (the guest's FUSE request) and writable part (room for the reply);
 * the server answers from a passthrough backend confined beneath the folder:
 *   - every guest name is one path component, resolved with openat2()
 *     beneath its parent's fd with symlinks, magic links and mount crossings
 *     refused; symlinks are never followed on the host (the guest resolves
 *     them in its own namespace);
 *   - node IDs and file handles are the server's own (table slot and
 *     generation), never host pointers or inode numbers; both tables are
 *     bounded, and FORGET/RELEASE really free;
 *   - the server opens nothing by absolute path after fs_server_new (the
 *     VMM is jailed by then): inodes are reopened for I/O through a
 *     /proc/self/fd directory fd opened here.
 * Protocol: FUSE 7.31 or newer (<linux/fuse.h>), see fuse_ops_init.c.
 * System calls made while serving (for the VMM's seccomp allowlist):
 * openat2 (openat where it is missing), openat, newfstatat, fstatfs,
 * close, fcntl, preadv, pwritev, lseek, getdents64, mkdirat, mknodat,
 * symlinkat, linkat, unlinkat, renameat2, readlinkat, fchmodat,
 * fchownat, utimensat, faccessat2 (faccessat), ftruncate, fallocate,
 * copy_file_range, fsync, fdatasync, fgetxattr, flistxattr, fsetxattr,
 * fremovexattr, futex, and malloc's.
 * POSIX and BSD locks are left to the guest kernel (FUSE_POSIX_LOCKS and
 * FUSE_FLOCK_LOCKS are not offered; GETLK/SETLK/SETLKW get ENOSYS): one
 * guest is the only client of a mount, and a blocking SETLKW would stall
 * a request queue.
 */
#ifndef SM_FS_FUSE_SERVER_H
#define SM_FS_FUSE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct fs_err {
	char msg[256];
};

struct fs_server;

/* Tunables; zero fields take the defaults in brackets. */
struct fs_server_opts {
	bool readonly;             /* every write-type op answers EROFS */
	bool allow_xdev;           /* follow mounts inside the folder [no: EXDEV] */
	bool allow_setid;          /* let the guest set S_ISUID/S_ISGID on files [no] */
	uint32_t max_nodes;        /* live nodes, root included [65536] */
	uint32_t max_handles;      /* open files and dirs [8192] */
	uint32_t entry_timeout_ms; /* guest's dentry cache timeout [1000] */
	uint32_t attr_timeout_ms;  /* guest's attribute cache timeout [1000] */
};

#define FS_DEFAULT_MAX_NODES 65536u
#define FS_DEFAULT_MAX_HANDLES 8192u
#define FS_DEFAULT_TIMEOUT_MS 1000u
/* Largest READ/WRITE payload offered in INIT (max_write, max_pages). */
#define FS_MAX_IO (1u << 20)

/* Serve the folder open at root_dirfd (any fd of a directory; the server
 * keeps its own O_PATH copy, the caller keeps root_dirfd). Opens
 * /proc/self/fd, so call it before the process is jailed, in the process
 * that will serve (a forked child must make its own). NULL with err->msg
 * set on failure. */
struct fs_server *fs_server_new(int root_dirfd, bool readonly, struct fs_err *err);
struct fs_server *fs_server_new_opts(int root_dirfd, const struct fs_server_opts *opts,
				     struct fs_err *err);
/* The same with the process's /proc/self/fd directory opened beforehand
 * (any fd of it, O_PATH will do; the server keeps a duplicate): opens
 * nothing by path, so a jailed process can make servers later, e.g. when
 * a folder is bound to an idle slot of a restored VM. */
struct fs_server *fs_server_new_procfd(int root_dirfd, int proc_self_fd,
				       const struct fs_server_opts *opts, struct fs_err *err);

/* Handle one request. in/nin: the guest's readable buffers, holding
 * fuse_in_header + op arguments (+ WRITE payload) split at any byte
 * boundaries; out/nout: the writable buffers for fuse_out_header + reply
 * (+ READ payload). Returns the number of bytes written into out: the
 * reply's length, or 0 when there is no reply (FORGET, BATCH_FORGET,
 * INTERRUPT) or out cannot hold even a fuse_out_header (then nothing is
 * done). Malformed requests get an errno reply, never a crash: the bytes
 * are untrusted and are copied out of the guest buffers before use.
 * Thread-safe: several queues may call it at once. */
size_t fs_server_handle(struct fs_server *s, const struct iovec *in, int nin,
			const struct iovec *out, int nout);

/* Close every fd and free. No call may be running. */
void fs_server_free(struct fs_server *s);

struct fs_server_stats {
	uint32_t nodes;        /* live nodes, the root included */
	uint32_t handles;      /* open file and directory handles */
	uint32_t node_slots;   /* allocated node table slots (<= max_nodes) */
	uint32_t handle_slots; /* allocated handle table slots (<= max_handles) */
};

void fs_server_get_stats(struct fs_server *s, struct fs_server_stats *st);

#endif

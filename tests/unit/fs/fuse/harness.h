/* harness.h - driving the FUSE server (daemon/fs/fuse) from tests with
 * hand-built FUSE messages against a temporary folder (harness.c).
 *
 * th_setup makes BASE=/tmp/sm-fuse-XXXXXX with BASE/root (the shared
 * folder) and BASE/outside (a sentinel folder next to it holding
 * "secret"), serves BASE/root and sends INIT. Every call checks the reply
 * the way the guest kernel would (length returned == out header length,
 * unique echoed) and returns the reply's error (0 or -errno). With
 * t->split = k, requests and reply buffers are cut into iovecs of k bytes.
 */
#ifndef SM_TEST_FUSE_HARNESS_H
#define SM_TEST_FUSE_HARNESS_H

#include "daemon/fs/fuse/fuse_server.h"

#include <check.h>
#include <limits.h>
#include <linux/fuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct th {
	char base[64], root[80], outside[80];
	int rootfd;
	struct fs_server *srv;
	size_t split;
	uint64_t unique;
};

/* A growing byte buffer for request arguments. */
struct th_buf {
	uint8_t *p;
	size_t len, cap;
};
void th_put(struct th_buf *b, const void *p, size_t n);
void th_puts(struct th_buf *b, const char *s); /* with its NUL */
void th_buf_free(struct th_buf *b);

/* Folder, server (opts may be NULL) and INIT. */
void th_setup(struct th *t, const struct fs_server_opts *opts);
/* The same without INIT and without a server (tests make their own). */
void th_setup_dirs(struct th *t);
/* Free and remove everything; does nothing the second time. */
void th_teardown(struct th *t);

/* One request: header + args; the reply body (at most rcap bytes) goes to
 * reply, its length to *rlen. Returns the reply's error. */
int th_call(struct th *t, uint32_t opcode, uint64_t nodeid, const void *args, size_t alen,
	    void *reply, size_t rcap, size_t *rlen);
/* Send raw request bytes with an out space of outcap; returns what
 * fs_server_handle returned, the reply copied to out. */
size_t th_raw(struct th *t, const void *req, size_t len, void *out, size_t outcap);
/* A request whose header is built for opcode/nodeid around args. */
void th_request(struct th *t, struct th_buf *b, uint32_t opcode, uint64_t nodeid,
		const void *args, size_t alen);

/* One request in one iovec each way, checked without libcheck (whose
 * every passing assert writes a record: too slow for 100k requests, and
 * unusable in threads and forked children): the reply's error, or -9999
 * for a malformed reply; the body into reply[rcap]. args <= 4000 bytes. */
int th_quick(struct fs_server *srv, uint32_t op, uint64_t nodeid, const void *args,
	     size_t alen, void *reply, size_t rcap, size_t *rlen);

int th_init(struct th *t, uint32_t major, uint32_t minor, uint32_t flags, struct fuse_init_out *o);
int th_lookup(struct th *t, uint64_t parent, const char *name, struct fuse_entry_out *eo);
void th_forget(struct th *t, uint64_t nodeid, uint64_t n);
int th_getattr(struct th *t, uint64_t nodeid, struct fuse_attr *a);
int th_setattr(struct th *t, uint64_t nodeid, const struct fuse_setattr_in *in, struct fuse_attr *a);
int th_mkdir(struct th *t, uint64_t parent, const char *name, uint32_t mode, struct fuse_entry_out *eo);
int th_mknod(struct th *t, uint64_t parent, const char *name, uint32_t mode, struct fuse_entry_out *eo);
int th_create(struct th *t, uint64_t parent, const char *name, uint32_t flags, uint32_t mode,
	      struct fuse_entry_out *eo, uint64_t *fh);
int th_open(struct th *t, uint64_t nodeid, uint32_t flags, uint64_t *fh);
int th_opendir(struct th *t, uint64_t nodeid, uint64_t *fh);
/* Bytes written / read, or -errno. */
ssize_t th_write(struct th *t, uint64_t nodeid, uint64_t fh, uint64_t off, const void *p, size_t n);
ssize_t th_read(struct th *t, uint64_t nodeid, uint64_t fh, uint64_t off, void *p, size_t n);
int th_release(struct th *t, uint64_t nodeid, uint64_t fh);
int th_releasedir(struct th *t, uint64_t nodeid, uint64_t fh);
int th_unlink(struct th *t, uint64_t parent, const char *name);
int th_rmdir(struct th *t, uint64_t parent, const char *name);
int th_symlink(struct th *t, uint64_t parent, const char *name, const char *target,
	       struct fuse_entry_out *eo);
/* The target text, NUL-terminated, in buf[cap]. */
int th_readlink(struct th *t, uint64_t nodeid, char *buf, size_t cap);
/* RENAME when flags is 0, else RENAME2. */
int th_rename(struct th *t, uint64_t olddir, const char *oldname, uint64_t newdir,
	      const char *newname, uint32_t flags);
int th_link(struct th *t, uint64_t oldnode, uint64_t newparent, const char *name,
	    struct fuse_entry_out *eo);

/* Every name in directory nodeid, read with READDIR (or READDIRPLUS,
 * whose lookups are forgotten again), joined as "a,b,c" sorted, "." and
 * ".." left out. Returns 0 or -errno. */
int th_list(struct th *t, uint64_t nodeid, bool plus, char *out, size_t cap);

/* Host side, paths relative to BASE. */
void th_host_write(struct th *t, const char *rel, const char *content);
/* The file's content ("" if missing: *exists false). */
char *th_host_read(struct th *t, const char *rel, bool *exists);
bool th_host_exists(struct th *t, const char *rel);
/* The names in BASE/rel joined like th_list. */
void th_host_list(struct th *t, const char *rel, char *out, size_t cap);
void th_host_symlink(struct th *t, const char *target, const char *rel);
void th_host_mkdir(struct th *t, const char *rel);
void th_host_rename(struct th *t, const char *from, const char *to);
/* lstat of BASE/rel, asserted to exist. */
void th_host_lstat(struct th *t, const char *rel, struct stat *st);

uint32_t th_nodes(struct th *t);
uint32_t th_handles(struct th *t);

#endif

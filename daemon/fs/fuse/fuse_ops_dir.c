/* fuse_ops_dir.c - directory handles: OPENDIR, READDIR, READDIRPLUS,
 * RELEASEDIR, FSYNCDIR. A READDIR(PLUS) seeks the handle's fd to the
 * guest's offset (a getdents64 d_off cookie, 0 for the start) and encodes
 * entries until the guest's buffer is full; each entry's off is the
 * cookie of the next. READDIRPLUS looks each entry up like LOOKUP does
 * (only once it is sure to fit: the guest counts a lookup for every entry
 * it receives), except "." and ".." which carry no node. Directories are
 * opened without FOPEN_CACHE_DIR, so host changes show on the next read.
 */
#include "daemon/fs/fuse/fuse_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIRBUF 16384

int fs_op_opendir(struct fs_req *r)
{
	struct fuse_open_in in;
	struct fs_node_ref n;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0 || (e = fs_pin(r, r->h.nodeid, &n)) < 0)
		return e;
	int fd = S_ISDIR(n.type) ? fs_reopen(r->s->proc_fd, n.fd, n.type, O_RDONLY) : -ENOTDIR;
	bool root = n.root;
	fs_unpin(r, &n);
	uint64_t fh;
	if (fd < 0)
		return fd;
	if ((e = fs_handles_add(&r->s->handles, fd, true, root, &fh)) < 0)
		return e;
	struct fuse_open_out o = { .fh = fh };
	return fs_reply(r, &o, sizeof(o));
}

struct dir_pass {
	struct fs_req *r;
	const struct fs_handle_ref *h;
	bool plus;
	size_t room;      /* bytes the reply may still take */
	uint64_t self_ino; /* the root's ".." is shown as the root itself */
};

static bool is_dot(const char *n)
{
	return strcmp(n, ".") == 0 || strcmp(n, "..") == 0;
}

/* Append one entry; 1 if added, 0 if it does not fit. */
static int emit(struct dir_pass *p, const struct dirent64 *de)
{
	size_t namelen = strlen(de->d_name);
	size_t head = p->plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
	size_t rec = FUSE_DIRENT_ALIGN(head + namelen);
	if (rec > p->room)
		return 0;
	struct fuse_entry_out eo = { 0 };
	if (p->plus && !is_dot(de->d_name) &&
	    fs_lookup_at(p->r->s, p->h->fd, de->d_name, &eo) < 0)
		eo = (struct fuse_entry_out){ 0 }; /* gone or refused: no node */
	struct fuse_dirent d = { .ino = de->d_ino, .off = (uint64_t)de->d_off,
				 .namelen = (uint32_t)namelen, .type = de->d_type };
	if (p->self_ino && strcmp(de->d_name, "..") == 0)
		d.ino = p->self_ino;
	uint8_t pad[8] = { 0 };
	if (p->plus)
		fs_reply(p->r, &eo, sizeof(eo));
	fs_reply(p->r, &d, sizeof(d));
	fs_reply(p->r, de->d_name, namelen);
	fs_reply(p->r, pad, rec - head - namelen);
	p->room -= rec;
	return 1;
}

/* Fill the reply from offset on; 0, or -errno if nothing was added. */
static int fill(struct dir_pass *p, uint64_t offset, char *buf)
{
	int fd = p->h->fd;
	if (lseek(fd, (off_t)offset, SEEK_SET) < 0)
		return -errno;
	bool any = false;
	for (;;) {
		ssize_t n = getdents64(fd, buf, DIRBUF);
		if (n < 0)
			return any ? 0 : -errno;
		if (n == 0)
			return 0;
		for (ssize_t pos = 0; pos < n;) {
			const struct dirent64 *de = (const void *)(buf + pos);
			pos += de->d_reclen;
			if (!emit(p, de))
				return any ? 0 : -EINVAL; /* not even one fits */
			any = true;
		}
	}
}

static int readdir_common(struct fs_req *r, bool plus)
{
	struct fuse_read_in in;
	struct fs_handle_ref h;
	int e = fs_args(r, &in, sizeof(in));
	if (e < 0 || (e = fs_pin_fh(r, in.fh, true, &h)) < 0)
		return e;
	struct dir_pass p = { .r = r, .h = &h, .plus = plus, .room = fs_reply_room(r) };
	if (in.size < p.room)
		p.room = in.size;
	struct stat st;
	if (h.dir->root && fs_stat(h.fd, &st) == 0)
		p.self_ino = st.st_ino;
	char *buf = malloc(DIRBUF);
	if (!buf) {
		e = -ENOMEM;
	} else {
		pthread_mutex_lock(&h.dir->mu);
		e = fill(&p, in.offset, buf);
		pthread_mutex_unlock(&h.dir->mu);
		free(buf);
	}
	fs_unpin_fh(r, &h);
	return e;
}

int fs_op_readdir(struct fs_req *r)
{
	return readdir_common(r, false);
}

int fs_op_readdirplus(struct fs_req *r)
{
	return readdir_common(r, true);
}

int fs_op_releasedir(struct fs_req *r)
{
	struct fuse_release_in in;
	int e = fs_args(r, &in, sizeof(in));
	return e < 0 ? e : fs_handles_release(&r->s->handles, in.fh, true);
}

int fs_op_fsyncdir(struct fs_req *r)
{
	return fs_sync_handle(r, true);
}

/* fuse_attr.c - host inode attributes in FUSE form, and the lookup that
 * turns a name beneath a directory fd into a node and a fuse_entry_out
 * (LOOKUP, MKDIR/MKNOD/SYMLINK/LINK replies, READDIRPLUS entries).
 */
#include "daemon/fs/fuse/fuse_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int fs_stat(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* The kernel's 32-bit device number encoding (new_encode_dev). */
static uint32_t encode_dev(dev_t d)
{
	uint32_t maj = major(d), min = minor(d);
	return (min & 0xff) | (maj << 8) | ((min & ~0xffu) << 12);
}

void fs_fill_attr(struct fuse_attr *a, const struct stat *st)
{
	*a = (struct fuse_attr){
		.ino = st->st_ino,
		.size = (uint64_t)st->st_size,
		.blocks = (uint64_t)st->st_blocks,
		.atime = (uint64_t)st->st_atim.tv_sec,
		.mtime = (uint64_t)st->st_mtim.tv_sec,
		.ctime = (uint64_t)st->st_ctim.tv_sec,
		.atimensec = (uint32_t)st->st_atim.tv_nsec,
		.mtimensec = (uint32_t)st->st_mtim.tv_nsec,
		.ctimensec = (uint32_t)st->st_ctim.tv_nsec,
		.mode = st->st_mode,
		.nlink = (uint32_t)st->st_nlink,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.rdev = encode_dev(st->st_rdev),
		.blksize = (uint32_t)st->st_blksize,
	};
}

static void split_ms(uint32_t ms, uint64_t *sec, uint32_t *nsec)
{
	*sec = ms / 1000;
	*nsec = (ms % 1000) * 1000000u;
}

void fs_fill_attr_out(const struct fs_server *s, struct fuse_attr_out *o, const struct stat *st)
{
	*o = (struct fuse_attr_out){ 0 };
	split_ms(s->opts.attr_timeout_ms, &o->attr_valid, &o->attr_valid_nsec);
	fs_fill_attr(&o->attr, st);
}

int fs_node_entry(struct fs_server *s, int fd, const struct stat *st, struct fuse_entry_out *eo)
{
	*eo = (struct fuse_entry_out){ 0 };
	int r = fs_nodes_add(&s->nodes, fd, st, &eo->nodeid, &eo->generation);
	if (r < 0)
		return r;
	split_ms(s->opts.entry_timeout_ms, &eo->entry_valid, &eo->entry_valid_nsec);
	split_ms(s->opts.attr_timeout_ms, &eo->attr_valid, &eo->attr_valid_nsec);
	fs_fill_attr(&eo->attr, st);
	return 0;
}

int fs_lookup_at(struct fs_server *s, int dirfd, const char *name, struct fuse_entry_out *eo)
{
	int fd = fs_open_beneath(dirfd, name, O_PATH, 0, s->opts.allow_xdev);
	if (fd < 0)
		return fd;
	struct stat st;
	int r = fs_stat(fd, &st);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fs_node_entry(s, fd, &st, eo);
}

int fs_chmod_node(struct fs_server *s, int fd, mode_t type, mode_t mode)
{
	if (S_ISLNK(type))
		return -EOPNOTSUPP;
	/* Through the magic link: it leads to fd's own inode. */
	char name[16];
	fs_fd_name(fd, name);
	return fchmodat(s->proc_fd, name, mode, 0) < 0 ? -errno : 0;
}

int fs_reply_created(struct fs_req *r, int dirfd, const char *name, int perm)
{
	struct fuse_entry_out eo;
	int e = fs_lookup_at(r->s, dirfd, name, &eo);
	if (e < 0)
		return e;
	mode_t type = eo.attr.mode & S_IFMT;
	if (perm >= 0 && !S_ISLNK(type) && (eo.attr.mode & 0777) != ((mode_t)perm & 0777)) {
		/* The host's umask took bits the guest asked for. */
		struct fs_node_ref ref;
		if (fs_pin(r, eo.nodeid, &ref) == 0) {
			mode_t m = (eo.attr.mode & 07000) | ((mode_t)perm & 0777);
			struct stat st;
			if (fs_chmod_node(r->s, ref.fd, ref.type, m) == 0 && fs_stat(ref.fd, &st) == 0)
				fs_fill_attr(&eo.attr, &st);
			fs_unpin(r, &ref);
		}
	}
	return fs_reply(r, &eo, sizeof(eo));
}

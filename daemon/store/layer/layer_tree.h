/* layer_tree.h - the in-memory filesystem tree built from one layer's tar.
 *
 * layer_convert.c feeds archive entries in; erofs_writer.c lays the result
 * out on disk. Dentries (names) point at inodes; hard links are several
 * dentries sharing one inode. A global hash on (parent, name) keeps lookups
 * O(1) for large directories. Paths are resolved without ever following a
 * symlink: a symlink (or any non-directory) in the middle of a path makes
 * the lookup fail, which is how writes through symlinks are refused.
 * File contents are not held here: the converter streams them straight
 * into the image and only records where they went.
 */
#ifndef SM_LAYER_TREE_H
#define SM_LAYER_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lt_xattr {
	uint8_t index;          /* erofs name prefix index */
	uint8_t name_len;       /* suffix length */
	uint16_t value_len;
	char *name;             /* suffix after the prefix */
	uint8_t *value;
};

struct lt_inode {
	uint32_t mode;          /* type and permission bits, as st_mode */
	uint32_t uid, gid;
	int64_t mtime;
	uint32_t mtime_nsec;
	uint64_t size;          /* data bytes (file, symlink); dir set at layout */
	uint32_t rdev_major, rdev_minor;
	uint32_t refs;          /* dentries pointing here (nlink of non-dirs) */
	struct lt_xattr *xattrs;
	size_t nxattrs;
	/* Regular file data, placed while streaming. */
	uint32_t data_blkaddr;  /* first full block, if any */
	bool tail_inline;       /* the last partial block lives in the spool */
	uint64_t spool_off;
	char *symlink;          /* symlink target */
	struct lt_dentry *dir;  /* the dentry of a directory inode */
	/* Layout results (erofs_writer.c). */
	bool placed;
	uint64_t nid;
	uint32_t ino;
};

struct lt_dentry {
	char *name;
	uint16_t name_len;
	struct lt_dentry *parent;
	struct lt_inode *inode;
	struct lt_dentry **children;    /* directories only, unsorted */
	size_t nchildren, cap;
	struct lt_dentry *hash_next;
};

struct lt_tree {
	struct lt_dentry *root;
	struct lt_dentry **buckets;
	size_t nbuckets, ndentries;
	uint64_t ninodes;       /* live inodes */
	int64_t default_mtime;  /* for implicit parents */
};

/* Longest path accepted, as the guest's PATH_MAX. */
#define LT_PATH_MAX 4096

/* Path split into components; clean, no "", "." or "..". */
struct lt_path {
	char **comp;
	size_t n;
	bool rewritten;         /* absolute, "..", "." or "//" were removed */
};

enum lt_err {
	LT_OK = 0,
	LT_ENOMEM,
	LT_ENOTDIR,             /* a symlink or non-directory mid-path */
	LT_ENOENT,
	LT_EBADNAME,            /* component or path too long */
};

int lt_tree_init(struct lt_tree *t, int64_t mtime);
void lt_tree_free(struct lt_tree *t);

/* Split and clean a tar path lexically ("a/../../b" -> "b", "/x" -> "x"). */
enum lt_err lt_path_parse(const char *raw, struct lt_path *p);
void lt_path_free(struct lt_path *p);

struct lt_inode *lt_inode_new(uint32_t mode);
int lt_inode_add_xattr(struct lt_inode *ino, uint8_t index, const char *suffix,
		       const void *value, size_t value_len);
/* Remove the xattr (index, suffix) if present. */
void lt_inode_del_xattr(struct lt_inode *ino, uint8_t index, const char *suffix);

/* Called by lt_walk when a non-directory sits where a parent directory
 * is needed: return a new directory inode to put in its place, or NULL
 * to fail the walk with LT_ENOTDIR (symlinks and files). */
typedef struct lt_inode *(*lt_blocked_fn)(void *ctx, struct lt_inode *blocker);

/* Directory holding the path's last component (n components of p used).
 * With create, missing parents are made (mode 0755, root owned) and
 * blocked (may be NULL) decides about non-directories in the way. */
enum lt_err lt_walk(struct lt_tree *t, const struct lt_path *p, size_t n,
		    bool create, lt_blocked_fn blocked, void *ctx,
		    struct lt_dentry **dir);
struct lt_dentry *lt_lookup(struct lt_tree *t, struct lt_dentry *dir,
			    const char *name);

/* Bind name in dir to ino, replacing (and freeing) any previous entry;
 * ino's reference count is taken over. */
enum lt_err lt_bind(struct lt_tree *t, struct lt_dentry *dir, const char *name,
		    struct lt_inode *ino);

/* Drop one reference; frees the inode at zero. */
void lt_inode_put(struct lt_tree *t, struct lt_inode *ino);

static inline bool lt_is_dir(const struct lt_inode *ino)
{
	return (ino->mode & 0170000) == 0040000;
}

#endif

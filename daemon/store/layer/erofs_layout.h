/* erofs_layout.h - internal: the on-disk placement of every inode.
 *
 * erofs_layout.c decides, for each live inode of a layer_tree, its nid,
 * inode version, data layout, inline tail and extra blocks; erofs_emit.c
 * then serialises exactly that plan. Items are in breadth-first order with
 * the root first, so the root's nid is 1 (the superblock holds it in 16
 * bits; nid 0 would read as inode number 0). An inode's item is
 * items[ino->ino - 1].
 */
#ifndef SM_EROFS_LAYOUT_H
#define SM_EROFS_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "layer_tree.h"

struct ew_dirent {
	const char *name;
	uint16_t len;
	struct lt_inode *target;
};

struct ew_item {
	struct lt_inode *ino;
	struct ew_dirent *dirents;      /* directories: sorted, with . and .. */
	size_t ndirents;
	uint64_t size;                  /* i_size */
	uint32_t nlink;
	uint32_t xsize;                 /* inline xattr area bytes */
	uint32_t isize;                 /* 32 or 64 */
	uint32_t tail;                  /* inline tail bytes (0: none) */
	uint8_t layout;
	uint64_t blkaddr;               /* first data block, if any */
};

struct ew_layout {
	struct ew_item *items;
	size_t n, cap;
	int64_t epoch;                  /* mtime of compact inodes */
	uint32_t epoch_nsec;
	uint64_t meta_blkaddr;
	uint64_t meta_bytes;
	uint64_t late_blkaddr;          /* directory and symlink blocks */
	uint64_t end_blk;               /* first block past the image */
};

int ew_layout_build(struct ew_layout *l, struct lt_tree *t, uint64_t first_blk,
		    char *err, size_t errlen);
void ew_layout_free(struct ew_layout *l);

/* Visit the directory blocks of it: calls fn for each block with its
 * first dirent index and count and the bytes used. */
typedef int (*ew_dirblock_fn)(void *ctx, const struct ew_item *it, uint64_t blk,
			      size_t first, size_t count, uint32_t used);
int ew_dir_blocks(const struct ew_item *it, ew_dirblock_fn fn, void *ctx);

#endif

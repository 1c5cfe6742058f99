/* erofs_layout.c - decide where every inode of a layer goes in the image.
 *
 * Steps: collect live inodes breadth first from the root (a hard-linked
 * inode once), sort each directory's names with . and .. (erofs looks
 * names up by binary search), size directories by packing dirents into
 * blocks, pick compact or extended inodes (compact when the mtime equals
 * the most common one, stored once in the superblock), choose inline tails
 * and give out nids. An inode with its xattrs and inline tail never
 * straddles a block (older kernels require the tail in the inode's block).
 * The root gets nid 1: the superblock holds it in 16 bits.
 */
#include "erofs_layout.h"
#include "erofs_format.h"
#include "erofs_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int item_push(struct ew_layout *l, struct lt_inode *ino)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct ew_item *ni = realloc(l->items, cap * sizeof(*ni));

		if (!ni)
			return -1;
		l->items = ni;
		l->cap = cap;
	}
	memset(&l->items[l->n], 0, sizeof(l->items[0]));
	l->items[l->n].ino = ino;
	ino->placed = true;
	l->n++;
	ino->ino = (uint32_t)l->n;
	return 0;
}

static int dirent_cmp(const void *a, const void *b)
{
	const struct ew_dirent *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int build_dirents(struct ew_item *it)
{
	struct lt_dentry *d = it->ino->dir;
	struct ew_dirent *de = calloc(d->nchildren + 2, sizeof(*de));
	uint32_t subdirs = 0;

	if (!de)
		return -1;
	de[0] = (struct ew_dirent){ ".", 1, it->ino };
	de[1] = (struct ew_dirent){ "..", 2, d->parent ? d->parent->inode : it->ino };
	for (size_t i = 0; i < d->nchildren; i++) {
		struct lt_dentry *c = d->children[i];

		de[i + 2] = (struct ew_dirent){ c->name, c->name_len, c->inode };
		subdirs += lt_is_dir(c->inode);
	}
	it->ndirents = d->nchildren + 2;
	qsort(de, it->ndirents, sizeof(*de), dirent_cmp);
	it->dirents = de;
	it->nlink = 2 + subdirs;
	return 0;
}

/* Breadth-first list of live inodes, root first. */
static int collect(struct ew_layout *l, struct lt_tree *t)
{
	if (item_push(l, t->root->inode) < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		if (!lt_is_dir(l->items[i].ino))
			continue;
		if (build_dirents(&l->items[i]) < 0)
			return -1;
		for (size_t j = 0; j < l->items[i].ndirents; j++) {
			struct lt_inode *c = l->items[i].dirents[j].target;

			if (!c->placed && item_push(l, c) < 0)
				return -1;
		}
	}
	return 0;
}

int ew_dir_blocks(const struct ew_item *it, ew_dirblock_fn fn, void *ctx)
{
	size_t first = 0;
	uint32_t used = 0;
	uint64_t blk = 0;

	for (size_t i = 0; i < it->ndirents; i++) {
		uint32_t need = EROFS_DIRENT_SIZE + it->dirents[i].len;

		if (used + need > EROFS_BLKSZ) {
			if (fn(ctx, it, blk, first, i - first, used) < 0)
				return -1;
			blk++;
			first = i;
			used = 0;
		}
		used += need;
	}
	return fn(ctx, it, blk, first, it->ndirents - first, used);
}

static int dir_size_cb(void *ctx, const struct ew_item *it, uint64_t blk,
		       size_t first, size_t count, uint32_t used)
{
	*(uint64_t *)ctx = blk * EROFS_BLKSZ + used;
	return 0;
}

/* Boyer-Moore majority vote: the usual mtime of a layer. */
static void pick_epoch(struct ew_layout *l)
{
	size_t votes = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct lt_inode *ino = l->items[i].ino;

		if (!votes) {
			l->epoch = ino->mtime;
			l->epoch_nsec = ino->mtime_nsec;
		}
		if (ino->mtime == l->epoch && ino->mtime_nsec == l->epoch_nsec)
			votes++;
		else
			votes--;
	}
}

static void size_item(struct ew_layout *l, struct ew_item *it)
{
	const struct lt_inode *ino = it->ino;
	uint32_t type = ino->mode & 0170000;

	it->xsize = (uint32_t)ew_xattr_isize(ino);
	if (type == 0040000)
		ew_dir_blocks(it, dir_size_cb, &it->size);
	else if (type == 0100000 || type == 0120000)
		it->size = ino->size;
	if (type != 0040000)
		it->nlink = ino->refs;
	bool compact = ino->uid <= 0xffff && ino->gid <= 0xffff &&
		it->size <= 0xffffffffull && it->nlink <= 0xffff &&
		ino->mtime == l->epoch && ino->mtime_nsec == l->epoch_nsec;
	it->isize = compact ? EROFS_INODE_COMPACT_SIZE : EROFS_INODE_EXTENDED_SIZE;
	it->layout = EROFS_LAYOUT_FLAT_PLAIN;
	if (type == 0100000) {
		it->blkaddr = ino->data_blkaddr;
		if (ino->tail_inline) {
			it->layout = EROFS_LAYOUT_FLAT_INLINE;
			it->tail = (uint32_t)(it->size % EROFS_BLKSZ);
		}
	} else if (type == 0040000 || type == 0120000) {
		uint32_t tail = (uint32_t)(it->size % EROFS_BLKSZ);

		if (tail && tail <= EROFS_BLKSZ / 2 &&
		    it->isize + it->xsize + tail <= EROFS_BLKSZ) {
			it->layout = EROFS_LAYOUT_FLAT_INLINE;
			it->tail = tail;
		}
	}
}

/* nids in item order; the late (dir/symlink) blocks after the metadata. */
static void place(struct ew_layout *l, uint64_t first_blk)
{
	/* nid 0 would be inode number 0, which readdir(3) treats as a
	 * deleted entry: the first slot stays empty. */
	uint64_t pos = EROFS_SLOT, next;

	for (size_t i = 0; i < l->n; i++) {
		struct ew_item *it = &l->items[i];
		uint64_t total = it->isize + it->xsize + it->tail;

		if (total <= EROFS_BLKSZ && pos % EROFS_BLKSZ + total > EROFS_BLKSZ)
			pos = round_up_u64(pos, EROFS_BLKSZ);
		it->ino->nid = pos / EROFS_SLOT;
		pos += round_up_u64(total, EROFS_SLOT);
	}
	l->meta_blkaddr = first_blk;
	l->meta_bytes = pos;
	l->late_blkaddr = first_blk + round_up_u64(pos, EROFS_BLKSZ) / EROFS_BLKSZ;
	next = l->late_blkaddr;
	for (size_t i = 0; i < l->n; i++) {
		struct ew_item *it = &l->items[i];
		uint32_t type = it->ino->mode & 0170000;
		uint64_t nblk;

		if (type != 0040000 && type != 0120000)
			continue;
		nblk = it->layout == EROFS_LAYOUT_FLAT_INLINE
			? it->size / EROFS_BLKSZ
			: round_up_u64(it->size, EROFS_BLKSZ) / EROFS_BLKSZ;
		it->blkaddr = nblk ? next : 0;
		next += nblk;
	}
	l->end_blk = next;
}

int ew_layout_build(struct ew_layout *l, struct lt_tree *t, uint64_t first_blk,
		    char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	if (collect(l, t) < 0) {
		snprintf(err, errlen, "out of memory laying out the image");
		return -1;
	}
	pick_epoch(l);
	for (size_t i = 0; i < l->n; i++)
		size_item(l, &l->items[i]);
	place(l, first_blk);
	if (l->end_blk > 0xffffffffull) {
		snprintf(err, errlen, "image too large: %llu blocks",
			 (unsigned long long)l->end_blk);
		return -1;
	}
	return 0;
}

void ew_layout_free(struct ew_layout *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i].dirents);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* erofs_emit.c - serialise a computed layout: inodes, xattrs, directories,
 * symlinks, inline tails and the superblock.
 *
 * The whole metadata area is built in memory and written with one pwrite;
 * directory blocks and non-inline symlinks go to their late blocks. Data
 * blocks of regular files are already on disk (erofs_data.c).
 */
#include "erofs_format.h"
#include "erofs_layout.h"
#include "erofs_writer.h"
#include "pwrite_all.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct emit {
	struct erofs_writer *w;
	struct ew_layout *l;
	uint8_t *meta;
	uint8_t blk[EROFS_BLKSZ];
};

static uint8_t erofs_ftype(uint32_t mode)
{
	switch (mode & 0170000) {
	case 0100000: return EROFS_FT_REG_FILE;
	case 0040000: return EROFS_FT_DIR;
	case 0020000: return EROFS_FT_CHRDEV;
	case 0060000: return EROFS_FT_BLKDEV;
	case 0010000: return EROFS_FT_FIFO;
	case 0140000: return EROFS_FT_SOCK;
	case 0120000: return EROFS_FT_SYMLINK;
	}
	return EROFS_FT_UNKNOWN;
}

/* The kernel's "new" dev_t encoding, as stored in i_u for devices. */
static uint32_t encode_rdev(uint32_t major, uint32_t minor)
{
	return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffu) << 12);
}

static uint32_t item_iu(const struct ew_item *it)
{
	uint32_t type = it->ino->mode & 0170000;

	if (type == 0020000 || type == 0060000)
		return encode_rdev(it->ino->rdev_major, it->ino->rdev_minor);
	return (uint32_t)it->blkaddr;
}

static uint16_t xattr_icount(uint32_t xsize)
{
	return xsize ? (uint16_t)((xsize - EROFS_XATTR_HDR_SIZE) / 4 + 1) : 0;
}

static void put_inode(uint8_t *p, const struct ew_item *it)
{
	const struct lt_inode *ino = it->ino;
	bool ext = it->isize == EROFS_INODE_EXTENDED_SIZE;

	put_le16(p, (uint16_t)((it->layout << 1) | ext));
	put_le16(p + 2, xattr_icount(it->xsize));
	put_le16(p + 4, (uint16_t)ino->mode);
	put_le32(p + 16, item_iu(it));
	put_le32(p + 20, ino->ino);
	if (!ext) {
		put_le16(p + 6, (uint16_t)it->nlink);
		put_le32(p + 8, (uint32_t)it->size);
		put_le16(p + 24, (uint16_t)ino->uid);
		put_le16(p + 26, (uint16_t)ino->gid);
		return;
	}
	put_le64(p + 8, it->size);
	put_le32(p + 24, ino->uid);
	put_le32(p + 28, ino->gid);
	put_le64(p + 32, (uint64_t)ino->mtime);
	put_le32(p + 40, ino->mtime_nsec);
	put_le32(p + 44, it->nlink);
}

static void put_xattrs(uint8_t *p, const struct lt_inode *ino)
{
	p += EROFS_XATTR_HDR_SIZE;      /* no filter, no shared xattrs */
	for (size_t i = 0; i < ino->nxattrs; i++) {
		const struct lt_xattr *x = &ino->xattrs[i];

		p[0] = x->name_len;
		p[1] = x->index;
		put_le16(p + 2, x->value_len);
		memcpy(p + 4, x->name, x->name_len);
		memcpy(p + 4 + x->name_len, x->value, x->value_len);
		p += round_up_u64(EROFS_XATTR_ENTRY_SIZE + x->name_len + x->value_len, 4);
	}
}

static uint8_t *inline_tail_of(struct emit *e, const struct ew_item *it)
{
	return e->meta + it->ino->nid * EROFS_SLOT + it->isize + it->xsize;
}

static int dirblock_cb(void *ctx, const struct ew_item *it, uint64_t blk,
		       size_t first, size_t count, uint32_t used)
{
	struct emit *e = ctx;
	uint32_t nameoff = (uint32_t)(count * EROFS_DIRENT_SIZE);

	memset(e->blk, 0, sizeof(e->blk));
	for (size_t k = 0; k < count; k++) {
		const struct ew_dirent *de = &it->dirents[first + k];
		uint8_t *p = e->blk + k * EROFS_DIRENT_SIZE;

		put_le64(p, de->target->nid);
		put_le16(p + 8, (uint16_t)nameoff);
		p[10] = erofs_ftype(de->target->mode);
		memcpy(e->blk + nameoff, de->name, de->len);
		nameoff += de->len;
	}
	if (first + count == it->ndirents && it->layout == EROFS_LAYOUT_FLAT_INLINE) {
		memcpy(inline_tail_of(e, it), e->blk, used);
		return 0;
	}
	return pwrite_all(e->w->fd, e->blk, EROFS_BLKSZ,
			  (off_t)((it->blkaddr + blk) * EROFS_BLKSZ));
}

static int emit_data(struct emit *e, const struct ew_item *it)
{
	const struct lt_inode *ino = it->ino;

	switch (ino->mode & 0170000) {
	case 0040000:
		return ew_dir_blocks(it, dirblock_cb, e);
	case 0120000:
		if (it->layout == EROFS_LAYOUT_FLAT_INLINE) {
			memcpy(inline_tail_of(e, it), ino->symlink, it->size);
			return 0;
		}
		return pwrite_all(e->w->fd, ino->symlink, it->size,
				  (off_t)(it->blkaddr * EROFS_BLKSZ));
	case 0100000:
		if (!it->tail)
			return 0;
		return pread_all(e->w->spool_fd, inline_tail_of(e, it), it->tail,
				 (off_t)ino->spool_off);
	}
	return 0;
}

/* CRC-32C (Castagnoli), reflected, no final inversion: the kernel's
 * crc32c(~0, ...) as used for the superblock checksum. */
static uint32_t crc32c_raw(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return crc;
}

/* Superblock plus the rest of block 0 (zeros), checksummed over both. */
static int emit_super(struct emit *e)
{
	uint8_t sb[EROFS_BLKSZ - EROFS_SUPER_OFFSET] = { 0 };
	const struct ew_layout *l = e->l;

	put_le32(sb, EROFS_MAGIC);
	put_le32(sb + 8, EROFS_COMPAT_SB_CHKSUM | EROFS_COMPAT_MTIME);
	sb[12] = EROFS_BLKBITS;
	put_le16(sb + 14, (uint16_t)l->items[0].ino->nid);
	put_le64(sb + 16, l->n);
	put_le64(sb + 24, (uint64_t)l->epoch);
	put_le32(sb + 32, l->epoch_nsec);
	put_le32(sb + 36, (uint32_t)l->end_blk);
	put_le32(sb + 40, (uint32_t)l->meta_blkaddr);
	put_le32(sb + 4, crc32c_raw(~0u, sb, sizeof(sb)));
	return pwrite_all(e->w->fd, sb, sizeof(sb), EROFS_SUPER_OFFSET);
}

static int emit_all(struct emit *e)
{
	struct ew_layout *l = e->l;

	if (ftruncate(e->w->spool_fd, (off_t)e->w->spool_len) < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		const struct ew_item *it = &l->items[i];
		uint8_t *p = e->meta + it->ino->nid * EROFS_SLOT;

		put_inode(p, it);
		if (it->xsize)
			put_xattrs(p + it->isize, it->ino);
		if (emit_data(e, it) < 0)
			return -1;
	}
	if (pwrite_all(e->w->fd, e->meta, l->meta_bytes,
		       (off_t)(l->meta_blkaddr * EROFS_BLKSZ)) < 0)
		return -1;
	if (emit_super(e) < 0)
		return -1;
	return ftruncate(e->w->fd, (off_t)(l->end_blk * EROFS_BLKSZ));
}

int ew_finish(struct erofs_writer *w, struct lt_tree *t, struct ew_result *res,
	      char *err, size_t errlen)
{
	struct ew_layout l;
	struct emit *e;
	int rc = -1;

	if (ew_layout_build(&l, t, w->next_blk, err, errlen) < 0) {
		ew_layout_free(&l);
		return -1;
	}
	e = calloc(1, sizeof(*e));
	if (e)
		e->meta = calloc(1, l.meta_bytes ? l.meta_bytes : 1);
	if (!e || !e->meta) {
		snprintf(err, errlen, "out of memory for %llu bytes of metadata",
			 (unsigned long long)l.meta_bytes);
		goto out;
	}
	e->w = w;
	e->l = &l;
	if (emit_all(e) < 0) {
		snprintf(err, errlen, "writing erofs metadata: %s", strerror(errno));
		goto out;
	}
	res->inodes = l.n;
	res->blocks = l.end_blk;
	rc = 0;
out:
	if (e)
		free(e->meta);
	free(e);
	ew_layout_free(&l);
	return rc;
}

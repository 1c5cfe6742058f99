/* erofs_data.c - where regular-file data goes while the archive streams.
 *
 * A file's full blocks get consecutive blocks in the data area (holes and
 * all-zero blocks are never written, so sparse or zero-filled input stays
 * sparse in the image file). Its
 * tail (size % block size) is inlined after the inode when it is small
 * and fits in one block with the inode and its xattrs; such tails wait in
 * the spool file until ew_finish() knows where the inode lands. Otherwise
 * the tail is the zero-padded last data block (plain layout).
 */
#include "erofs_writer.h"
#include "erofs_format.h"
#include "pwrite_all.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Largest block address a plain inode can hold (32-bit i_u). */
#define EW_MAX_BLOCKS 0xffffffffull

void ew_init(struct erofs_writer *w, int fd, int spool_fd)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->spool_fd = spool_fd;
	w->next_blk = 1;        /* block 0 holds the superblock */
}

size_t ew_xattr_isize(const struct lt_inode *ino)
{
	size_t n = 0;

	if (!ino->nxattrs)
		return 0;
	for (size_t i = 0; i < ino->nxattrs; i++)
		n += round_up_u64(EROFS_XATTR_ENTRY_SIZE + ino->xattrs[i].name_len +
				  ino->xattrs[i].value_len, 4);
	return EROFS_XATTR_HDR_SIZE + n;
}

int ew_place_file(struct erofs_writer *w, struct lt_inode *ino,
		  char *err, size_t errlen)
{
	uint64_t tail = ino->size % EROFS_BLKSZ;
	uint64_t nblocks;

	ino->tail_inline = tail && tail <= EROFS_BLKSZ / 2 &&
		EROFS_INODE_EXTENDED_SIZE + ew_xattr_isize(ino) + tail <= EROFS_BLKSZ;
	nblocks = ino->tail_inline ? ino->size / EROFS_BLKSZ
				   : round_up_u64(ino->size, EROFS_BLKSZ) / EROFS_BLKSZ;
	if (w->next_blk + nblocks > EW_MAX_BLOCKS) {
		snprintf(err, errlen, "image would exceed %llu blocks",
			 (unsigned long long)EW_MAX_BLOCKS);
		return -1;
	}
	ino->data_blkaddr = nblocks ? (uint32_t)w->next_blk : 0;
	w->next_blk += nblocks;
	if (ino->tail_inline) {
		ino->spool_off = w->spool_len;
		w->spool_len += tail;
	}
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	return !n || (!p[0] && memcmp(p, p + 1, n - 1) == 0);
}

/* Whole blocks of zeros are left as holes (the image file reads zeros
 * there), so zero-filled files cost no disk; the rest is written in runs. */
static int write_skipping_zero_blocks(int fd, const uint8_t *p, size_t n,
				      uint64_t pos)
{
	size_t run = 0;                 /* bytes pending before p */

	while (n) {
		size_t piece = EROFS_BLKSZ - pos % EROFS_BLKSZ;

		if (piece > n)
			piece = n;
		if (piece == EROFS_BLKSZ && all_zero(p, piece)) {
			if (run && pwrite_all(fd, p - run, run, (off_t)(pos - run)) < 0)
				return -1;
			run = 0;
		} else {
			run += piece;
		}
		p += piece;
		pos += piece;
		n -= piece;
	}
	return run ? pwrite_all(fd, p - run, run, (off_t)(pos - run)) : 0;
}

int ew_write_file_data(struct erofs_writer *w, const struct lt_inode *ino,
		       uint64_t off, const void *buf, size_t len,
		       char *err, size_t errlen)
{
	uint64_t full = ino->size - (ino->tail_inline ? ino->size % EROFS_BLKSZ : 0);
	const uint8_t *p = buf;

	if (off > ino->size || len > ino->size - off) {
		snprintf(err, errlen, "data beyond the entry's declared size");
		return -1;
	}
	if (off < full) {
		size_t n = len < full - off ? len : (size_t)(full - off);

		if (write_skipping_zero_blocks(w->fd, p, n,
					       (uint64_t)ino->data_blkaddr *
					       EROFS_BLKSZ + off) < 0)
			goto fail;
		p += n;
		off += n;
		len -= n;
	}
	if (len && pwrite_all(w->spool_fd, p, len,
			      (off_t)(ino->spool_off + (off - full))) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "writing image: %s", strerror(errno));
	return -1;
}

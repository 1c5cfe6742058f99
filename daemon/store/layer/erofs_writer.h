/* erofs_writer.h - write a layer_tree out as an uncompressed erofs image.
 *
 * The image is produced in one pass over the archive: regular-file data is
 * streamed into whole blocks from block 1 on as entries arrive (block 0
 * holds the superblock), and the short tail of a small file is parked in a
 * spool file so it can later be inlined right after its inode. When the
 * archive is done, ew_finish() lays out inodes (root first, breadth first)
 * in a metadata area after the data, then directory and symlink blocks,
 * and writes the superblock last.
 */
#ifndef SM_EROFS_WRITER_H
#define SM_EROFS_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "layer_tree.h"

struct erofs_writer {
	int fd;                 /* the image */
	int spool_fd;           /* inline tails until layout */
	uint64_t spool_len;
	uint64_t next_blk;      /* next free data block */
};

struct ew_result {
	uint64_t inodes;
	uint64_t blocks;        /* image size in blocks */
};

void ew_init(struct erofs_writer *w, int fd, int spool_fd);

/* Bytes of inline xattr area the inode will need (0 if none). */
size_t ew_xattr_isize(const struct lt_inode *ino);

/* Choose where a regular file of ino->size bytes goes; call once, after
 * its xattrs are set and before its data is written. */
int ew_place_file(struct erofs_writer *w, struct lt_inode *ino,
		  char *err, size_t errlen);

/* Store bytes [off, off+len) of a placed file; holes may be skipped. */
int ew_write_file_data(struct erofs_writer *w, const struct lt_inode *ino,
		       uint64_t off, const void *buf, size_t len,
		       char *err, size_t errlen);

/* Lay out and write all metadata and the superblock. */
int ew_finish(struct erofs_writer *w, struct lt_tree *t, struct ew_result *res,
	      char *err, size_t errlen);

#endif

/* erofs_format.h - the parts of the erofs on-disk format the layer writer uses.
 *
 * Written from the format description (kernel Documentation/filesystems/
 * erofs.rst and the erofs docs): little-endian everywhere, a 128-byte
 * superblock at byte 1024, 32-byte aligned inodes addressed by nid
 * (offset = meta_blkaddr * block size + nid * 32), compact (32-byte) or
 * extended (64-byte) inodes, inline xattrs after the inode, then the inline
 * tail of the data. Only the uncompressed layouts are produced.
 */
#ifndef SM_EROFS_FORMAT_H
#define SM_EROFS_FORMAT_H

#include <stdint.h>
#include <string.h>

#define EROFS_MAGIC             0xE0F5E1E2u
#define EROFS_SUPER_OFFSET      1024
#define EROFS_SUPER_SIZE        128
#define EROFS_BLKBITS           12
#define EROFS_BLKSZ             (1u << EROFS_BLKBITS)
#define EROFS_SLOT              32      /* inode alignment; nid unit */
#define EROFS_COMPAT_SB_CHKSUM  0x1u   /* crc32c of block 0 from 1024 */
#define EROFS_COMPAT_MTIME      0x2u

#define EROFS_INODE_COMPACT_SIZE  32
#define EROFS_INODE_EXTENDED_SIZE 64
#define EROFS_LAYOUT_FLAT_PLAIN   0
#define EROFS_LAYOUT_FLAT_INLINE  2

#define EROFS_DIRENT_SIZE       12
#define EROFS_NAME_MAX          255

#define EROFS_XATTR_HDR_SIZE    12      /* erofs_xattr_ibody_header */
#define EROFS_XATTR_ENTRY_SIZE  4       /* erofs_xattr_entry, then name, value */

/* Name prefix indexes for xattr entries. */
#define EROFS_XATTR_INDEX_USER          1
#define EROFS_XATTR_INDEX_ACL_ACCESS    2
#define EROFS_XATTR_INDEX_ACL_DEFAULT   3
#define EROFS_XATTR_INDEX_TRUSTED       4
#define EROFS_XATTR_INDEX_SECURITY      6

/* Directory entry file types. */
enum erofs_ft {
	EROFS_FT_UNKNOWN, EROFS_FT_REG_FILE, EROFS_FT_DIR, EROFS_FT_CHRDEV,
	EROFS_FT_BLKDEV, EROFS_FT_FIFO, EROFS_FT_SOCK, EROFS_FT_SYMLINK,
};

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t round_up_u64(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

#endif

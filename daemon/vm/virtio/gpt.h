/* gpt.h - a GUID partition table synthesized in memory (the composite disk).
 *
 * gpt_build() lays out a disk of n partitions of given byte sizes, each
 * starting 4 KiB aligned, and writes the table as the Linux kernel's
 * block/partitions/efi.c checks it: a protective MBR at LBA 0, the primary
 * header at LBA 1 and 128 entries of 128 bytes from LBA 2 (the "head"), and
 * at the end of the disk the backup entries and, in the last sector, the
 * backup header (the "tail"). Both headers carry the CRC32 of their 92
 * bytes and of the entry array. The bytes between and after partitions are
 * zeros nobody stores. Partition i (0-based) is the guest's partition i+1.
 * The output depends only on the sizes, so a restore rebuilds the same
 * table.
 */
#ifndef SM_VIRTIO_GPT_H
#define SM_VIRTIO_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/vm/vm_err.h"

#define GPT_MAX_PARTS      127
#define GPT_ENTRIES        128
#define GPT_ENTRY_BYTES    128
#define GPT_SECTOR         512
#define GPT_TABLE_SECTORS  (GPT_ENTRIES * GPT_ENTRY_BYTES / GPT_SECTOR) /* 32 */
#define GPT_HEAD_SECTORS   (2 + GPT_TABLE_SECTORS)  /* MBR, header, entries */
#define GPT_TAIL_SECTORS   (GPT_TABLE_SECTORS + 1)  /* entries, header */
#define GPT_ALIGN_SECTORS  8                        /* 4 KiB */
#define GPT_HEADER_BYTES   92

struct gpt_layout {
	uint32_t nparts;
	uint64_t start[GPT_MAX_PARTS];   /* first sector of partition i */
	uint64_t bytes[GPT_MAX_PARTS];   /* its content (the rest of its last
					    sector reads as zeros) */
	uint64_t total_sectors;          /* the disk's size */
	uint8_t head[GPT_HEAD_SECTORS * GPT_SECTOR];  /* at sector 0 */
	uint8_t tail[GPT_TAIL_SECTORS * GPT_SECTOR];  /* at total_sectors - 33 */
};

/* Fill g for n (1..GPT_MAX_PARTS) partitions of bytes[i] (> 0) bytes;
 * 0, or -1 with err. */
int gpt_build(struct gpt_layout *g, const uint64_t *bytes, uint32_t n, struct vm_err *err);

/* Sectors partition i spans (its bytes rounded up to a sector). */
uint64_t gpt_part_sectors(const struct gpt_layout *g, uint32_t i);

/* The CRC32 UEFI uses (reflected 0xEDB88320, seeded and finished with ~0). */
uint32_t gpt_crc32(const void *p, size_t len);

#endif

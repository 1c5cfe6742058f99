/* gpt.c - synthesize a GUID partition table in memory (see gpt.h).
 *
 * Layout in 512-byte sectors: 0 protective MBR, 1 primary header, 2..33
 * entries, partitions from 40 on (each start rounded up to 8 sectors),
 * then 32 sectors of backup entries and the backup header in the last
 * sector. The GUIDs are derived from the sizes: unique on the disk and the
 * same every time the same layers are put together.
 */
#include "daemon/vm/virtio/gpt.h"

#include <string.h>

#define GPT_SIGNATURE   0x5452415020494645ULL /* "EFI PART" */
#define GPT_REVISION    0x00010000u
#define MBR_TYPE_GPT    0xee
#define MAX_PART_BYTES  (1ULL << 48)

/* Linux filesystem data, 0FC63DAF-8483-4772-8E79-3D69D8477DE4, as stored
 * (the first three fields little-endian). */
static const uint8_t linux_fs_type[16] = {
	0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
	0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4,
};

uint32_t gpt_crc32(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		crc ^= b[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static void le16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
static void le64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = v >> (8 * i); }

static uint64_t align_up(uint64_t v) { return (v + GPT_ALIGN_SECTORS - 1) & ~(uint64_t)(GPT_ALIGN_SECTORS - 1); }

uint64_t gpt_part_sectors(const struct gpt_layout *g, uint32_t i)
{
	return (g->bytes[i] + GPT_SECTOR - 1) / GPT_SECTOR;
}

/* A random-looking (version 4 shaped) GUID from the sizes and a salt. */
static void make_guid(uint8_t out[16], uint32_t seed, uint32_t salt)
{
	for (int i = 0; i < 4; i++) {
		uint32_t in[2] = { seed, salt * 4 + (uint32_t)i };
		le32(out + 4 * i, gpt_crc32(in, sizeof(in)));
	}
	out[7] = (out[7] & 0x0f) | 0x40;
	out[8] = (out[8] & 0x3f) | 0x80;
}

/* Protective MBR: one 0xEE partition from LBA 1 over the whole disk. */
static void write_mbr(uint8_t *s, uint64_t total)
{
	uint8_t *rec = s + 446;
	rec[1] = 0x00, rec[2] = 0x02, rec[3] = 0x00;  /* CHS of LBA 1 */
	rec[4] = MBR_TYPE_GPT;
	rec[5] = 0xff, rec[6] = 0xff, rec[7] = 0xff;
	le32(rec + 8, 1);
	le32(rec + 12, total - 1 > 0xffffffffULL ? 0xffffffffu : (uint32_t)(total - 1));
	s[510] = 0x55, s[511] = 0xaa;
}

static void write_entry(uint8_t *e, const struct gpt_layout *g, uint32_t i, uint32_t seed)
{
	char name[16];
	memcpy(e, linux_fs_type, 16);
	make_guid(e + 16, seed, i + 1);
	le64(e + 32, g->start[i]);
	le64(e + 40, g->start[i] + gpt_part_sectors(g, i) - 1);
	int len = snprintf(name, sizeof(name), "layer%u", i);
	for (int k = 0; k < len; k++)
		le16(e + 56 + 2 * k, (uint8_t)name[k]);
}

static void write_header(uint8_t *h, const struct gpt_layout *g, uint64_t my_lba,
			 uint64_t alt_lba, uint64_t entries_lba, uint32_t entries_crc, uint32_t seed)
{
	le64(h + 0, GPT_SIGNATURE);
	le32(h + 8, GPT_REVISION);
	le32(h + 12, GPT_HEADER_BYTES);
	le64(h + 24, my_lba);
	le64(h + 32, alt_lba);
	le64(h + 40, GPT_HEAD_SECTORS);
	le64(h + 48, g->total_sectors - GPT_TAIL_SECTORS - 1);
	make_guid(h + 56, seed, 0);
	le64(h + 72, entries_lba);
	le32(h + 80, GPT_ENTRIES);
	le32(h + 84, GPT_ENTRY_BYTES);
	le32(h + 88, entries_crc);
	le32(h + 16, gpt_crc32(h, GPT_HEADER_BYTES));
}

/* Partition starts and the disk size. */
static int place(struct gpt_layout *g, const uint64_t *bytes, uint32_t n, struct vm_err *err)
{
	uint64_t next = align_up(GPT_HEAD_SECTORS);
	for (uint32_t i = 0; i < n; i++) {
		if (bytes[i] == 0)
			return vm_errf(err, "partition %u is empty", i);
		if (bytes[i] > MAX_PART_BYTES)
			return vm_errf(err, "partition %u: %llu bytes is over the %llu limit", i,
				       (unsigned long long)bytes[i], MAX_PART_BYTES);
		g->bytes[i] = bytes[i];
		g->start[i] = next;
		next = align_up(next + gpt_part_sectors(g, i));
	}
	g->total_sectors = next + GPT_TAIL_SECTORS;
	return 0;
}

int gpt_build(struct gpt_layout *g, const uint64_t *bytes, uint32_t n, struct vm_err *err)
{
	memset(g, 0, sizeof(*g));
	if (n == 0 || n > GPT_MAX_PARTS)
		return vm_errf(err, "%u partitions; a composite disk holds 1 to %d", n,
			       GPT_MAX_PARTS);
	if (place(g, bytes, n, err) < 0)
		return -1;
	g->nparts = n;
	uint32_t seed = gpt_crc32(bytes, n * sizeof(bytes[0]));
	uint8_t *entries = g->head + 2 * GPT_SECTOR;
	for (uint32_t i = 0; i < n; i++)
		write_entry(entries + i * GPT_ENTRY_BYTES, g, i, seed);
	uint32_t ecrc = gpt_crc32(entries, GPT_TABLE_SECTORS * GPT_SECTOR);
	uint64_t last = g->total_sectors - 1;
	write_mbr(g->head, g->total_sectors);
	write_header(g->head + GPT_SECTOR, g, 1, last, 2, ecrc, seed);
	memcpy(g->tail, entries, GPT_TABLE_SECTORS * GPT_SECTOR);
	write_header(g->tail + GPT_TABLE_SECTORS * GPT_SECTOR, g, last, 1,
		     last - GPT_TABLE_SECTORS, ecrc, seed);
	return 0;
}

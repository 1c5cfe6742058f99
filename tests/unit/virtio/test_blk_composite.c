/* test_blk_composite.c - the disk of layers (daemon/vm/virtio/blk_composite.c).
 *
 * Three layer files (5000, 8192 and 12388 bytes of distinct patterns) make
 * a 137-sector disk: table 0..33, layer 0 at 40, layer 1 at 56, layer 2
 * at 72..96, backup 104..136. Reads go through blk_request() with the data
 * split over descriptors at odd sizes and are compared with the disk
 * assembled by hand; util-linux's partx (libblkid, its own GPT parser with
 * CRC checks) reads the table from a copy of the disk. Then 127 layers,
 * refusals, a layer that shrank under a running disk, and snapshots.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/vm/virtio/blk_composite.h"
#include "fake_driver.h"
#include "persist_check.h"
#include "../check_main.h"

#define TOTAL 137

static const uint64_t sizes[3] = { 5000, 8192, 12388 };
static const uint64_t starts[3] = { 40, 56, 72 };
static struct fake_guest g;
static struct fake_ring r;
static struct virtqueue vq;
static struct vq_chain c;
static struct blk_disk disk;
static char dir[] = "/tmp/sm-blk-comp-XXXXXX";
static char paths[3][200];
static uint8_t image[TOTAL * 512]; /* the disk as it should read */

static uint8_t pattern(int layer, uint64_t i)
{
	return (uint8_t)(layer * 77 + i * 13 + (i >> 9) + 1);
}

static void write_file(const char *path, uint64_t bytes, int layer)
{
	uint8_t *buf = malloc(bytes);
	for (uint64_t i = 0; i < bytes; i++)
		buf[i] = pattern(layer, i);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, bytes), (ssize_t)bytes);
	close(fd);
	free(buf);
}

static void open_layers(struct blk_disk *d, int n)
{
	const char *p[3] = { paths[0], paths[1], paths[2] };
	struct vm_err err = { { 0 } };
	ck_assert_msg(blk_composite_open(d, p, n, &err) == 0, "%s", err.msg);
}

static void setup(void)
{
	fg_init(&g);
	fr_init(&g, &r, 64, &vq);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (int i = 0; i < 3; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/sha256-layer%d.erofs", dir, i);
		write_file(paths[i], sizes[i], i);
	}
	open_layers(&disk, 3);
	const struct gpt_layout *gl = blk_composite_gpt(&disk);
	memset(image, 0, sizeof(image));
	memcpy(image, gl->head, sizeof(gl->head));
	memcpy(image + (TOTAL - 33) * 512, gl->tail, sizeof(gl->tail));
	for (int l = 0; l < 3; l++)
		for (uint64_t i = 0; i < sizes[l]; i++)
			image[starts[l] * 512 + i] = pattern(l, i);
}

static void teardown(void)
{
	blk_disk_close(&disk);
	pc_remove_tmpdir(dir);
	fg_free(&g);
}

/* Request type at sector with the data split into lens[0..n) (readable if
 * out); the status; *data gets the first data buffer's address (the
 * buffers are allocated back to back). */
static uint8_t request(const struct blk_disk *d, uint32_t type, uint64_t sector,
		       const uint32_t *lens, int n, bool out, uint64_t *data)
{
	uint64_t a[8], hdr = fg_alloc(&g, 16);
	uint32_t l[8];
	uint16_t f[8];
	uint32_t h[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };
	memcpy(fg_host(&g, hdr), h, 16);
	a[0] = hdr, l[0] = 16, f[0] = 0;
	uint64_t first = g.next_free;
	for (int i = 0; i < n; i++) {
		a[1 + i] = g.next_free;
		l[1 + i] = lens[i];
		f[1 + i] = out ? 0 : VIRTQ_DESC_F_WRITE;
		g.next_free += lens[i]; /* contiguous, so the data reads as one buffer */
	}
	g.next_free = (g.next_free + 15) & ~15ULL;
	a[1 + n] = fg_alloc(&g, 1), l[1 + n] = 1, f[1 + n] = VIRTQ_DESC_F_WRITE;
	fr_add_chain(&g, &r, a, l, f, n + 2);
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 1);
	uint32_t w;
	if (data)
		*data = first;
	return blk_request(d, &c, &w);
}

/* Read sectors [sector, sector + bytes/512) split as lens, compare. */
static void read_and_compare(uint64_t sector, const uint32_t *lens, int n)
{
	uint64_t data, bytes = 0;
	for (int i = 0; i < n; i++)
		bytes += lens[i];
	ck_assert_uint_eq(request(&disk, VIRTIO_BLK_T_IN, sector, lens, n, false, &data),
			  VIRTIO_BLK_S_OK);
	const uint8_t *got = fg_host(&g, data);
	for (uint64_t i = 0; i < bytes; i++)
		if (got[i] != image[sector * 512 + i])
			ck_abort_msg("byte %llu of the disk: %u, want %u",
				     (unsigned long long)(sector * 512 + i), got[i],
				     image[sector * 512 + i]);
}

START_TEST(size_mode_features_id)
{
	ck_assert_uint_eq(disk.sectors, TOTAL);
	ck_assert(disk.readonly);
	uint64_t f = blk_features(&disk);
	ck_assert(f & (1ULL << VIRTIO_BLK_F_RO));
	ck_assert(!(f & (1ULL << VIRTIO_BLK_F_DISCARD)));
	ck_assert(!(f & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES)));
	ck_assert(memcmp(disk.id, "layers3-", 8) == 0);
	ck_assert_int_eq(blk_composite_layers(&disk), 3);
	ck_assert_uint_eq(blk_composite_layer_bytes(&disk, 2), 12388);
}
END_TEST

START_TEST(whole_disk_in_one_read)
{
	/* Descriptor edges at odd places: inside the table, inside a layer. */
	uint32_t lens[4] = { 700, 20000, 30000, TOTAL * 512 - 50700 };
	read_and_compare(0, lens, 4);
}
END_TEST

START_TEST(reads_across_boundaries)
{
	uint32_t one[1] = { 4096 }, two[2] = { 1000, 3096 }, sector[1] = { 512 };
	read_and_compare(30, one, 1);   /* entries, padding 34..39, layer 0 */
	read_and_compare(48, one, 1);   /* layer 0's end (mid-sector), padding */
	read_and_compare(52, two, 2);   /* padding into layer 1 */
	read_and_compare(68, two, 2);   /* layer 1 into layer 2 */
	read_and_compare(96, one, 1);   /* layer 2's tail, padding, backup */
	read_and_compare(TOTAL - 1, sector, 1); /* the backup header */
	read_and_compare(1, sector, 1);
}
END_TEST

START_TEST(past_the_end_refused)
{
	uint32_t sector[1] = { 512 }, two[1] = { 1024 };
	ck_assert_uint_eq(request(&disk, VIRTIO_BLK_T_IN, TOTAL, sector, 1, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(&disk, VIRTIO_BLK_T_IN, TOTAL - 1, two, 1, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(&disk, VIRTIO_BLK_T_IN, UINT64_MAX / 512, sector, 1, false,
				  NULL), VIRTIO_BLK_S_IOERR);
}
END_TEST

START_TEST(writes_refused_files_unchanged)
{
	uint32_t lens[1] = { 4096 };
	uint64_t data;
	struct stat before, after;
	ck_assert_int_eq(stat(paths[1], &before), 0);
	ck_assert_uint_eq(request(&disk, VIRTIO_BLK_T_OUT, 56, lens, 1, true, &data),
			  VIRTIO_BLK_S_IOERR);
	uint32_t range[1] = { 16 };
	ck_assert_uint_eq(request(&disk, VIRTIO_BLK_T_DISCARD, 0, range, 1, true, NULL),
			  VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(request(&disk, VIRTIO_BLK_T_WRITE_ZEROES, 0, range, 1, true, NULL),
			  VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(request(&disk, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, NULL),
			  VIRTIO_BLK_S_OK);
	ck_assert_int_eq(stat(paths[1], &after), 0);
	ck_assert_int_eq(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	uint32_t all[1] = { TOTAL * 512 };
	read_and_compare(0, all, 1);
}
END_TEST

/* libblkid's GPT parser (CRCs, usable range) finds our partitions, from
 * the primary table and, with it wiped, from the backup at the end. */
static void partx_sees(const char *file, const char *want)
{
	char cmd[400], got[400] = "";
	snprintf(cmd, sizeof(cmd), "partx -g -o NR,START,SECTORS,NAME %s 2>&1", file);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	size_t n = fread(got, 1, sizeof(got) - 1, p);
	got[n] = 0;
	pclose(p);
	char norm[400];
	size_t k = 0;
	for (size_t i = 0; got[i] && k < sizeof(norm) - 1; i++) /* squeeze spaces */
		if (got[i] != ' ' || (k && norm[k - 1] != ' ' && norm[k - 1] != '\n'))
			norm[k++] = got[i];
	norm[k] = 0;
	ck_assert_msg(strcmp(norm, want) == 0, "partx: [%s], want [%s]", got, want);
}

START_TEST(partx_reads_the_table)
{
	char file[220];
	uint32_t all[1] = { TOTAL * 512 };
	uint64_t data;
	ck_assert_uint_eq(request(&disk, VIRTIO_BLK_T_IN, 0, all, 1, false, &data),
			  VIRTIO_BLK_S_OK);
	snprintf(file, sizeof(file), "%s/disk.img", dir);
	int fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert_int_eq(write(fd, fg_host(&g, data), TOTAL * 512), TOTAL * 512);
	const char *want = "1 40 10 layer0\n2 56 16 layer1\n3 72 25 layer2\n";
	partx_sees(file, want);
	static const uint8_t zero[512];
	ck_assert_int_eq(pwrite(fd, zero, 512, 512), 512); /* the primary header */
	close(fd);
	partx_sees(file, want);
}
END_TEST

START_TEST(layer_shrunk_after_open_fails_reads)
{
	uint32_t lens[1] = { 4096 };
	ck_assert_int_eq(truncate(paths[1], 4096), 0);
	read_and_compare(56, lens, 1); /* what is left still reads */
	ck_assert_uint_eq(request(&disk, VIRTIO_BLK_T_IN, 64, lens, 1, false, NULL),
			  VIRTIO_BLK_S_IOERR);
}
END_TEST

START_TEST(max_layers)
{
	enum { N = BLK_MAX_LAYERS };
	static char names[N][220];
	const char *p[N];
	struct blk_disk d;
	struct vm_err err = { { 0 } };
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "%s/l%d", dir, i);
		write_file(names[i], 4096 * (1 + i % 3) - (i % 2) * 100, i);
		p[i] = names[i];
	}
	ck_assert_msg(blk_composite_open(&d, p, N, &err) == 0, "%s", err.msg);
	const struct gpt_layout *gl = blk_composite_gpt(&d);
	ck_assert_uint_eq(gl->nparts, N);
	uint32_t lens[1] = { 512 };
	for (int i = 0; i < N; i += 9) { /* first and last sector of some layers */
		uint64_t bytes = 4096 * (1 + i % 3) - (i % 2) * 100, data;
		uint64_t last = gl->start[i] + (bytes - 1) / 512;
		ck_assert_uint_eq(request(&d, VIRTIO_BLK_T_IN, gl->start[i], lens, 1, false, &data),
				  VIRTIO_BLK_S_OK);
		for (int k = 0; k < 512; k++)
			ck_assert_uint_eq(((uint8_t *)fg_host(&g, data))[k], pattern(i, k));
		ck_assert_uint_eq(request(&d, VIRTIO_BLK_T_IN, last, lens, 1, false, &data),
				  VIRTIO_BLK_S_OK);
		uint64_t base = (last - gl->start[i]) * 512;
		for (uint64_t k = 0; k < 512; k++)
			ck_assert_uint_eq(((uint8_t *)fg_host(&g, data))[k],
					  base + k < bytes ? pattern(i, base + k) : 0);
	}
	blk_disk_close(&d);
}
END_TEST

static void refused(const char *const *p, int n, const char *want)
{
	struct blk_disk d;
	struct vm_err err = { { 0 } };
	ck_assert_int_eq(blk_composite_open(&d, p, n, &err), -1);
	ck_assert_msg(strstr(err.msg, want), "%s (want %s)", err.msg, want);
	blk_disk_close(&d); /* harmless after a failed open */
}

START_TEST(refusals)
{
	const char *p[BLK_MAX_LAYERS + 1];
	char empty[220], missing[220];
	for (int i = 0; i <= BLK_MAX_LAYERS; i++)
		p[i] = paths[0];
	refused(p, 0, "0 layers; a VM takes 1 to 127");
	refused(p, BLK_MAX_LAYERS + 1, "128 layers; a VM takes 1 to 127");
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	close(open(empty, O_CREAT | O_WRONLY, 0644));
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	p[1] = empty;
	refused(p, 3, "layer /tmp/sm-blk-comp-");
	refused(p, 3, "/empty: empty file");
	p[1] = missing;
	refused(p, 3, "/missing: No such file");
	p[1] = dir;
	refused(p, 3, ": not a regular file");
}
END_TEST

/* --- snapshots --- */

static struct virtio_blk a, b;

PC_WRAPPERS(blk, virtio_blk_save, virtio_blk_restore)

static const struct pc_dev from_a = { &a, pc_blk_save, pc_blk_restore };
static const struct pc_dev into_b = { &b, pc_blk_save, pc_blk_restore };

static void dev_open(struct virtio_blk *dev, int n)
{
	memset(dev, 0, sizeof(*dev));
	open_layers(&dev->disk, n);
	snprintf(dev->path, sizeof(dev->path), "of %d layers (top %s)", n, paths[n - 1]);
	virtio_blk_init(dev, &g.mem);
}

static void dev_close(struct virtio_blk *dev)
{
	blk_disk_close(&dev->disk);
	virtio_mmio_destroy(&dev->t);
}

START_TEST(snapshot_round_trip_and_refusals)
{
	struct snap_writer w;
	dev_open(&a, 3);
	drv_negotiate(&a.t, 1ULL << VIRTIO_F_VERSION_1);
	drv_queue(&g, &a.t, 0, &r, 32);
	drv_ok(&a.t);
	pc_save(&from_a, &w);
	dev_open(&b, 3);
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert(virtio_mmio_queue_live(&b.t, 0));
	pc_resave_same(&into_b, w.buf, w.len);
	pc_reject_cuts_and_framing(&into_b, w.buf, w.len);
	dev_close(&b);

	dev_open(&b, 2); /* a layer fewer */
	pc_reject(&into_b, w.buf, w.len, "had 3 layers");
	dev_close(&b);
	write_file(paths[1], 8192 + 4096, 1); /* a layer of another size */
	dev_open(&b, 3);
	pc_reject(&into_b, w.buf, w.len, "layer 1 had 8192 bytes, here 12288");
	dev_close(&b);
	snap_writer_free(&w);
	dev_close(&a);
}
END_TEST

START_TEST(file_disk_snapshot_refused)
{
	struct snap_writer w;
	struct vm_err err = { { 0 } };
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(blk_disk_open(&a.disk, paths[0], true, &err), 0);
	snprintf(a.path, sizeof(a.path), "%s", paths[0]);
	virtio_blk_init(&a, &g.mem);
	pc_save(&from_a, &w);
	dev_open(&b, 1);
	pc_reject(&into_b, w.buf, w.len, "had 0 layers");
	dev_close(&b);
	snap_writer_free(&w);
	dev_close(&a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("blk_composite");
	TCase *t = tcase_create("composite");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, size_mode_features_id);
	tcase_add_test(t, whole_disk_in_one_read);
	tcase_add_test(t, reads_across_boundaries);
	tcase_add_test(t, past_the_end_refused);
	tcase_add_test(t, writes_refused_files_unchanged);
	tcase_add_test(t, partx_reads_the_table);
	tcase_add_test(t, layer_shrunk_after_open_fails_reads);
	tcase_add_test(t, max_layers);
	tcase_add_test(t, refusals);
	tcase_add_test(t, snapshot_round_trip_and_refusals);
	tcase_add_test(t, file_disk_snapshot_refused);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)

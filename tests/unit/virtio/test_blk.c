/* test_blk.c - virtio-blk request handling against a temp file.
 *
 * Requests are built as a driver would (header, data, status byte) on a
 * fake ring, popped with the real vq_pop() and handled by blk_request();
 * the file is then checked with pread. A sparse disk on a host file system
 * that runs out of space (a 256 KiB tmpfs in a mount namespace of the
 * test's own) answers the guest's writes with IOERR, never a crash.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/vm/virtio/blk.h"
#include "fake_guest.h"
#include "../check_main.h"

#define DISK_SECTORS 2048 /* 1 MiB */

static struct fake_guest g;
static struct fake_ring r;
static struct virtqueue vq;
static struct vq_chain c;
static struct blk_disk disk;
static char path[] = "/tmp/sm-blk-test-XXXXXX";

static void pattern(uint8_t *buf, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

static void open_disk(bool ro)
{
	struct vm_err err = { { 0 } };
	ck_assert_msg(blk_disk_open(&disk, path, ro, &err) == 0, "%s", err.msg);
}

static void setup(void)
{
	fg_init(&g);
	fr_init(&g, &r, 64, &vq);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	uint8_t *buf = malloc(DISK_SECTORS * 512);
	pattern(buf, DISK_SECTORS * 512, 1);
	ck_assert_int_eq(write(fd, buf, DISK_SECTORS * 512), DISK_SECTORS * 512);
	free(buf);
	close(fd);
	open_disk(false);
}

static void teardown(void)
{
	blk_disk_close(&disk);
	unlink(path);
	strcpy(path, "/tmp/sm-blk-test-XXXXXX");
	fg_free(&g);
}

/* Submit {type, sector} with a data buffer (readable if out, else writable)
 * and a status byte; returns the status, the data at *data_gpa. */
static uint8_t submit(uint32_t type, uint64_t sector, uint64_t *data_gpa, uint32_t data_len,
		      bool out, uint32_t *written)
{
	uint64_t hdr = fg_alloc(&g, 16), data = fg_alloc(&g, data_len ? data_len : 1),
		 st = fg_alloc(&g, 1);
	uint32_t h[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };
	memcpy(fg_host(&g, hdr), h, 16);
	*(uint8_t *)fg_host(&g, st) = 0x77;
	uint64_t a[3] = { hdr, data, st };
	uint32_t l[3] = { 16, data_len, 1 };
	uint16_t f[3] = { 0, out ? 0 : VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE };
	if (data_len)
		fr_add_chain(&g, &r, a, l, f, 3);
	else
		fr_add_chain(&g, &r, (uint64_t[]){ hdr, st }, (uint32_t[]){ 16, 1 },
			     (uint16_t[]){ 0, VIRTQ_DESC_F_WRITE }, 2);
	if (data_gpa)
		*data_gpa = data;
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 1);
	uint32_t w;
	uint8_t s = blk_request(&disk, &c, &w);
	ck_assert_uint_eq(*(uint8_t *)fg_host(&g, st), s); /* status really written */
	if (written)
		*written = w;
	return s;
}

START_TEST(read_pattern)
{
	uint64_t data;
	uint32_t w;
	ck_assert_uint_eq(submit(VIRTIO_BLK_T_IN, 8, &data, 4096, false, &w), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(w, 4097);
	uint8_t *all = malloc(DISK_SECTORS * 512);
	pattern(all, DISK_SECTORS * 512, 1);
	ck_assert(memcmp(fg_host(&g, data), all + 8 * 512, 4096) == 0);
	free(all);
}
END_TEST

START_TEST(write_then_read_file)
{
	uint64_t hdr = fg_alloc(&g, 16), d1 = fg_alloc(&g, 512), d2 = fg_alloc(&g, 1024),
		 st = fg_alloc(&g, 1);
	uint32_t h[4] = { VIRTIO_BLK_T_OUT, 0, 100, 0 };
	memcpy(fg_host(&g, hdr), h, 16);
	memset(fg_host(&g, d1), 0xab, 512);
	memset(fg_host(&g, d2), 0xcd, 1024);
	fr_add_chain(&g, &r, (uint64_t[]){ hdr, d1, d2, st }, (uint32_t[]){ 16, 512, 1024, 1 },
		     (uint16_t[]){ 0, 0, 0, VIRTQ_DESC_F_WRITE }, 4);
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 1);
	uint32_t w;
	ck_assert_uint_eq(blk_request(&disk, &c, &w), VIRTIO_BLK_S_OK);

	uint8_t buf[1536];
	int fd = open(path, O_RDONLY);
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 100 * 512), sizeof(buf));
	close(fd);
	for (int i = 0; i < 512; i++)
		ck_assert_uint_eq(buf[i], 0xab);
	for (int i = 512; i < 1536; i++)
		ck_assert_uint_eq(buf[i], 0xcd);
}
END_TEST

START_TEST(flush_ok)
{
	ck_assert_uint_eq(submit(VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, NULL), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(get_id)
{
	uint64_t data;
	ck_assert_uint_eq(submit(VIRTIO_BLK_T_GET_ID, 0, &data, 20, false, NULL), VIRTIO_BLK_S_OK);
	ck_assert(memcmp(fg_host(&g, data), "sm-blk-test-", 12) == 0);
}
END_TEST

static uint64_t range_request(uint32_t type, uint64_t sector, uint32_t n, uint32_t flags)
{
	uint64_t hdr = fg_alloc(&g, 16), rng = fg_alloc(&g, 16), st = fg_alloc(&g, 1);
	uint32_t h[4] = { type, 0, 0, 0 };
	uint32_t rr[4] = { (uint32_t)sector, (uint32_t)(sector >> 32), n, flags };
	memcpy(fg_host(&g, hdr), h, 16);
	memcpy(fg_host(&g, rng), rr, 16);
	fr_add_chain(&g, &r, (uint64_t[]){ hdr, rng, st }, (uint32_t[]){ 16, 16, 1 },
		     (uint16_t[]){ 0, 0, VIRTQ_DESC_F_WRITE }, 3);
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 1);
	return st;
}

static void expect_zero_sectors(uint64_t sector, uint32_t n)
{
	uint8_t buf[512];
	int fd = open(path, O_RDONLY);
	for (uint32_t s = 0; s < n; s++) {
		ck_assert_int_eq(pread(fd, buf, 512, (sector + s) * 512), 512);
		for (int i = 0; i < 512; i++)
			ck_assert_uint_eq(buf[i], 0);
	}
	close(fd);
}

START_TEST(discard_and_write_zeroes)
{
	uint32_t w;
	range_request(VIRTIO_BLK_T_WRITE_ZEROES, 16, 8, 0);
	ck_assert_uint_eq(blk_request(&disk, &c, &w), VIRTIO_BLK_S_OK);
	expect_zero_sectors(16, 8);
	range_request(VIRTIO_BLK_T_WRITE_ZEROES, 40, 8, 1 /* unmap */);
	ck_assert_uint_eq(blk_request(&disk, &c, &w), VIRTIO_BLK_S_OK);
	expect_zero_sectors(40, 8);
	range_request(VIRTIO_BLK_T_DISCARD, 64, 64, 0);
	ck_assert_uint_eq(blk_request(&disk, &c, &w), VIRTIO_BLK_S_OK);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, DISK_SECTORS * 512); /* size kept */
	range_request(VIRTIO_BLK_T_DISCARD, DISK_SECTORS - 4, 8, 0); /* past the end */
	ck_assert_uint_eq(blk_request(&disk, &c, &w), VIRTIO_BLK_S_IOERR);
	range_request(VIRTIO_BLK_T_DISCARD, 0, 8, 1); /* unmap flag on discard */
	ck_assert_uint_eq(blk_request(&disk, &c, &w), VIRTIO_BLK_S_UNSUPP);
}
END_TEST

START_TEST(readonly_write_is_ioerr)
{
	blk_disk_close(&disk);
	open_disk(true);
	ck_assert(blk_features(&disk) & (1ULL << VIRTIO_BLK_F_RO));
	ck_assert(!(blk_features(&disk) & (1ULL << VIRTIO_BLK_F_DISCARD)));
	ck_assert_uint_eq(submit(VIRTIO_BLK_T_OUT, 0, NULL, 512, true, NULL), VIRTIO_BLK_S_IOERR);
	uint32_t w;
	range_request(VIRTIO_BLK_T_DISCARD, 0, 8, 0);
	ck_assert_uint_eq(blk_request(&disk, &c, &w), VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(submit(VIRTIO_BLK_T_IN, 0, NULL, 512, false, NULL), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(out_of_range_is_ioerr)
{
	ck_assert_uint_eq(submit(VIRTIO_BLK_T_IN, DISK_SECTORS, NULL, 512, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(submit(VIRTIO_BLK_T_IN, DISK_SECTORS - 1, NULL, 1024, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(submit(VIRTIO_BLK_T_OUT, UINT64_MAX / 256, NULL, 512, true, NULL),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(submit(VIRTIO_BLK_T_IN, DISK_SECTORS - 1, NULL, 512, false, NULL),
			  VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(bad_requests)
{
	/* Not a multiple of the sector size, unknown type. */
	ck_assert_uint_eq(submit(VIRTIO_BLK_T_IN, 0, NULL, 100, false, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(submit(99, 0, NULL, 512, false, NULL), VIRTIO_BLK_S_UNSUPP);
	/* IN with its data buffer device-readable: nothing to read into. */
	ck_assert_uint_eq(submit(VIRTIO_BLK_T_IN, 0, NULL, 512, true, NULL), VIRTIO_BLK_S_IOERR);
	/* Header too short. */
	uint64_t hdr = fg_alloc(&g, 8), st = fg_alloc(&g, 1);
	fr_add_chain(&g, &r, (uint64_t[]){ hdr, st }, (uint32_t[]){ 8, 1 },
		     (uint16_t[]){ 0, VIRTQ_DESC_F_WRITE }, 2);
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 1);
	uint32_t w;
	ck_assert_uint_eq(blk_request(&disk, &c, &w), VIRTIO_BLK_S_IOERR);
	/* No writable byte for the status. */
	fr_add_chain(&g, &r, (uint64_t[]){ hdr }, (uint32_t[]){ 8 }, (uint16_t[]){ 0 }, 1);
	ck_assert_int_eq(vq_pop(&vq, &g.mem, &c), 1);
	ck_assert_uint_eq(blk_request(&disk, &c, &w), BLK_NO_STATUS);
}
END_TEST

START_TEST(config_space)
{
	uint8_t cfg[BLK_CONFIG_SIZE];
	uint64_t cap;
	uint32_t seg_max, blk_size;
	blk_config(&disk, 256, cfg);
	memcpy(&cap, cfg, 8);
	memcpy(&seg_max, cfg + 12, 4);
	memcpy(&blk_size, cfg + 20, 4);
	ck_assert_uint_eq(cap, DISK_SECTORS);
	ck_assert_uint_eq(seg_max, 254);
	ck_assert_uint_eq(blk_size, 512);
}
END_TEST

START_TEST(open_errors)
{
	struct blk_disk d;
	struct vm_err err = { { 0 } };
	ck_assert_int_eq(blk_disk_open(&d, "/nonexistent/disk.img", false, &err), -1);
	ck_assert(strstr(err.msg, "/nonexistent/disk.img") != NULL);
	ck_assert_int_eq(blk_disk_open(&d, "/tmp", true, &err), -1);
	ck_assert(strstr(err.msg, "not a regular file") != NULL);
}
END_TEST

/* A mount namespace of our own (as root; else in a user namespace that
 * maps us to root), so a small tmpfs can be mounted. 0 or -1. */
static int own_mount_ns(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWNS) < 0) {
		char map[64];
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return -1;
		int fd = open("/proc/self/setgroups", O_WRONLY);
		if (fd >= 0) {
			ck_assert_int_eq(write(fd, "deny", 4), 4);
			close(fd);
		}
		snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
		fd = open("/proc/self/uid_map", O_WRONLY);
		ck_assert_int_eq(write(fd, map, strlen(map)), (ssize_t)strlen(map));
		close(fd);
		snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
		fd = open("/proc/self/gid_map", O_WRONLY);
		ck_assert_int_eq(write(fd, map, strlen(map)), (ssize_t)strlen(map));
		close(fd);
	}
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

/* The host file system under a sparse disk fills up: the guest's writes
 * get IOERR (the VMM runs on), and reads still work. */
START_TEST(host_enospc_is_ioerr)
{
	char dir[] = "/tmp/sm-blk-full-XXXXXX", img[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_msg(own_mount_ns() == 0, "no mount namespace: %s", strerror(errno));
	ck_assert_msg(mount("tmpfs", dir, "tmpfs", 0, "size=256k") == 0, "mount: %s",
		      strerror(errno));
	snprintf(img, sizeof img, "%s/disk.img", dir);
	int fd = open(img, O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 4 << 20), 0);   /* 4 MiB, sparse, on 256 KiB */
	close(fd);
	struct vm_err err = { { 0 } };
	struct blk_disk full;
	ck_assert_msg(blk_disk_open(&full, img, false, &err) == 0, "%s", err.msg);
	blk_disk_close(&disk);
	disk = full;
	int ok = 0, ioerr = 0;
	for (uint64_t sector = 0; sector < 2048; sector += 128) {   /* 16 x 64 KiB */
		uint64_t data;
		uint8_t s = submit(VIRTIO_BLK_T_OUT, sector, &data, 65536, true, NULL);
		ok += s == VIRTIO_BLK_S_OK;
		ioerr += s == VIRTIO_BLK_S_IOERR;
	}
	ck_assert_int_gt(ok, 0);
	ck_assert_int_gt(ioerr, 0);
	ck_assert_int_eq(ok + ioerr, 16);
	ck_assert_uint_eq(submit(VIRTIO_BLK_T_IN, 0, NULL, 4096, false, NULL), VIRTIO_BLK_S_OK);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio-blk");
	TCase *t = tcase_create("requests");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, read_pattern);
	tcase_add_test(t, write_then_read_file);
	tcase_add_test(t, flush_ok);
	tcase_add_test(t, get_id);
	tcase_add_test(t, discard_and_write_zeroes);
	tcase_add_test(t, readonly_write_is_ioerr);
	tcase_add_test(t, out_of_range_is_ioerr);
	tcase_add_test(t, bad_requests);
	tcase_add_test(t, config_space);
	tcase_add_test(t, open_errors);
	suite_add_tcase(s, t);
	/* Its own process (CK_FORK): the mount namespace dies with it. */
	TCase *full = tcase_create("host full");
	tcase_add_checked_fixture(full, setup, teardown);
	tcase_add_test(full, host_enospc_is_ioerr);
	suite_add_tcase(s, full);
	return s;
}

int main(void)
{
	return check_run(suite(), CK_FORK_GETENV);
}

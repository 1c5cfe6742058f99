/* test_blk_persist.c - saving and restoring virtio-blk: the transport and
 * the disk's identity. A restore must find the same disk (mode, size, id)
 * behind the device it loads into, wherever the file now lives. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/vm/virtio/blk.h"
#include "fake_driver.h"
#include "persist_check.h"
#include "../check_main.h"

#define MIB (1u << 20)

static struct fake_guest g;
static struct fake_ring r;
static struct virtio_blk a, b;
static char dir[] = "/tmp/sm-blk-persist-XXXXXX";

PC_WRAPPERS(blk, virtio_blk_save, virtio_blk_restore)

static const struct pc_dev from_a = { &a, pc_blk_save, pc_blk_restore };
static const struct pc_dev into_b = { &b, pc_blk_save, pc_blk_restore };

static void make_disk(const char *name, off_t bytes)
{
	char path[200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, bytes), 0);
	close(fd);
}

/* What attach does: open the disk, set up the device, remember the path. */
static void open_dev(struct virtio_blk *dev, const char *name, bool ro)
{
	struct vm_err err = { { 0 } };
	memset(dev, 0, sizeof(*dev));
	snprintf(dev->path, sizeof(dev->path), "%s/%s", dir, name);
	ck_assert_msg(blk_disk_open(&dev->disk, dev->path, ro, &err) == 0, "%s", err.msg);
	virtio_blk_init(dev, &g.mem);
}

static void close_dev(struct virtio_blk *dev)
{
	blk_disk_close(&dev->disk);
	virtio_mmio_destroy(&dev->t);
}

/* a: the guest's driver has it running with one 32-entry queue. */
static void make_live(void)
{
	drv_negotiate(&a.t, (1ULL << VIRTIO_F_VERSION_1) | (1u << VIRTIO_BLK_F_FLUSH));
	drv_queue(&g, &a.t, 0, &r, 32);
	drv_ok(&a.t);
	ck_assert(virtio_mmio_queue_live(&a.t, 0));
}

static void setup(void)
{
	fg_init(&g);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char sub[200];
	snprintf(sub, sizeof(sub), "%s/moved", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	make_disk("disk.img", MIB);
	make_disk("moved/disk.img", MIB);
	make_disk("renamed.img", MIB);
	open_dev(&a, "disk.img", false);
	make_live();
}

static void teardown(void)
{
	close_dev(&a);
	pc_remove_tmpdir(dir);
	fg_free(&g);
}

START_TEST(round_trip_same_disk)
{
	struct snap_writer w;
	open_dev(&b, "disk.img", false);
	pc_save(&from_a, &w);
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert(virtio_mmio_queue_live(&b.t, 0));
	ck_assert_uint_eq(b.t.vq[0].desc_gpa, r.desc);
	ck_assert_uint_eq(b.t.driver_features, a.t.driver_features);
	pc_resave_same(&into_b, w.buf, w.len);
	snap_writer_free(&w);
	close_dev(&b);
}
END_TEST

START_TEST(moved_disk_restores)
{
	struct snap_writer w;
	open_dev(&b, "moved/disk.img", false);
	pc_save(&from_a, &w);
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert_uint_eq(b.t.status, a.t.status);
	snap_writer_free(&w);
	close_dev(&b);
}
END_TEST

/* b is not the saved disk: refused, with both paths and the difference. */
static void refuse_disk(const char *name, bool ro, const char *diff)
{
	struct snap_writer w;
	struct snap_reader rd;
	open_dev(&b, name, ro);
	pc_save(&from_a, &w);
	pc_reject(&into_b, w.buf, w.len, diff);
	snap_reader_init(&rd, w.buf, w.len);
	ck_assert(!virtio_blk_restore(&b, &rd));
	ck_assert_msg(strstr(rd.err, a.path) && strstr(rd.err, b.path), "%s", rd.err);
	snap_writer_free(&w);
	close_dev(&b);
}

START_TEST(refuses_readonly_disk)
{
	refuse_disk("disk.img", true, "was read-write");
}
END_TEST

START_TEST(refuses_other_size)
{
	make_disk("moved/disk.img", 2 * MIB);
	refuse_disk("moved/disk.img", false, "had 2048 sectors");
}
END_TEST

START_TEST(refuses_other_id)
{
	refuse_disk("renamed.img", false, "had id \"disk.img\"");
}
END_TEST

START_TEST(rejects_damage)
{
	struct snap_writer w;
	open_dev(&b, "disk.img", false);
	pc_save(&from_a, &w);
	pc_reject_cuts_and_framing(&into_b, w.buf, w.len);
	pc_reject_patch(&into_b, w.buf, w.len, PC_HDR, 2, 1, "neither 0 nor 1"); /* readonly */
	/* The transport section follows the identity (bool, u64, id, path,
	 * u32 layers: 0 for a file). */
	size_t t = PC_HDR + 1 + 8 + BLK_ID_BYTES + 4 + strlen(a.path) + 4;
	ck_assert_uint_eq(pc_get(w.buf, t, 4), SNAP_TAG('V', 'M', 'I', 'O'));
	pc_reject_patch(&into_b, w.buf, w.len, t + PC_VQ(0) + PC_VQ_SIZE, 512, 2,
			"virtio-blk: transport: queue 0: size 512");
	pc_reject_patch(&into_b, w.buf, w.len, t + PC_VQ(0) + PC_VQ_AVAIL,
			FG_RAM_BASE + FG_RAM_SIZE - 8, 8, "ring size or address");
	snap_writer_free(&w);
	close_dev(&b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_blk_persist");
	TCase *t = tcase_create("persist");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, round_trip_same_disk);
	tcase_add_test(t, moved_disk_restores);
	tcase_add_test(t, refuses_readonly_disk);
	tcase_add_test(t, refuses_other_size);
	tcase_add_test(t, refuses_other_id);
	tcase_add_test(t, rejects_damage);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)

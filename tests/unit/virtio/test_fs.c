/* test_fs.c - the virtio-fs device: its config space (the mount tag), an
 * unbound slot's ENODEV replies, requests served by the real FUSE server
 * (daemon/fs/fuse) against a temporary folder, with the request and the
 * reply each split over several descriptors; and its snapshot section: an
 * idle slot round-trips, a slot the guest used (a FUSE session) or one of
 * another tag is refused. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/fs/fuse/fuse_server.h"
#include "daemon/vm/virtio/fs.h"
#include "fake_driver.h"
#include "persist_check.h"
#include "../check_main.h"

static struct fake_guest g;
static struct fake_ring hiprio, req;
static struct virtio_fs f;
static char dir[] = "/tmp/sm-test-virtiofs.XXXXXX";

PC_WRAPPERS(fs, virtio_fs_save, virtio_fs_restore)

static void setup(void)
{
	fg_init(&g);
	ck_assert_int_eq(virtio_fs_init(&f, &g.mem, "sm0"), 0);
	drv_negotiate(&f.t, 1ULL << VIRTIO_F_VERSION_1);
	drv_queue(&g, &f.t, 0, &hiprio, 8);
	drv_queue(&g, &f.t, 1, &req, 8);
	drv_ok(&f.t);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	virtio_fs_fini(&f);
	virtio_mmio_destroy(&f.t);
	fg_free(&g);
	pc_remove_tmpdir(dir);
}

static void bind_dir(void)
{
	struct fs_err err;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	struct fs_server *s = fs_server_new(fd, false, &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	close(fd);
	virtio_fs_bind(&f, s);
}

/* Sends msg (split in two readable descriptors at `cut`) with a reply room
 * of two writable descriptors on queue q; returns the used length and
 * copies the reply into reply. */
static uint32_t roundtrip(struct fake_ring *r, uint16_t q, const void *msg, uint32_t len,
			  uint32_t cut, void *reply, uint32_t room)
{
	uint64_t in = fg_alloc(&g, len), out = fg_alloc(&g, room);
	memcpy(fg_host(&g, in), msg, len);
	uint64_t addr[4] = { in, in + cut, out, out + 7 };
	uint32_t lens[4] = { cut, len - cut, 7, room - 7 };
	uint16_t flags[4] = { 0, 0, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE };
	fr_add_chain(&g, r, addr, lens, flags, 4);
	drv_write(&f.t, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	uint32_t id, used;
	ck_assert(fr_get_used(&g, r, &id, &used));
	memcpy(reply, fg_host(&g, out), room);
	return used;
}

/* A 32-bit config space field, read as the driver does. */
static uint32_t config32(uint64_t off)
{
	uint32_t v;
	virtio_mmio_access(&f.t, VIRTIO_MMIO_CONFIG + off, (uint8_t *)&v, 4, false);
	return v;
}

START_TEST(config_has_tag_and_one_request_queue)
{
	char tag[FS_TAG_MAX + 1] = { 0 };
	for (int i = 0; i < FS_TAG_MAX; i++)
		virtio_mmio_access(&f.t, VIRTIO_MMIO_CONFIG + i, (uint8_t *)&tag[i], 1, false);
	ck_assert_str_eq(tag, "sm0");
	ck_assert_uint_eq(config32(FS_TAG_MAX), 1);
	struct virtio_fs other;
	ck_assert_int_eq(virtio_fs_init(&other, &g.mem, ""), -1);
	ck_assert_int_eq(virtio_fs_init(&other, &g.mem, "0123456789012345678901234567890123456"), -1);
}
END_TEST

struct init_msg {
	struct fuse_in_header h;
	struct fuse_init_in in;
} __attribute__((packed));

static struct init_msg init_msg(void)
{
	struct init_msg m;
	memset(&m, 0, sizeof m);
	m.h.len = sizeof m;
	m.h.opcode = FUSE_INIT;
	m.h.unique = 42;
	m.in.major = FUSE_KERNEL_VERSION;
	m.in.minor = FUSE_KERNEL_MINOR_VERSION;
	return m;
}

START_TEST(unbound_slot_answers_enodev)
{
	struct init_msg m = init_msg();
	struct fuse_out_header o;
	uint8_t reply[256];
	ck_assert_uint_eq(roundtrip(&req, 1, &m, sizeof m, 5, reply, sizeof reply), sizeof o);
	memcpy(&o, reply, sizeof o);
	ck_assert_int_eq(o.error, -ENODEV);
	ck_assert_uint_eq(o.unique, 42);
	ck_assert_uint_eq(o.len, sizeof o);
	ck_assert_uint_eq(f.unbound, 1);

	struct { struct fuse_in_header h; struct fuse_forget_in in; } __attribute__((packed)) fm;
	memset(&fm, 0, sizeof fm);
	fm.h.len = sizeof fm;
	fm.h.opcode = FUSE_FORGET;
	fm.h.nodeid = 5;
	ck_assert_uint_eq(roundtrip(&hiprio, 0, &fm, sizeof fm, 3, reply, sizeof reply), 0);
}
END_TEST

START_TEST(bound_slot_serves_init_and_lookup)
{
	bind_dir();
	struct init_msg m = init_msg();
	uint8_t reply[512];
	uint32_t n = roundtrip(&req, 1, &m, sizeof m, 11, reply, sizeof reply);
	struct fuse_out_header o;
	struct fuse_init_out io;
	ck_assert_uint_ge(n, sizeof o + 24);
	memcpy(&o, reply, sizeof o);
	memcpy(&io, reply + sizeof o, sizeof io < n - sizeof o ? sizeof io : n - sizeof o);
	ck_assert_int_eq(o.error, 0);
	ck_assert_uint_eq(o.unique, 42);
	ck_assert_uint_eq(io.major, 7);

	char path[128];
	snprintf(path, sizeof path, "%s/hello", dir);
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	struct { struct fuse_in_header h; char name[6]; } __attribute__((packed)) lk;
	memset(&lk, 0, sizeof lk);
	lk.h.len = sizeof lk;
	lk.h.opcode = FUSE_LOOKUP;
	lk.h.unique = 43;
	lk.h.nodeid = FUSE_ROOT_ID;
	memcpy(lk.name, "hello", 6);
	n = roundtrip(&req, 1, &lk, sizeof lk, sizeof lk.h + 2, reply, sizeof reply);
	struct fuse_entry_out e;
	ck_assert_uint_eq(n, sizeof o + sizeof e);
	memcpy(&o, reply, sizeof o);
	memcpy(&e, reply + sizeof o, sizeof e);
	ck_assert_int_eq(o.error, 0);
	ck_assert_uint_eq(o.unique, 43);
	ck_assert_uint_ne(e.nodeid, 0);
	ck_assert_uint_eq(e.attr.size, 0);
	ck_assert_uint_eq(f.requests, 2);
}
END_TEST

/* A second device, into which f's section is restored. */
static struct virtio_fs other;

static const struct pc_dev from_f = { &f, pc_fs_save, pc_fs_restore };
static const struct pc_dev into_other = { &other, pc_fs_save, pc_fs_restore };

START_TEST(idle_slot_round_trips)
{
	struct snap_writer w;
	pc_save(&from_f, &w);
	ck_assert_int_eq(virtio_fs_init(&other, &g.mem, "sm0"), 0);
	pc_reject_cuts_and_framing(&into_other, w.buf, w.len);
	pc_restore_ok(&into_other, w.buf, w.len);
	ck_assert_uint_eq(other.t.status, f.t.status);
	ck_assert_uint_eq(other.t.vq[1].desc_gpa, req.desc);
	ck_assert(!other.session);
	pc_resave_same(&into_other, w.buf, w.len);
	virtio_mmio_destroy(&other.t);

	ck_assert_int_eq(virtio_fs_init(&other, &g.mem, "sm1"), 0);
	pc_reject(&into_other, w.buf, w.len, "tag sm0");
	virtio_mmio_destroy(&other.t);
	snap_writer_free(&w);
}
END_TEST

START_TEST(used_slot_is_refused)
{
	struct init_msg m = init_msg();
	uint8_t reply[64];
	roundtrip(&req, 1, &m, sizeof m, 5, reply, sizeof reply);
	ck_assert(f.session);
	struct snap_writer w;
	pc_save(&from_f, &w);
	ck_assert_int_eq(virtio_fs_init(&other, &g.mem, "sm0"), 0);
	pc_reject(&into_other, w.buf, w.len, "cannot be restored");
	virtio_mmio_destroy(&other.t);
	snap_writer_free(&w);
	/* A reset (the guest's driver going away) ends the session. */
	drv_write(&f.t, VIRTIO_MMIO_STATUS, 0);
	ck_assert(!f.session);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_fs");
	TCase *tc = tcase_create("fs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, config_has_tag_and_one_request_queue);
	tcase_add_test(tc, unbound_slot_answers_enodev);
	tcase_add_test(tc, bound_slot_serves_init_and_lookup);
	tcase_add_test(tc, idle_slot_round_trips);
	tcase_add_test(tc, used_slot_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)

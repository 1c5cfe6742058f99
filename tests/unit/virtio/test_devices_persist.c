/* test_devices_persist.c - the VM's device list in a snapshot.
 *
 * Two sets of devices are built the way attach builds them (disks, rng,
 * vsock, and net in some tests; no VM behind them): one is saved, the
 * other restored into. The list must match before any device is touched.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/vm/virtio/devices.h"
#include "fake_guest.h"
#include "persist_check.h"
#include "../check_main.h"

#define CID 5

static struct fake_guest g;
static struct virtio_devices d1, d2;
static char dir[] = "/tmp/sm-devices-persist-XXXXXX";

static void add_disk(struct virtio_devices *d, const char *name)
{
	struct vm_err err = { { 0 } };
	struct virtio_blk *b = calloc(1, sizeof(*b));
	snprintf(b->path, sizeof(b->path), "%s/%s", dir, name);
	int fd = open(b->path, O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	ck_assert_msg(blk_disk_open(&b->disk, b->path, false, &err) == 0, "%s", err.msg);
	virtio_blk_init(b, &g.mem);
	d->blk[d->nblk++] = b;
}

/* A virtio-net device with MAC 52:54:00:00:00:<last> (no backend). */
static void add_net(struct virtio_devices *d, uint8_t last)
{
	struct vm_err err = { { 0 } };
	const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, last };
	d->net = calloc(1, sizeof(*d->net));
	ck_assert_msg(virtio_net_init(d->net, &g.mem, mac, NULL, &err) == 0, "%s", err.msg);
}

/* ndisks disks, rng, and vsock unless cid is 0; sock names the listener. */
static void make_devices(struct virtio_devices *d, int ndisks, uint64_t cid, const char *sock)
{
	struct vm_err err = { { 0 } };
	char name[32], uds[100];
	memset(d, 0, sizeof(*d));
	for (int i = 0; i < ndisks; i++) {
		snprintf(name, sizeof(name), "disk%d.img", i);
		add_disk(d, name);
	}
	d->rng = calloc(1, sizeof(*d->rng));
	virtio_rng_init(d->rng, &g.mem);
	if (!cid)
		return;
	d->vsock = calloc(1, sizeof(*d->vsock));
	snprintf(uds, sizeof(uds), "%.80s/%s", dir, sock);
	ck_assert_msg(virtio_vsock_init(d->vsock, &g.mem, cid, uds, NULL, &err) == 0, "%s",
		      err.msg);
}

static void free_devices(struct virtio_devices *d)
{
	for (int i = 0; i < d->nblk; i++) {
		blk_disk_close(&d->blk[i]->disk);
		virtio_mmio_destroy(&d->blk[i]->t);
		free(d->blk[i]);
	}
	if (d->rng)
		virtio_mmio_destroy(&d->rng->t);
	free(d->rng);
	if (d->vsock)
		virtio_vsock_destroy(d->vsock);
	free(d->vsock);
	if (d->net)
		virtio_net_destroy(d->net);
	free(d->net);
	memset(d, 0, sizeof(*d));
}

static void save(struct virtio_devices *d, struct snap_writer *w)
{
	struct vm_err err = { { 0 } };
	snap_writer_init(w);
	virtio_devices_lock(d);
	ck_assert_int_eq(virtio_devices_save(d, w, &err), 0);
	virtio_devices_unlock(d);
}

/* Restore buf into d; returns the result, message in err. */
static int restore(struct virtio_devices *d, const uint8_t *buf, size_t len,
		   struct vm_err *err)
{
	struct snap_reader r;
	snap_reader_init(&r, buf, len);
	virtio_devices_lock(d);
	int rc = virtio_devices_restore(d, &r, err);
	virtio_devices_unlock(d);
	if (rc == 0)
		ck_assert_uint_eq(r.off, len);
	return rc;
}

static void setup(void)
{
	fg_init(&g);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	make_devices(&d1, 2, CID, "d1.sock");
	uint32_t v = VIRTIO_STATUS_ACKNOWLEDGE;
	virtio_mmio_access(&d1.rng->t, VIRTIO_MMIO_STATUS, (uint8_t *)&v, 4, true);
	virtio_mmio_access(&d1.blk[1]->t, VIRTIO_MMIO_STATUS, (uint8_t *)&v, 4, true);
}

static void teardown(void)
{
	free_devices(&d1);
	free_devices(&d2);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/sm-devices-persist-XXXXXX");
	fg_free(&g);
}

START_TEST(round_trip)
{
	struct snap_writer w, again;
	struct vm_err err = { { 0 } };
	make_devices(&d2, 2, CID, "d2.sock");
	save(&d1, &w);
	ck_assert_uint_eq(pc_get(w.buf, 0, 4), SNAP_TAG('V', 'D', 'E', 'V'));
	ck_assert_uint_eq(pc_get(w.buf, PC_HDR, 4), 4); /* blk, blk, rng, vsock */
	ck_assert_msg(restore(&d2, w.buf, w.len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(d2.rng->t.status, VIRTIO_STATUS_ACKNOWLEDGE);
	ck_assert_uint_eq(d2.blk[1]->t.status, VIRTIO_STATUS_ACKNOWLEDGE);
	ck_assert_uint_eq(d2.blk[0]->t.status, 0);
	save(&d2, &again);
	ck_assert_uint_eq(again.len, w.len);
	ck_assert_mem_eq(again.buf, w.buf, w.len);
	snap_writer_free(&w);
	snap_writer_free(&again);
}
END_TEST

/* A different set of devices is refused before any device is loaded. */
static void refuse_list(int ndisks, uint64_t cid, const char *want)
{
	struct snap_writer w;
	struct vm_err err = { { 0 } };
	make_devices(&d2, ndisks, cid, "d2.sock");
	save(&d1, &w);
	ck_assert_int_eq(restore(&d2, w.buf, w.len, &err), -1);
	ck_assert_msg(strstr(err.msg, want), "\"%s\" lacks \"%s\"", err.msg, want);
	ck_assert_uint_eq(d2.rng->t.status, 0); /* nothing loaded */
	snap_writer_free(&w);
}

START_TEST(refuses_fewer_disks)
{
	refuse_list(1, CID, "the snapshot has devices [blk, blk, rng, vsock], "
			    "this VM [blk, rng, vsock]");
}
END_TEST

START_TEST(refuses_missing_vsock)
{
	refuse_list(2, 0, "this VM [blk, blk, rng]");
}
END_TEST

START_TEST(refuses_damaged_list)
{
	struct snap_writer w;
	struct vm_err err = { { 0 } };
	make_devices(&d2, 2, CID, "d2.sock");
	save(&d1, &w);
	pc_put(w.buf, PC_HDR + 4 + 4 * 2, 77, 4); /* the rng's id */
	ck_assert_int_eq(restore(&d2, w.buf, w.len, &err), -1);
	ck_assert_msg(strstr(err.msg, "[blk, blk, id 77, vsock]"), "%s", err.msg);
	pc_put(w.buf, PC_HDR, 1000, 4); /* the count */
	ck_assert_int_eq(restore(&d2, w.buf, w.len, &err), -1);
	ck_assert_msg(strstr(err.msg, "1000 devices listed"), "%s", err.msg);
	snap_writer_free(&w);
}
END_TEST

/* A device that is not the saved one fails the whole restore. */
START_TEST(refuses_other_cid)
{
	struct snap_writer w;
	struct vm_err err = { { 0 } };
	make_devices(&d2, 2, CID + 1, "d2.sock");
	save(&d1, &w);
	ck_assert_int_eq(restore(&d2, w.buf, w.len, &err), -1);
	ck_assert_msg(strstr(err.msg, "virtio devices: vsock: virtio-vsock: guest CID 5"),
		      "%s", err.msg);
	snap_writer_free(&w);
}
END_TEST

START_TEST(refuses_truncation)
{
	struct snap_writer w;
	struct vm_err err;
	make_devices(&d2, 2, CID, "d2.sock");
	save(&d1, &w);
	for (size_t n = 0; n < w.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, w.buf, n);
		memset(&err, 0, sizeof(err));
		ck_assert_int_eq(restore(&d2, copy, n, &err), -1);
		ck_assert(err.msg[0]);
		if (n >= PC_HDR) { /* cut inside the section, its length fixed up */
			pc_put(copy, PC_LEN, n - PC_HDR, 4);
			ck_assert_int_eq(restore(&d2, copy, n, &err), -1);
		}
		free(copy);
	}
	snap_writer_free(&w);
}
END_TEST

/* With virtio-net: listed last, its section last, round trip exact. */
START_TEST(round_trip_with_net)
{
	struct snap_writer w, again;
	struct vm_err err = { { 0 } };
	add_net(&d1, 1);
	make_devices(&d2, 2, CID, "d2.sock");
	add_net(&d2, 1);
	uint32_t v = VIRTIO_STATUS_ACKNOWLEDGE;
	virtio_mmio_access(&d1.net->t, VIRTIO_MMIO_STATUS, (uint8_t *)&v, 4, true);
	save(&d1, &w);
	ck_assert_uint_eq(pc_get(w.buf, PC_HDR, 4), 5);
	ck_assert_uint_eq(pc_get(w.buf, PC_HDR + 4 * 5, 4), VIRTIO_ID_NET);
	ck_assert_msg(restore(&d2, w.buf, w.len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(d2.net->t.status, VIRTIO_STATUS_ACKNOWLEDGE);
	save(&d2, &again);
	ck_assert_uint_eq(again.len, w.len);
	ck_assert_mem_eq(again.buf, w.buf, w.len);
	snap_writer_free(&w);
	snap_writer_free(&again);
}
END_TEST

/* A snapshot made without net (every one made before net existed) is
 * refused by a VM with it, and the other way round. */
START_TEST(net_must_match)
{
	struct snap_writer w;
	struct vm_err err = { { 0 } };
	make_devices(&d2, 2, CID, "d2.sock");
	add_net(&d2, 1);
	save(&d1, &w);
	ck_assert_int_eq(restore(&d2, w.buf, w.len, &err), -1);
	ck_assert_msg(strstr(err.msg, "[blk, blk, rng, vsock], this VM [blk, blk, rng, vsock, net]"
				      ": the snapshot was made without --net, restore it without"),
		      "%s", err.msg);
	snap_writer_free(&w);
	add_net(&d1, 1);
	free_devices(&d2);
	make_devices(&d2, 2, CID, "d2.sock");
	save(&d1, &w);
	ck_assert_int_eq(restore(&d2, w.buf, w.len, &err), -1);
	ck_assert_msg(strstr(err.msg, "[blk, blk, rng, vsock, net], this VM [blk, blk, rng, vsock]"
				      ": the snapshot was made with --net, restore it with --net MAC"),
		      "%s", err.msg);
	snap_writer_free(&w);
}
END_TEST

/* A clone restored with its own MAC keeps it (net_persist.c). */
START_TEST(net_keeps_own_mac)
{
	struct snap_writer w;
	struct vm_err err = { { 0 } };
	add_net(&d1, 1);
	make_devices(&d2, 2, CID, "d2.sock");
	add_net(&d2, 2);
	save(&d1, &w);
	ck_assert_msg(restore(&d2, w.buf, w.len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(d2.net->mac[5], 2);
	snap_writer_free(&w);
}
END_TEST

START_TEST(lock_takes_every_transport)
{
	virtio_devices_lock(&d1);
	ck_assert_int_eq(pthread_mutex_trylock(&d1.blk[0]->t.lock), EBUSY);
	ck_assert_int_eq(pthread_mutex_trylock(&d1.blk[1]->t.lock), EBUSY);
	ck_assert_int_eq(pthread_mutex_trylock(&d1.rng->t.lock), EBUSY);
	ck_assert_int_eq(pthread_mutex_trylock(&d1.vsock->t.lock), EBUSY);
	virtio_devices_unlock(&d1);
	ck_assert_int_eq(pthread_mutex_trylock(&d1.vsock->t.lock), 0);
	pthread_mutex_unlock(&d1.vsock->t.lock);
	ck_assert_int_eq(pthread_mutex_trylock(&d1.blk[0]->t.lock), 0);
	pthread_mutex_unlock(&d1.blk[0]->t.lock);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_devices_persist");
	TCase *t = tcase_create("persist");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, round_trip);
	tcase_add_test(t, refuses_fewer_disks);
	tcase_add_test(t, refuses_missing_vsock);
	tcase_add_test(t, refuses_damaged_list);
	tcase_add_test(t, refuses_other_cid);
	tcase_add_test(t, refuses_truncation);
	tcase_add_test(t, round_trip_with_net);
	tcase_add_test(t, net_must_match);
	tcase_add_test(t, net_keeps_own_mac);
	tcase_add_test(t, lock_takes_every_transport);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)

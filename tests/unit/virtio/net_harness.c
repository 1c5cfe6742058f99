/* net_harness.c - see net_harness.h. */
#include "net_harness.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/vm/virtio/mmio_loop.h"
#include "fake_driver.h"

struct fake_guest nh_g;
struct fake_ring nh_rx, nh_tx;
struct virtio_net *nh_dev;
int nh_passt = -1;
const uint8_t nh_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static struct event_loop *loop;
static pthread_t loop_thread;
static uint64_t rx_buf_gpa[NH_RX_BUFS];
static uint32_t rx_buf_size;
static uint64_t tx_scratch;  /* first byte of recyclable guest RAM */
static uint32_t tx_used_seen;

double nh_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void nh_wr(uint64_t off, uint32_t val)
{
	virtio_mmio_access(&nh_dev->t, off, (uint8_t *)&val, 4, true);
}

uint32_t nh_rd(uint64_t off)
{
	uint32_t v;
	virtio_mmio_access(&nh_dev->t, off, (uint8_t *)&v, 4, false);
	return v;
}

void nh_config(uint32_t off, void *out, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) /* byte by byte, as Linux reads the MAC */
		virtio_mmio_access(&nh_dev->t, VIRTIO_MMIO_CONFIG + off + i, (uint8_t *)out + i, 1,
				   false);
}

struct virtio_net_stats nh_stats(void)
{
	struct virtio_net_stats s;
	virtio_net_stats(nh_dev, &s);
	return s;
}

static void *run_loop(void *arg)
{
	event_loop_run(arg);
	return NULL;
}

int nh_new_backend(int sndbuf)
{
	struct vm_err err = { { 0 } };
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	if (sndbuf > 0)
		ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)),
				 0);
	ck_assert_msg(virtio_net_attach(nh_dev, sv[0], &err) == 0, "%s", err.msg);
	if (nh_passt >= 0)
		close(nh_passt);
	nh_passt = sv[1];
	return nh_passt;
}

static void start_device(void)
{
	struct vm_err err = { { 0 } };
	loop = event_loop_new();
	ck_assert_ptr_nonnull(loop);
	nh_dev = calloc(1, sizeof(*nh_dev));
	ck_assert_msg(virtio_net_init(nh_dev, &nh_g.mem, nh_mac, loop, &err) == 0, "%s", err.msg);
	nh_dev->t.irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (int q = 0; q < 2; q++)
		nh_dev->t.kickfd[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_eq(virtio_mmio_watch_kicks(&nh_dev->t, loop, &err), 0);
	ck_assert_int_eq(pthread_create(&loop_thread, NULL, run_loop, loop), 0);
}

static void driver_up(const struct nh_options *o)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MAC) |
		     (1ULL << VIRTIO_NET_F_MTU) | (1ULL << VIRTIO_NET_F_STATUS) |
		     (1ULL << VIRTIO_F_EVENT_IDX);
	if (!o->no_mrg_rxbuf)
		f |= 1ULL << VIRTIO_NET_F_MRG_RXBUF;
	drv_negotiate(&nh_dev->t, f);
	ck_assert(nh_rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
	drv_queue(&nh_g, &nh_dev->t, NET_QUEUE_RX, &nh_rx, NH_RX_RING);
	drv_queue(&nh_g, &nh_dev->t, NET_QUEUE_TX, &nh_tx, NH_TX_RING);
	drv_ok(&nh_dev->t);
	for (uint16_t i = 0; i < NH_RX_BUFS; i++) {
		rx_buf_gpa[i] = fg_alloc(&nh_g, rx_buf_size);
		fr_set_desc(&nh_g, nh_rx.desc, i, rx_buf_gpa[i], rx_buf_size, VIRTQ_DESC_F_WRITE, 0);
	}
}

void nh_setup(const struct nh_options *o)
{
	static const struct nh_options none;
	if (!o)
		o = &none;
	rx_buf_size = o->rx_buf_size ? o->rx_buf_size : NH_RX_BUF_SIZE;
	tx_used_seen = 0;
	fg_init(&nh_g);
	start_device();
	nh_new_backend(0);
	driver_up(o);
	tx_scratch = nh_g.next_free;
	if (!o->no_rx_buffers)
		nh_post_rx_range(0, NH_RX_BUFS);
}

void nh_teardown(void)
{
	event_loop_stop(loop);
	pthread_join(loop_thread, NULL);
	virtio_mmio_close_fds(&nh_dev->t, loop);
	virtio_net_destroy(nh_dev);
	free(nh_dev);
	nh_dev = NULL;
	event_loop_free(loop);
	if (nh_passt >= 0)
		close(nh_passt);
	nh_passt = -1;
	fg_free(&nh_g);
}

/* ---- guest ---- */

void nh_post_rx_range(uint16_t first, uint16_t n)
{
	for (uint16_t i = first; i < first + n; i++)
		fr_publish(&nh_g, &nh_rx, i);
	nh_wr(VIRTIO_MMIO_QUEUE_NOTIFY, NET_QUEUE_RX);
}

void nh_post_rx(uint16_t i)
{
	nh_post_rx_range(i, 1);
}

void nh_recycle_tx(void)
{
	nh_g.next_free = tx_scratch;
}

void nh_queue_tx(const struct virtio_net_hdr *h, const void *frame, uint32_t len, int nseg)
{
	static const struct virtio_net_hdr zero;
	uint64_t hdr = fg_alloc(&nh_g, NET_HDR_SIZE + len), data = hdr + NET_HDR_SIZE;
	memcpy(fg_host(&nh_g, hdr), h ? h : &zero, NET_HDR_SIZE);
	memcpy(fg_host(&nh_g, data), frame, len);
	uint32_t half = len / 2;
	uint64_t addr[3] = { hdr, data, data + half };
	uint32_t lens[3] = { NET_HDR_SIZE, nseg == 3 ? half : len, len - half };
	uint16_t flags[3] = { 0, 0, 0 };
	if (nseg == 1)
		lens[0] = NET_HDR_SIZE + len;
	fr_add_chain(&nh_g, &nh_tx, addr, lens, flags, nseg);
}

void nh_kick_tx(void)
{
	nh_wr(VIRTIO_MMIO_QUEUE_NOTIFY, NET_QUEUE_TX);
}

uint32_t nh_tx_used(void)
{
	uint32_t id, len;
	while (fr_get_used(&nh_g, &nh_tx, &id, &len)) {
		ck_assert_uint_eq(len, 0);
		tx_used_seen++;
	}
	return tx_used_seen;
}

void nh_send(const void *frame, uint32_t len)
{
	uint32_t before = nh_tx_used();
	if (nh_g.next_free + 2 * NET_HDR_SIZE + len + 4096 > FG_RAM_BASE + FG_RAM_SIZE)
		nh_recycle_tx();
	nh_queue_tx(NULL, frame, len, 2);
	nh_kick_tx();
	for (double end = nh_now() + 5; nh_tx_used() == before;) {
		ck_assert_msg(nh_now() < end, "the device did not take the tx chain");
		usleep(200);
	}
}

/* Wait for the next used rx entry. */
static bool next_rx_used(uint32_t *id, uint32_t *len, double timeout)
{
	for (double end = nh_now() + timeout; !fr_get_used(&nh_g, &nh_rx, id, len);) {
		if (nh_now() >= end)
			return false;
		usleep(200);
	}
	ck_assert_uint_lt(*id, NH_RX_BUFS);
	ck_assert_uint_le(*len, rx_buf_size);
	return true;
}

long nh_recv(void *frame, size_t cap, double timeout, uint16_t *num_buffers)
{
	uint32_t id, len, ids[NH_RX_BUFS];
	if (!next_rx_used(&id, &len, timeout))
		return -1;
	struct virtio_net_hdr h;
	ck_assert_uint_ge(len, NET_HDR_SIZE);
	memcpy(&h, fg_host(&nh_g, rx_buf_gpa[id]), sizeof(h));
	ck_assert_uint_eq(h.flags, 0);
	ck_assert_uint_eq(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	ck_assert_uint_ge(h.num_buffers, 1);
	ck_assert_uint_le(h.num_buffers, NH_RX_BUFS);
	size_t got = 0;
	for (uint16_t k = 0; k < h.num_buffers; k++) {
		/* one packet's buffers are used together: all there already */
		if (k > 0)
			ck_assert_msg(fr_get_used(&nh_g, &nh_rx, &id, &len),
				      "buffer %u of %u not used with the first", k + 1, h.num_buffers);
		if (k + 1 < h.num_buffers)
			ck_assert_uint_eq(len, rx_buf_size); /* all but the last filled */
		uint32_t skip = k == 0 ? NET_HDR_SIZE : 0;
		ck_assert_uint_le(got + len - skip, cap);
		memcpy((uint8_t *)frame + got, (uint8_t *)fg_host(&nh_g, rx_buf_gpa[id]) + skip,
		       len - skip);
		got += len - skip;
		ids[k] = id;
	}
	for (uint16_t k = 0; k < h.num_buffers; k++)
		fr_publish(&nh_g, &nh_rx, (uint16_t)ids[k]);
	nh_wr(VIRTIO_MMIO_QUEUE_NOTIFY, NET_QUEUE_RX);
	if (num_buffers)
		*num_buffers = h.num_buffers;
	return (long)got;
}

/* ---- passt ---- */

void nh_write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;
	while (len > 0) {
		ssize_t n = write(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_int_gt(n, 0);
		b += n;
		len -= (size_t)n;
	}
}

void nh_passt_send(int fd, const void *frame, uint32_t len)
{
	uint8_t be[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			  (uint8_t)len };
	nh_write_all(fd, be, 4);
	nh_write_all(fd, frame, len);
}

/* Read exactly len bytes, each wait at most timeout_ms; false on timeout. */
static bool read_exact(int fd, uint8_t *p, size_t len, int timeout_ms)
{
	while (len > 0) {
		struct pollfd pf = { fd, POLLIN, 0 };
		if (poll(&pf, 1, timeout_ms) <= 0)
			return false;
		ssize_t n = read(fd, p, len);
		ck_assert_int_gt(n, 0);
		p += n;
		len -= (size_t)n;
	}
	return true;
}

long nh_passt_recv(int fd, void *frame, size_t cap, int timeout_ms)
{
	uint8_t be[4];
	if (!read_exact(fd, be, 4, timeout_ms))
		return -1;
	uint32_t len = (uint32_t)be[0] << 24 | (uint32_t)be[1] << 16 | (uint32_t)be[2] << 8 | be[3];
	ck_assert_uint_le(len, cap);
	ck_assert_msg(read_exact(fd, frame, len, 5000), "frame of %u bytes cut short", len);
	return len;
}

/* ---- frames ---- */

static uint8_t pattern(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31 + i * 7 + (i >> 8));
}

void nh_frame(uint8_t *buf, uint32_t len, uint32_t seq)
{
	static const uint8_t dst[6] = { 0x9a, 0x55, 0x9a, 0x55, 0x9a, 0x55 };
	memcpy(buf, dst, 6);
	memcpy(buf + 6, nh_mac, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	for (uint32_t i = 0; i < 4; i++)
		buf[14 + i] = (uint8_t)(seq >> (24 - 8 * i));
	for (uint32_t i = 18; i < len; i++)
		buf[i] = pattern(seq, i);
}

bool nh_frame_is(const uint8_t *buf, uint32_t len, uint32_t seq)
{
	static uint8_t want[NET_MAX_FRAME + 16];
	if (len > sizeof(want))
		return false;
	nh_frame(want, len, seq);
	return memcmp(buf, want, len) == 0;
}

/* test_vsock.c - virtio-vsock against a fake guest driver and real host sockets.
 *
 * The device runs as in the VMM: its queue kicks are eventfds and its host
 * Unix sockets are watched by the real event loop on a device thread. The
 * test thread is the guest (rings in a buffer, kicks through the
 * QueueNotify register) and the host programs (Unix socket clients and
 * listeners). Packets and credit fields are checked on the wire.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/vm/virtio/mmio_loop.h"
#include "daemon/vm/virtio/vsock.h"
#include "fake_guest.h"
#include "../check_main.h"

#define CID 7
#define RX_BUFS 32
#define RX_BUF_SIZE 4096

static struct fake_guest g;
static struct fake_ring rx, tx, evq;
static struct virtio_vsock *v;
static struct event_loop *loop;
static pthread_t loop_thread;
static char dir[] = "/tmp/sm-vsock-XXXXXX";
static char uds[100];
static bool event_idx; /* negotiate VIRTIO_F_EVENT_IDX (as Linux does) */

static void wr(uint64_t off, uint32_t val)
{
	virtio_mmio_access(&v->t, off, (uint8_t *)&val, 4, true);
}

static void queue_setup(uint16_t q, struct fake_ring *r, uint16_t size)
{
	fr_init(&g, r, size, NULL);
	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	wr(VIRTIO_MMIO_QUEUE_NUM, size);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)r->avail);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)r->used);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

/* Rx buffers as Linux 6.1 posts them: a header descriptor and a data one. */
static void post_rx(uint16_t i)
{
	fr_publish(&g, &rx, 2 * i);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VSOCK_QUEUE_RX);
}

static void *run_loop(void *arg)
{
	event_loop_run(arg);
	return NULL;
}

static void setup(void)
{
	struct vm_err err = { { 0 } };
	fg_init(&g);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(uds, sizeof(uds), "%.80s/v.sock", dir);
	loop = event_loop_new();
	v = calloc(1, sizeof(*v));
	ck_assert_msg(virtio_vsock_init(v, &g.mem, CID, uds, loop, &err) == 0, "%s", err.msg);
	v->t.irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (int q = 0; q < 3; q++)
		v->t.kickfd[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_eq(virtio_mmio_watch_kicks(&v->t, loop, &err), 0);
	ck_assert_int_eq(pthread_create(&loop_thread, NULL, run_loop, loop), 0);

	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, event_idx ? 1u << 29 : 0); /* EVENT_IDX */
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
	queue_setup(VSOCK_QUEUE_RX, &rx, 2 * RX_BUFS);
	queue_setup(VSOCK_QUEUE_TX, &tx, 64);
	queue_setup(VSOCK_QUEUE_EVENT, &evq, 4);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	for (uint16_t i = 0; i < RX_BUFS; i++) {
		fr_set_desc(&g, rx.desc, 2 * i, fg_alloc(&g, VSOCK_HDR_SIZE), VSOCK_HDR_SIZE,
			    VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2 * i + 1);
		fr_set_desc(&g, rx.desc, 2 * i + 1, fg_alloc(&g, RX_BUF_SIZE), RX_BUF_SIZE,
			    VIRTQ_DESC_F_WRITE, 0);
		post_rx(i);
	}
}

static void setup_event_idx(void)
{
	event_idx = true;
	setup();
}

static void teardown(void)
{
	event_loop_stop(loop);
	pthread_join(loop_thread, NULL);
	virtio_mmio_close_fds(&v->t, loop);
	virtio_vsock_destroy(v);
	free(v);
	event_loop_free(loop);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/sm-vsock-XXXXXX");
	fg_free(&g);
	event_idx = false;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Send a packet from the guest and wait until the device took it. */
static void guest_send(uint16_t op, uint32_t src_port, uint32_t dst_port, const void *data,
		       uint32_t len, uint32_t buf_alloc, uint32_t fwd_cnt, uint32_t flags)
{
	uint64_t hdr = fg_alloc(&g, VSOCK_HDR_SIZE), pay = fg_alloc(&g, len ? len : 1);
	struct vsock_hdr h = { CID, VSOCK_HOST_CID, src_port, dst_port, len, VSOCK_TYPE_STREAM,
			       op, flags, buf_alloc, fwd_cnt };
	memcpy(fg_host(&g, hdr), &h, sizeof(h));
	if (len)
		memcpy(fg_host(&g, pay), data, len);
	fr_add_chain(&g, &tx, (uint64_t[]){ hdr, pay }, (uint32_t[]){ VSOCK_HDR_SIZE, len },
		     (uint16_t[]){ 0, 0 }, len ? 2 : 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VSOCK_QUEUE_TX);
	uint32_t id, ulen;
	double end = now() + 5;
	while (!fr_get_used(&g, &tx, &id, &ulen)) {
		ck_assert_msg(now() < end, "device did not take the tx packet");
		usleep(200);
	}
	g.next_free = (g.next_free > FG_RAM_BASE + FG_RAM_SIZE - (1 << 20))
			      ? FG_RAM_BASE + (2 << 20) : g.next_free; /* recycle scratch */
}

/* Next packet for the guest within timeout seconds; false if none. The rx
 * buffer is given back to the device afterwards. */
static bool guest_recv(struct vsock_hdr *h, void *data, double timeout)
{
	uint32_t id, len;
	double end = now() + timeout;
	while (!fr_get_used(&g, &rx, &id, &len)) {
		if (now() >= end)
			return false;
		usleep(200);
	}
	ck_assert_uint_eq(id % 2, 0);
	struct virtq_desc d0, d1;
	memcpy(&d0, fg_host(&g, rx.desc + 16 * id), 16);
	memcpy(&d1, fg_host(&g, rx.desc + 16 * (id + 1)), 16);
	memcpy(h, fg_host(&g, d0.addr), VSOCK_HDR_SIZE);
	ck_assert_uint_eq(len, VSOCK_HDR_SIZE + h->len);
	ck_assert_uint_le(h->len, RX_BUF_SIZE);
	if (data)
		memcpy(data, fg_host(&g, d1.addr), h->len);
	ck_assert_uint_eq(h->src_cid, VSOCK_HOST_CID);
	ck_assert_uint_eq(h->dst_cid, CID);
	ck_assert_uint_eq(h->type, VSOCK_TYPE_STREAM);
	post_rx(id / 2);
	return true;
}

static void expect_op(uint16_t op, struct vsock_hdr *h)
{
	ck_assert_msg(guest_recv(h, NULL, 5), "no packet (wanted op %u)", op);
	ck_assert_uint_eq(h->op, op);
}

static int host_listen(uint32_t port)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", uds, port);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

static int host_connect(const char *line)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", uds);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	return fd;
}

/* read() with a timeout; -2 on timeout. */
static ssize_t read_to(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, ms) <= 0)
		return -2;
	return read(fd, buf, len);
}

/* Guest connects to host port 5000 from guest port 1234; returns host fd. */
static int guest_to_host(int *lfd, uint32_t buf_alloc)
{
	struct vsock_hdr h;
	*lfd = host_listen(5000);
	guest_send(VSOCK_OP_REQUEST, 1234, 5000, NULL, 0, buf_alloc, 0, 0);
	expect_op(VSOCK_OP_RESPONSE, &h);
	ck_assert_uint_eq(h.src_port, 5000);
	ck_assert_uint_eq(h.dst_port, 1234);
	ck_assert_uint_eq(h.buf_alloc, VSOCK_BUF_ALLOC);
	int fd = accept(*lfd, NULL, NULL);
	ck_assert_int_ge(fd, 0);
	return fd;
}

START_TEST(guest_connects_to_host)
{
	int lfd, fd = guest_to_host(&lfd, 65536);
	char buf[64];
	struct vsock_hdr h;

	guest_send(VSOCK_OP_RW, 1234, 5000, "hello", 5, 65536, 0, 0);
	ck_assert_int_eq(read_to(fd, buf, sizeof(buf), 2000), 5);
	ck_assert(memcmp(buf, "hello", 5) == 0);

	ck_assert_int_eq(write(fd, "world!", 6), 6);
	ck_assert(guest_recv(&h, buf, 5));
	ck_assert_uint_eq(h.op, VSOCK_OP_RW);
	ck_assert_uint_eq(h.len, 6);
	ck_assert_uint_eq(h.fwd_cnt, 5); /* we forwarded the guest's 5 bytes */
	ck_assert(memcmp(buf, "world!", 6) == 0);

	/* Guest close(): SHUTDOWN both ways -> our RST, host sees EOF. */
	guest_send(VSOCK_OP_SHUTDOWN, 1234, 5000, NULL, 0, 65536, 6,
		   VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND);
	expect_op(VSOCK_OP_RST, &h);
	ck_assert_int_eq(read_to(fd, buf, sizeof(buf), 2000), 0);
	close(fd);
	close(lfd);
}
END_TEST

START_TEST(host_connects_to_guest)
{
	int fd = host_connect("CONNECT 52\n");
	struct vsock_hdr h;
	char buf[64];

	expect_op(VSOCK_OP_REQUEST, &h);
	ck_assert_uint_eq(h.dst_port, 52);
	ck_assert_uint_ge(h.src_port, VSOCK_EPHEMERAL_BASE);
	uint32_t host_port = h.src_port;
	guest_send(VSOCK_OP_RESPONSE, 52, host_port, NULL, 0, 65536, 0, 0);
	ssize_t n = read_to(fd, buf, sizeof(buf) - 1, 2000);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	char want[32];
	snprintf(want, sizeof(want), "OK %u\n", host_port);
	ck_assert_str_eq(buf, want);

	ck_assert_int_eq(write(fd, "ping", 4), 4);
	ck_assert(guest_recv(&h, buf, 5));
	ck_assert_uint_eq(h.op, VSOCK_OP_RW);
	ck_assert(memcmp(buf, "ping", 4) == 0);
	guest_send(VSOCK_OP_RW, 52, host_port, "pong", 4, 65536, 4, 0);
	ck_assert_int_eq(read_to(fd, buf, sizeof(buf), 2000), 4);

	/* Host closes: the guest hears it will get no more data. */
	close(fd);
	expect_op(VSOCK_OP_SHUTDOWN, &h);
	ck_assert(h.flags & VSOCK_SHUTDOWN_SEND);
	guest_send(VSOCK_OP_RST, 52, host_port, NULL, 0, 65536, 4, 0);
	ck_assert(!guest_recv(&h, NULL, 0.2));
}
END_TEST

START_TEST(bad_connect_line_closes)
{
	int fd = host_connect("HELLO 1\n");
	char buf[8];
	struct vsock_hdr h;
	ck_assert_int_eq(read_to(fd, buf, sizeof(buf), 2000), 0);
	ck_assert(!guest_recv(&h, NULL, 0.2));
	close(fd);
	fd = host_connect("CONNECT 99999999999\n"); /* port beyond u32 */
	ck_assert_int_eq(read_to(fd, buf, sizeof(buf), 2000), 0);
	close(fd);
}
END_TEST

START_TEST(host_respects_guest_credit)
{
	int lfd, fd = guest_to_host(&lfd, 100);
	static char big[1000];
	struct vsock_hdr h;
	uint32_t got = 0;

	ck_assert_int_eq(write(fd, big, sizeof(big)), sizeof(big));
	while (guest_recv(&h, NULL, 0.3)) {
		ck_assert_uint_eq(h.op, VSOCK_OP_RW);
		got += h.len;
	}
	ck_assert_uint_eq(got, 100); /* exactly the guest's buf_alloc */
	guest_send(VSOCK_OP_CREDIT_UPDATE, 1234, 5000, NULL, 0, 100, 100, 0);
	while (guest_recv(&h, NULL, 0.3))
		got += h.len;
	ck_assert_uint_eq(got, 200);
	close(fd);
	close(lfd);
}
END_TEST

START_TEST(credit_update_when_host_drains)
{
	int lfd, fd = guest_to_host(&lfd, 65536);
	static char chunk[4096], sink[1 << 16];
	struct vsock_hdr h;
	uint32_t sent = 0;

	/* The host does not read yet: fill most of our advertised buffer. */
	for (; sent < VSOCK_BUF_ALLOC - 4096; sent += sizeof(chunk))
		guest_send(VSOCK_OP_RW, 1234, 5000, chunk, sizeof(chunk), 65536, 0, 0);
	size_t drained = 0;
	while (drained < sent) {
		ssize_t n = read_to(fd, sink, sizeof(sink), 2000);
		ck_assert_int_gt(n, 0);
		drained += n;
	}
	/* The guest's view of our free space must end up at least a quarter
	 * of the buffer (so it is never left waiting for credit). */
	uint32_t told = 0;
	int updates = 0;
	while (guest_recv(&h, NULL, 0.3)) {
		ck_assert_uint_eq(h.op, VSOCK_OP_CREDIT_UPDATE);
		ck_assert_uint_eq(h.buf_alloc, VSOCK_BUF_ALLOC);
		ck_assert_uint_le(h.fwd_cnt, sent);
		told = h.fwd_cnt;
		updates++;
	}
	ck_assert_int_ge(updates, 1);
	ck_assert_uint_ge(VSOCK_BUF_ALLOC - (sent - told), VSOCK_BUF_ALLOC / 4);
	close(fd);
	close(lfd);
}
END_TEST

START_TEST(guest_beyond_credit_is_reset)
{
	int lfd, fd = guest_to_host(&lfd, 65536);
	static char chunk[4096];
	struct vsock_hdr h;

	/* Host never reads: socket buffer + our 256 KiB fill, then RST. */
	bool reset = false;
	for (int i = 0; i < 1024 && !reset; i++) {
		guest_send(VSOCK_OP_RW, 1234, 5000, chunk, sizeof(chunk), 65536, 0, 0);
		while (guest_recv(&h, NULL, 0))
			reset |= h.op == VSOCK_OP_RST;
	}
	ck_assert_msg(reset, "guest ignoring credit was never reset");
	ck_assert_uint_eq(h.dst_port, 1234);
	close(fd);
	close(lfd);
}
END_TEST

START_TEST(credit_request_answered)
{
	int lfd, fd = guest_to_host(&lfd, 65536);
	struct vsock_hdr h;
	guest_send(VSOCK_OP_CREDIT_REQUEST, 1234, 5000, NULL, 0, 65536, 0, 0);
	expect_op(VSOCK_OP_CREDIT_UPDATE, &h);
	ck_assert_uint_eq(h.buf_alloc, VSOCK_BUF_ALLOC);
	ck_assert_uint_eq(h.fwd_cnt, 0);
	close(fd);
	close(lfd);
}
END_TEST

START_TEST(no_listener_is_reset)
{
	struct vsock_hdr h;
	guest_send(VSOCK_OP_REQUEST, 1234, 7777, NULL, 0, 65536, 0, 0);
	expect_op(VSOCK_OP_RST, &h);
	ck_assert_uint_eq(h.src_port, 7777);
	ck_assert_uint_eq(h.dst_port, 1234);
}
END_TEST

START_TEST(malformed_packets)
{
	struct vsock_hdr h;
	/* RW for a connection that does not exist: RST. */
	guest_send(VSOCK_OP_RW, 1, 2, "x", 1, 65536, 0, 0);
	expect_op(VSOCK_OP_RST, &h);
	/* len claims more payload than the chain holds: dropped. */
	uint64_t hdr = fg_alloc(&g, VSOCK_HDR_SIZE);
	struct vsock_hdr bad = { CID, VSOCK_HOST_CID, 1, 2, 1000, VSOCK_TYPE_STREAM,
				 VSOCK_OP_RW, 0, 0, 0 };
	memcpy(fg_host(&g, hdr), &bad, sizeof(bad));
	fr_add_chain(&g, &tx, &hdr, (uint32_t[]){ VSOCK_HDR_SIZE }, (uint16_t[]){ 0 }, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VSOCK_QUEUE_TX);
	/* Spoofed source CID: dropped. Short header: dropped. */
	bad.len = 0;
	bad.src_cid = 99;
	memcpy(fg_host(&g, hdr), &bad, sizeof(bad));
	fr_add_chain(&g, &tx, &hdr, (uint32_t[]){ VSOCK_HDR_SIZE }, (uint16_t[]){ 0 }, 1);
	fr_add_chain(&g, &tx, &hdr, (uint32_t[]){ 20 }, (uint16_t[]){ 0 }, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VSOCK_QUEUE_TX);
	ck_assert(!guest_recv(&h, NULL, 0.3));
	ck_assert_uint_eq(v->n_bad_pkts, 3);
	/* The device keeps working. */
	guest_send(VSOCK_OP_REQUEST, 1234, 7777, NULL, 0, 65536, 0, 0);
	expect_op(VSOCK_OP_RST, &h);
	ck_assert_uint_eq(v->t.needs_reset, false);
}
END_TEST

START_TEST(transport_reset_event)
{
	int lfd, fd = guest_to_host(&lfd, 65536);
	uint64_t ev = fg_alloc(&g, 4);
	*(uint32_t *)fg_host(&g, ev) = 0xffffffff;
	fr_add_chain(&g, &evq, &ev, (uint32_t[]){ 4 }, (uint16_t[]){ VIRTQ_DESC_F_WRITE }, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VSOCK_QUEUE_EVENT);
	usleep(50000);
	virtio_vsock_transport_reset(v);
	uint32_t id, len;
	ck_assert(fr_get_used(&g, &evq, &id, &len));
	ck_assert_uint_eq(len, 4);
	ck_assert_uint_eq(*(uint32_t *)fg_host(&g, ev), VSOCK_EVENT_TRANSPORT_RESET);
	char buf[4];
	ck_assert_int_eq(read_to(fd, buf, sizeof(buf), 2000), 0); /* connection dropped */
	close(fd);
	close(lfd);
}
END_TEST

START_TEST(two_connections_apart)
{
	int lfd, fd1 = guest_to_host(&lfd, 65536);
	struct vsock_hdr h;
	char buf[16];

	guest_send(VSOCK_OP_REQUEST, 1235, 5000, NULL, 0, 65536, 0, 0);
	expect_op(VSOCK_OP_RESPONSE, &h);
	ck_assert_uint_eq(h.dst_port, 1235);
	int fd2 = accept(lfd, NULL, NULL);
	ck_assert_int_ge(fd2, 0);
	guest_send(VSOCK_OP_RW, 1235, 5000, "two", 3, 65536, 0, 0);
	guest_send(VSOCK_OP_RW, 1234, 5000, "one", 3, 65536, 0, 0);
	ck_assert_int_eq(read_to(fd2, buf, sizeof(buf), 2000), 3);
	ck_assert(memcmp(buf, "two", 3) == 0);
	ck_assert_int_eq(read_to(fd1, buf, sizeof(buf), 2000), 3);
	ck_assert(memcmp(buf, "one", 3) == 0);
	ck_assert_int_eq(write(fd2, "B", 1), 1);
	ck_assert(guest_recv(&h, buf, 5));
	ck_assert_uint_eq(h.dst_port, 1235);
	ck_assert_uint_eq(buf[0], 'B');
	close(fd2); /* one side closing leaves the other alone */
	expect_op(VSOCK_OP_SHUTDOWN, &h);
	ck_assert_uint_eq(h.dst_port, 1235);
	ck_assert_int_eq(write(fd1, "A", 1), 1);
	ck_assert(guest_recv(&h, buf, 5));
	ck_assert_uint_eq(h.dst_port, 1234);
	ck_assert_uint_eq(h.op, VSOCK_OP_RW);
	close(fd1);
	close(lfd);
}
END_TEST


/* With event idx the guest kicks for new rx buffers only when it crosses
 * avail_event. A device that ran out of buffers must have asked for that
 * kick (avail_event = its next index): Linux refills the ring without a
 * kick otherwise, and data or a CREDIT_UPDATE for the guest then waits for
 * some unrelated tx packet. Host data also fills every buffer, the last one
 * included (once it was held back: the device checked for a free buffer
 * after popping the last one). */
START_TEST(rx_refill_after_empty_ring_is_kicked)
{
	int lfd, fd = guest_to_host(&lfd, 1u << 20);
	static char data[RX_BUFS * RX_BUF_SIZE + 16384];
	uint32_t ids[RX_BUFS], len, got = 0;
	int n = 0;

	ck_assert_int_eq(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	for (double end = now() + 5; n < RX_BUFS && now() < end;) /* all buffers, none given back */
		if (fr_get_used(&g, &rx, &ids[n], &len)) {
			got += len - VSOCK_HDR_SIZE;
			n++;
		}
	ck_assert_int_eq(n, RX_BUFS);
	for (double end = now() + 2; fr_avail_event(&g, &rx) != rx.avail_idx && now() < end;)
		usleep(200);
	ck_assert_uint_eq(fr_avail_event(&g, &rx), rx.avail_idx);

	/* Refill like the driver: kick only if vring_need_event() says so. */
	uint16_t old = rx.avail_idx, ev = fr_avail_event(&g, &rx);
	for (int i = 0; i < n; i++)
		fr_publish(&g, &rx, (uint16_t)ids[i]);
	ck_assert((uint16_t)(rx.avail_idx - ev - 1) < (uint16_t)(rx.avail_idx - old));
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, VSOCK_QUEUE_RX);
	struct vsock_hdr h;
	while (got < sizeof(data) && guest_recv(&h, NULL, 5))
		got += h.len;
	ck_assert_uint_eq(got, sizeof(data));
	close(fd);
	close(lfd);
}
END_TEST

/* Credit updates grant at least a quarter of the buffer: a slow host
 * reader draining a few KiB at a time must not make the guest send
 * packets that small (silly window syndrome). Pure arithmetic on one
 * connection, counters also across their u32 wrap. */
static bool due(uint32_t base, uint32_t received, uint32_t fwd)
{
	struct vsock_conn c = { .rx_cnt = base + received, .fwd_cnt = base + fwd, .fwd_cnt_told = base };
	return vsock_conn_credit_due(&c);
}

START_TEST(credit_update_no_silly_window)
{
	const uint32_t q = VSOCK_BUF_ALLOC / 4, bases[] = { 0, UINT32_MAX - 1000 };
	for (int i = 0; i < 2; i++) {
		uint32_t b = bases[i];
		ck_assert(!due(b, 4 * q, 0));          /* nothing freed */
		ck_assert(!due(b, 4 * q, 4096));       /* guest stuck at 0: 4 KiB is too little */
		ck_assert(!due(b, 4 * q, q - 1));
		ck_assert(due(b, 4 * q, q));           /* ... a quarter is granted */
		ck_assert(due(b, 4 * q, 4 * q));       /* all drained */
		ck_assert(!due(b, q, q));              /* the guest still sees 3/4 free */
		ck_assert(due(b, 2 * q + 1, q));       /* below half: grant */
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio-vsock");
	TCase *t = tcase_create("device");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 30);
	tcase_add_test(t, guest_connects_to_host);
	tcase_add_test(t, host_connects_to_guest);
	tcase_add_test(t, bad_connect_line_closes);
	tcase_add_test(t, host_respects_guest_credit);
	tcase_add_test(t, credit_update_when_host_drains);
	tcase_add_test(t, guest_beyond_credit_is_reset);
	tcase_add_test(t, credit_request_answered);
	tcase_add_test(t, no_listener_is_reset);
	tcase_add_test(t, malformed_packets);
	tcase_add_test(t, transport_reset_event);
	tcase_add_test(t, two_connections_apart);
	suite_add_tcase(s, t);
	TCase *e = tcase_create("event-idx");
	tcase_add_checked_fixture(e, setup_event_idx, teardown);
	tcase_set_timeout(e, 30);
	tcase_add_test(e, rx_refill_after_empty_ring_is_kicked);
	suite_add_tcase(s, e);
	TCase *a = tcase_create("credit");
	tcase_add_test(a, credit_update_no_silly_window);
	suite_add_tcase(s, a);
	return s;
}

int main(void)
{
	return check_run(suite(), CK_FORK_GETENV);
}

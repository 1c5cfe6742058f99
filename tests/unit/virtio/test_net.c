/* test_net.c - virtio-net against a fake guest driver and a socketpair
 * standing in for passt, on the VMM's real event loop (net_harness.h).
 *
 * Covered: features and config; frames both ways with their 4-byte
 * lengths; a 65534-byte frame over merged rx buffers; a stream cut into
 * tiny writes; backpressure both ways (no rx buffers: the device stops
 * reading and loses nothing; a full socket: tx stalls and resumes); the
 * refusals (short header, offloads asked for, writable tx buffer, frames
 * too large or too small, bad stream lengths, readable rx buffer, a small
 * buffer without MRG_RXBUF); the link going down on EOF and coming back
 * with a new socket. The egress policy is in test_net_egress.c.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_harness.h"
#include "../check_main.h"

static uint8_t big[NET_MAX_FRAME + 64], got[NET_MAX_FRAME + 64];

static void setup(void)
{
	nh_setup(NULL);
}

static void setup_no_rx_buffers(void)
{
	nh_setup(&(struct nh_options){ .no_rx_buffers = true });
}

static void setup_no_mrg(void)
{
	nh_setup(&(struct nh_options){ .no_mrg_rxbuf = true, .rx_buf_size = 2048 });
}

static void teardown(void)
{
	nh_teardown();
}

/* Wait up to 5 s for cond. */
#define WAIT_FOR(cond)                                                          \
	do {                                                                    \
		double end_ = nh_now() + 5;                                     \
		while (!(cond)) {                                               \
			ck_assert_msg(nh_now() < end_, "timed out: %s", #cond); \
			usleep(500);                                            \
		}                                                               \
	} while (0)

static uint64_t device_features(void)
{
	nh_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = nh_rd(VIRTIO_MMIO_DEVICE_FEATURES);
	nh_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return lo | (uint64_t)nh_rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

START_TEST(features_and_config)
{
	uint64_t want = (1ULL << VIRTIO_NET_F_MTU) | (1ULL << VIRTIO_NET_F_MAC) |
			(1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_NET_F_STATUS) |
			(1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_EVENT_IDX) |
			(1ULL << VIRTIO_F_INDIRECT_DESC);
	ck_assert_uint_eq(nh_rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	ck_assert_uint_eq(device_features(), want); /* no offloads, no control queue */
	nh_wr(VIRTIO_MMIO_QUEUE_SEL, 2);
	ck_assert_uint_eq(nh_rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);

	struct virtio_net_config c;
	nh_config(0, &c, sizeof(c));
	ck_assert_mem_eq(c.mac, nh_mac, 6);
	ck_assert_uint_eq(c.status, VIRTIO_NET_S_LINK_UP);
	ck_assert_uint_eq(c.mtu, 65520);
	ck_assert_uint_eq(c.max_virtqueue_pairs, 1);
	uint16_t mtu;
	nh_config(10, &mtu, 2); /* a field on its own */
	ck_assert_uint_eq(mtu, 65520);
	uint32_t beyond = 0xdeadbeef;
	nh_config(sizeof(c), &beyond, 4);
	ck_assert_uint_eq(beyond, 0);

	/* A driver asking for checksum offload (GUEST_CSUM) is refused. */
	nh_wr(VIRTIO_MMIO_STATUS, 0);
	nh_wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	nh_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	nh_wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << 1);
	nh_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	nh_wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	nh_wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(nh_rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);
}
END_TEST

START_TEST(guest_frame_reaches_passt)
{
	uint8_t f[200];
	for (int nseg = 1; nseg <= 3; nseg++) {
		nh_frame(f, 60 + nseg, (uint32_t)nseg);
		nh_queue_tx(NULL, f, 60 + nseg, nseg);
		nh_kick_tx();
		long n = nh_passt_recv(nh_passt, got, sizeof(got), 5000);
		ck_assert_int_eq(n, 60 + nseg);
		ck_assert(nh_frame_is(got, 60 + nseg, (uint32_t)nseg));
	}
	WAIT_FOR(nh_tx_used() == 3);
	struct virtio_net_stats s = nh_stats();
	ck_assert_uint_eq(s.tx_frames, 3);
	ck_assert_uint_eq(s.tx_bytes, 61 + 62 + 63);
}
END_TEST

START_TEST(passt_frame_reaches_guest)
{
	uint8_t f[100];
	uint16_t nb;
	nh_frame(f, sizeof(f), 7);
	nh_passt_send(nh_passt, f, sizeof(f));
	ck_assert_int_eq(nh_recv(got, sizeof(got), 5, &nb), sizeof(f));
	ck_assert_uint_eq(nb, 1);
	ck_assert(nh_frame_is(got, sizeof(f), 7));
	ck_assert_uint_eq(nh_stats().rx_frames, 1);
	ck_assert_uint_eq(nh_stats().rx_bytes, sizeof(f));
}
END_TEST

/* 65534 bytes + header over 4 KiB buffers: 17 of them, used together. */
START_TEST(largest_frame_spans_merged_buffers)
{
	uint16_t nb;
	nh_frame(big, NET_MAX_FRAME, 1);
	nh_passt_send(nh_passt, big, NET_MAX_FRAME);
	ck_assert_int_eq(nh_recv(got, sizeof(got), 5, &nb), NET_MAX_FRAME);
	ck_assert_uint_eq(nb, (NET_MAX_FRAME + NET_HDR_SIZE + NH_RX_BUF_SIZE - 1) / NH_RX_BUF_SIZE);
	ck_assert(nh_frame_is(got, NET_MAX_FRAME, 1));
	/* and the same size the other way */
	nh_send(big, NET_MAX_FRAME);
	ck_assert_int_eq(nh_passt_recv(nh_passt, got, sizeof(got), 5000), NET_MAX_FRAME);
	ck_assert(nh_frame_is(got, NET_MAX_FRAME, 1));
}
END_TEST

START_TEST(stream_in_tiny_writes)
{
	static uint8_t stream[3 * 1600];
	size_t len = 0;
	for (uint32_t seq = 0; seq < 3; seq++) {
		uint32_t fl = 1000 + 200 * seq;
		uint8_t *p = stream + len;
		p[0] = p[1] = 0;
		p[2] = (uint8_t)(fl >> 8);
		p[3] = (uint8_t)fl;
		nh_frame(p + 4, fl, seq);
		len += 4 + fl;
	}
	for (size_t off = 0, k = 1; off < len; off += k, k = k % 5 + 1) {
		size_t n = off + k > len ? len - off : k;
		nh_write_all(nh_passt, stream + off, n);
		if (off % 97 == 0)
			usleep(100); /* let the device read the pieces as they come */
	}
	for (uint32_t seq = 0; seq < 3; seq++) {
		ck_assert_int_eq(nh_recv(got, sizeof(got), 5, NULL), 1000 + 200 * seq);
		ck_assert(nh_frame_is(got, 1000 + 200 * seq, seq));
	}
	ck_assert_int_eq(nh_recv(got, sizeof(got), 0.2, NULL), -1);
}
END_TEST

/* ---- backpressure ---- */

#define BP_FRAMES 100
#define BP_LEN 8000

static volatile int frames_written;

static void *passt_writer(void *arg)
{
	static uint8_t f[BP_LEN];
	for (uint32_t seq = 0; seq < BP_FRAMES; seq++) {
		nh_frame(f, BP_LEN, seq);
		nh_passt_send(nh_passt, f, BP_LEN);
		__atomic_store_n(&frames_written, (int)seq + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* No rx buffers: the device stops reading (passt's writes block) and,
 * once buffers come, every frame arrives, in order. */
START_TEST(rx_waits_for_guest_buffers)
{
	pthread_t w;
	frames_written = 0;
	ck_assert_int_eq(pthread_create(&w, NULL, passt_writer, NULL), 0);
	WAIT_FOR(nh_stats().rx_waits >= 1);
	usleep(300000);
	int written = __atomic_load_n(&frames_written, __ATOMIC_ACQUIRE);
	ck_assert_int_lt(written, BP_FRAMES); /* the socket is full: passt blocks */
	ck_assert_uint_eq(nh_stats().rx_frames, 0);

	nh_post_rx_range(0, NH_RX_BUFS);
	for (uint32_t seq = 0; seq < BP_FRAMES; seq++) {
		ck_assert_int_eq(nh_recv(got, sizeof(got), 5, NULL), BP_LEN);
		ck_assert_msg(nh_frame_is(got, BP_LEN, seq), "frame %u", seq);
	}
	pthread_join(w, NULL);
	ck_assert_uint_eq(nh_stats().rx_frames, BP_FRAMES);
}
END_TEST

#define TX_FRAMES 40
#define TX_PAYLOAD 60000

/* passt does not read: tx stalls (chains stay with the device, unused)
 * and resumes once it reads; every frame arrives, in order. */
START_TEST(tx_stalls_on_full_socket)
{
	nh_new_backend(16384);
	uint64_t payload = fg_alloc(&nh_g, TX_PAYLOAD);
	memset(fg_host(&nh_g, payload), 0x5a, TX_PAYLOAD);
	for (uint32_t seq = 0; seq < TX_FRAMES; seq++) {
		uint64_t head = fg_alloc(&nh_g, NET_HDR_SIZE + 18);
		memset(fg_host(&nh_g, head), 0, NET_HDR_SIZE);
		nh_frame(fg_host(&nh_g, head + NET_HDR_SIZE), 18, seq);
		fr_add_chain(&nh_g, &nh_tx, (uint64_t[]){ head, payload },
			     (uint32_t[]){ NET_HDR_SIZE + 18, TX_PAYLOAD }, (uint16_t[]){ 0, 0 }, 2);
	}
	nh_kick_tx();
	WAIT_FOR(nh_stats().tx_stalls >= 1);
	usleep(200000);
	uint32_t used = nh_tx_used();
	ck_assert_uint_lt(used, TX_FRAMES / 2);

	for (uint32_t seq = 0; seq < TX_FRAMES; seq++) {
		long n = nh_passt_recv(nh_passt, got, sizeof(got), 5000);
		ck_assert_int_eq(n, 18 + TX_PAYLOAD);
		ck_assert_msg(nh_frame_is(got, 18, seq), "frame %u", seq);
		ck_assert_uint_eq(got[18 + TX_PAYLOAD - 1], 0x5a);
	}
	WAIT_FOR(nh_tx_used() == TX_FRAMES);
	ck_assert_uint_eq(nh_stats().tx_frames, TX_FRAMES);
}
END_TEST

/* ---- refusals ---- */

/* Nothing reaches passt for a while. */
static void passt_hears_nothing(void)
{
	ck_assert_int_eq(nh_passt_recv(nh_passt, got, sizeof(got), 200), -1);
}

START_TEST(malformed_tx_frames_dropped)
{
	uint8_t f[100];
	nh_frame(f, sizeof(f), 3);
	uint64_t shorthdr = fg_alloc(&nh_g, 8);
	fr_add_chain(&nh_g, &nh_tx, &shorthdr, (uint32_t[]){ 8 }, (uint16_t[]){ 0 }, 1);
	nh_queue_tx(&(struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM }, f,
		    sizeof(f), 2);
	nh_queue_tx(&(struct virtio_net_hdr){ .gso_type = 1 /* TCPV4 */ }, f, sizeof(f), 1);
	nh_queue_tx(NULL, f, 13, 1);                          /* under an Ethernet header */
	nh_kick_tx();
	WAIT_FOR(nh_tx_used() == 4);
	nh_frame(big, NET_MAX_FRAME + 1, 4);
	nh_send(big, NET_MAX_FRAME + 1);                     /* over the MTU */
	passt_hears_nothing();
	struct virtio_net_stats s = nh_stats();
	ck_assert_uint_eq(s.tx_drop_malformed, 4);
	ck_assert_uint_eq(s.tx_drop_oversize, 1);
	ck_assert_uint_eq(s.tx_frames, 0);
	nh_send(f, sizeof(f));                                /* still working */
	ck_assert_int_eq(nh_passt_recv(nh_passt, got, sizeof(got), 5000), sizeof(f));
	ck_assert(nh_frame_is(got, sizeof(f), 3));
	ck_assert_uint_eq(nh_rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}
END_TEST

START_TEST(writable_tx_buffer_needs_reset)
{
	uint64_t b = fg_alloc(&nh_g, 100);
	nh_frame(fg_host(&nh_g, b + NET_HDR_SIZE), 80, 1);
	nh_wr(VIRTIO_MMIO_INTERRUPT_ACK, nh_rd(VIRTIO_MMIO_INTERRUPT_STATUS));
	fr_add_chain(&nh_g, &nh_tx, (uint64_t[]){ b, b + 50 }, (uint32_t[]){ 50, 50 },
		     (uint16_t[]){ 0, VIRTQ_DESC_F_WRITE }, 2);
	nh_kick_tx();
	WAIT_FOR(nh_rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert(nh_rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	passt_hears_nothing();
	/* The driver resets the device; the backend stays. */
	nh_wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(nh_rd(VIRTIO_MMIO_STATUS), 0);
	ck_assert(virtio_net_link(nh_dev));
}
END_TEST

/* An rx chain with a device-readable buffer before its writable one: the
 * device needs a reset. */
START_TEST(readable_rx_buffer_needs_reset)
{
	uint8_t f[64];
	fr_set_desc(&nh_g, nh_rx.desc, 0, fg_alloc(&nh_g, 64), 64, VIRTQ_DESC_F_NEXT, 1);
	fr_set_desc(&nh_g, nh_rx.desc, 1, fg_alloc(&nh_g, 4096), 4096, VIRTQ_DESC_F_WRITE, 0);
	nh_post_rx(0);
	nh_frame(f, sizeof(f), 1);
	nh_passt_send(nh_passt, f, sizeof(f));
	WAIT_FOR(nh_rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(nh_stats().rx_frames, 0);
}
END_TEST

/* A frame needing two buffers when one is posted: the device takes none
 * (the one goes back to the ring), waits, and uses both once the second
 * comes, in ring order. */
START_TEST(rx_waits_for_enough_buffers)
{
	static uint8_t f[6000];
	uint16_t nb;
	nh_post_rx(0);
	nh_frame(f, sizeof(f), 4);
	nh_passt_send(nh_passt, f, sizeof(f));
	WAIT_FOR(nh_stats().rx_waits >= 1);
	uint32_t id, len;
	ck_assert(!fr_get_used(&nh_g, &nh_rx, &id, &len));
	nh_post_rx(1);
	ck_assert_int_eq(nh_recv(got, sizeof(got), 5, &nb), sizeof(f));
	ck_assert_uint_eq(nb, 2);
	ck_assert(nh_frame_is(got, sizeof(f), 4));
	ck_assert_uint_eq(nh_dev->t.vq[NET_QUEUE_RX].used_idx, 2);
}
END_TEST

/* Stream lengths over the largest frame or under a header are skipped,
 * their bytes discarded, and the stream stays in step. */
START_TEST(bad_stream_lengths_skipped)
{
	uint8_t f[300];
	uint8_t huge[4] = { 0, 1, 0x11, 0x70 }; /* 70000 */
	nh_write_all(nh_passt, huge, 4);
	memset(big, 0xee, 40000); /* its bytes, which must not show up */
	nh_write_all(nh_passt, big, 40000);
	nh_write_all(nh_passt, big, 30000);
	uint8_t tiny[4 + 5] = { 0, 0, 0, 5, 1, 2, 3, 4, 5 };
	nh_write_all(nh_passt, tiny, sizeof(tiny));
	nh_frame(f, sizeof(f), 9);
	nh_passt_send(nh_passt, f, sizeof(f));
	ck_assert_int_eq(nh_recv(got, sizeof(got), 5, NULL), sizeof(f));
	ck_assert(nh_frame_is(got, sizeof(f), 9));
	ck_assert_uint_eq(nh_stats().rx_drop_bad_length, 2);
	ck_assert_int_eq(nh_recv(got, sizeof(got), 0.2, NULL), -1);
}
END_TEST

/* Without MRG_RXBUF a frame must fit one buffer: the 1500-byte one is
 * dropped, its buffer left for the next frame, which fits. */
START_TEST(no_mrg_rxbuf_frame_too_big_dropped)
{
	uint8_t f[3000];
	uint16_t nb;
	nh_frame(f, 2500, 1);
	nh_passt_send(nh_passt, f, 2500);
	nh_frame(f, 1500, 2);
	nh_passt_send(nh_passt, f, 1500);
	ck_assert_int_eq(nh_recv(got, sizeof(got), 5, &nb), 1500);
	ck_assert_uint_eq(nb, 1);
	ck_assert(nh_frame_is(got, 1500, 2));
	ck_assert_uint_eq(nh_stats().rx_drop_small_buffer, 1);
	ck_assert_uint_eq(nh_stats().rx_frames, 1);
}
END_TEST

/* ---- link state ---- */

START_TEST(eof_takes_link_down_and_attach_brings_it_back)
{
	uint8_t f[120], half[4 + 60] = { 0, 0, 0, 120 };
	uint16_t status;
	nh_wr(VIRTIO_MMIO_INTERRUPT_ACK, nh_rd(VIRTIO_MMIO_INTERRUPT_STATUS));
	uint32_t gen = nh_rd(VIRTIO_MMIO_CONFIG_GENERATION);

	nh_write_all(nh_passt, half, sizeof(half)); /* half a frame, then passt dies */
	close(nh_passt);
	nh_passt = -1;
	WAIT_FOR(!virtio_net_link(nh_dev));
	nh_config(6, &status, 2);
	ck_assert_uint_eq(status & VIRTIO_NET_S_LINK_UP, 0);
	ck_assert(nh_rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_ne(nh_rd(VIRTIO_MMIO_CONFIG_GENERATION), gen);
	nh_frame(f, sizeof(f), 1);
	nh_send(f, sizeof(f)); /* no carrier: dropped, the chain returned */
	ck_assert_uint_eq(nh_stats().tx_drop_link_down, 1);
	ck_assert_uint_eq(nh_stats().link_downs, 1);

	nh_wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	int passt = nh_new_backend(0);
	ck_assert(virtio_net_link(nh_dev));
	nh_config(6, &status, 2);
	ck_assert_uint_eq(status, VIRTIO_NET_S_LINK_UP);
	ck_assert(nh_rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	/* The new stream starts clean: no trace of the old half frame. */
	nh_frame(f, sizeof(f), 2);
	nh_passt_send(passt, f, sizeof(f));
	ck_assert_int_eq(nh_recv(got, sizeof(got), 5, NULL), sizeof(f));
	ck_assert(nh_frame_is(got, sizeof(f), 2));
	nh_send(f, sizeof(f));
	ck_assert_int_eq(nh_passt_recv(passt, got, sizeof(got), 5000), sizeof(f));
	ck_assert_uint_eq(nh_stats().link_ups, 2);
}
END_TEST

START_TEST(detach_and_replace)
{
	uint8_t f[80];
	int old = nh_passt;
	int keep = dup(old);
	nh_new_backend(0); /* replaces: the old socket is closed by the device */
	char c;
	ck_assert_int_eq(read(keep, &c, 1), 0);
	close(keep);
	nh_frame(f, sizeof(f), 5);
	nh_send(f, sizeof(f));
	ck_assert_int_eq(nh_passt_recv(nh_passt, got, sizeof(got), 5000), sizeof(f));
	virtio_net_detach(nh_dev);
	ck_assert(!virtio_net_link(nh_dev));
	ck_assert_int_eq(read(nh_passt, &c, 1), 0); /* closed */
}
END_TEST

START_TEST(attach_refuses_bad_fd)
{
	struct vm_err err = { { 0 } };
	ck_assert_int_eq(virtio_net_attach(nh_dev, 1000, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "virtio-net: backend fd 1000"));
	ck_assert(virtio_net_link(nh_dev)); /* the attached one stays */
}
END_TEST

START_TEST(init_refuses_multicast_mac)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	struct vm_err err = { { 0 } };
	const uint8_t mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 }, zero[6] = { 0 };
	ck_assert_int_eq(virtio_net_init(n, &nh_g.mem, mcast, NULL, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "01:00:5e:00:00:01 is not a unicast"));
	ck_assert_int_eq(virtio_net_init(n, &nh_g.mem, zero, NULL, &err), -1);
	free(n);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio-net");
	TCase *t = tcase_create("device");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, features_and_config);
	tcase_add_test(t, guest_frame_reaches_passt);
	tcase_add_test(t, passt_frame_reaches_guest);
	tcase_add_test(t, largest_frame_spans_merged_buffers);
	tcase_add_test(t, stream_in_tiny_writes);
	tcase_add_test(t, tx_stalls_on_full_socket);
	tcase_add_test(t, malformed_tx_frames_dropped);
	tcase_add_test(t, writable_tx_buffer_needs_reset);
	tcase_add_test(t, bad_stream_lengths_skipped);
	tcase_add_test(t, eof_takes_link_down_and_attach_brings_it_back);
	tcase_add_test(t, detach_and_replace);
	tcase_add_test(t, attach_refuses_bad_fd);
	tcase_add_test(t, init_refuses_multicast_mac);
	suite_add_tcase(s, t);
	TCase *b = tcase_create("no-rx-buffers");
	tcase_add_checked_fixture(b, setup_no_rx_buffers, teardown);
	tcase_set_timeout(b, 60);
	tcase_add_test(b, rx_waits_for_guest_buffers);
	tcase_add_test(b, readable_rx_buffer_needs_reset);
	tcase_add_test(b, rx_waits_for_enough_buffers);
	suite_add_tcase(s, b);
	TCase *m = tcase_create("no-mrg-rxbuf");
	tcase_add_checked_fixture(m, setup_no_mrg, teardown);
	tcase_set_timeout(m, 60);
	tcase_add_test(m, no_mrg_rxbuf_frame_too_big_dropped);
	suite_add_tcase(s, m);
	return s;
}

int main(void)
{
	return check_run(suite(), CK_FORK_GETENV);
}

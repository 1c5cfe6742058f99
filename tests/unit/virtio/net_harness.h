/* net_harness.h - virtio-net as in the VMM, for the test_net* tests.
 *
 * The device runs on the VMM's real event loop in a thread of its own,
 * with eventfds for its queue kicks and interrupt line. The test thread
 * plays both ends of the wire: the guest's driver (rings and buffers in a
 * fake guest RAM, register writes through virtio_mmio_access) and passt
 * (the other end of a socketpair, speaking the length-prefixed stream).
 *
 * The guest brings the device up like Linux: VERSION_1, MAC, MTU, STATUS,
 * EVENT_IDX and (unless asked not to) MRG_RXBUF; an rx ring of NH_RX_RING
 * entries with NH_RX_BUFS buffers of NH_RX_BUF_SIZE bytes, descriptor i
 * for buffer i; a tx ring of NH_TX_RING entries.
 */
#ifndef SM_TEST_NET_HARNESS_H
#define SM_TEST_NET_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/vm/virtio/net.h"
#include "fake_guest.h"

#define NH_RX_RING     64
#define NH_RX_BUFS     32
#define NH_RX_BUF_SIZE 4096
#define NH_TX_RING     256

extern struct fake_guest nh_g;
extern struct fake_ring nh_rx, nh_tx;
extern struct virtio_net *nh_dev;
extern int nh_passt; /* our end of the socketpair; blocking */
extern const uint8_t nh_mac[6];

struct nh_options {
	bool no_mrg_rxbuf;   /* do not negotiate MRG_RXBUF */
	bool no_rx_buffers;  /* post no rx buffers at start */
	uint32_t rx_buf_size; /* 0: NH_RX_BUF_SIZE */
};

/* Device up and attached to a fresh socketpair, buffers posted. */
void nh_setup(const struct nh_options *o);
void nh_teardown(void);

double nh_now(void);
/* Register access. */
void nh_wr(uint64_t off, uint32_t val);
uint32_t nh_rd(uint64_t off);
/* len bytes of the config space at off. */
void nh_config(uint32_t off, void *out, uint32_t len);
struct virtio_net_stats nh_stats(void);

/* A new socketpair: one end attached to the device (the old one goes),
 * the other returned (and kept in nh_passt). sndbuf > 0 shrinks the
 * device end's send buffer first. */
int nh_new_backend(int sndbuf);

/* --- guest --- */
/* Publish rx buffer i (descriptor i) and kick the rx queue. */
void nh_post_rx(uint16_t i);
/* Post rx buffers first..first+n-1, kicking once. */
void nh_post_rx_range(uint16_t first, uint16_t n);
/* Queue a tx chain: the header h (NULL: all zero) then the frame, in
 * nseg descriptors (1: header and frame in one buffer). No kick. */
void nh_queue_tx(const struct virtio_net_hdr *h, const void *frame, uint32_t len, int nseg);
void nh_kick_tx(void);
/* Queue, kick, and wait for the chain to be used (used len must be 0). */
void nh_send(const void *frame, uint32_t len);
/* Used tx chains taken so far (reads all new used entries). */
uint32_t nh_tx_used(void);
/* The next frame for the guest within timeout seconds: its length, or -1.
 * Checks the header (flags 0, GSO none), that all num_buffers buffers were
 * used together and all but the last completely, then posts them again. */
long nh_recv(void *frame, size_t cap, double timeout, uint16_t *num_buffers);
/* Reuse tx scratch memory (call between independent sends). */
void nh_recycle_tx(void);

/* --- passt --- */
/* Write one frame with its 4-byte big-endian length. */
void nh_passt_send(int fd, const void *frame, uint32_t len);
/* Read one frame within timeout_ms: its length, or -1 on timeout. */
long nh_passt_recv(int fd, void *frame, size_t cap, int timeout_ms);
/* Write exactly len bytes (blocking). */
void nh_write_all(int fd, const void *p, size_t len);

/* A test frame of len bytes (>= 18): Ethernet header from the VM's MAC,
 * then seq (big-endian) and a pattern derived from seq. */
void nh_frame(uint8_t *buf, uint32_t len, uint32_t seq);
/* Does buf hold nh_frame(len, seq)? */
bool nh_frame_is(const uint8_t *buf, uint32_t len, uint32_t seq);

#endif

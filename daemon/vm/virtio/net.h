/* net.h - virtio-net (device id 1) with passt's stream as its wire.
 *
 * The guest's network card. Queues: rx (0) holds guest buffers we fill
 * with frames for the guest, tx (1) the frames it sends; no control queue.
 * Each frame is preceded by the 12-byte virtio_net_hdr (virtio 1.x 5.1.6)
 * in both directions. Features offered: MAC, MTU (65520, passt's), STATUS
 * (link up while a backend socket is attached; a change raises a config
 * interrupt) and MRG_RXBUF (a frame may span several rx buffers, the
 * count in num_buffers); the transport adds VERSION_1, EVENT_IDX and
 * INDIRECT_DESC. No checksum or segmentation offloads: the guest sends
 * complete frames with their checksums, and we give it the same.
 *
 * The backend is a connected Unix stream socket speaking passt's "qemu"
 * protocol (QEMU's -netdev stream): each frame is a 4-byte big-endian
 * length, then the frame. The VMM hands us the socket (attach, or
 * connect: socket, policy and MAC at once, for NET_ATTACH); if it
 * reaches EOF or fails, the link goes down and the device keeps working
 * (tx frames are dropped, rx waits) until the VMM attaches another one.
 *
 * Guest -> backend (net_tx.c): every tx chain is checked (device-readable
 * only, a whole header, no offload asked for, a frame of 14..MTU+14
 * bytes), then decided by the optional egress policy (daemon/net): ALLOW
 * appends it to a bounded buffer written to the socket, DROP counts it,
 * REJECT counts it and queues the reply net_reply_build() makes for the
 * guest's rx queue (a token bucket bounds their rate). While that buffer
 * cannot take another frame of the largest size we stop taking tx chains
 * and wait for the socket to drain (EPOLLOUT): backpressure on the guest.
 *
 * Backend -> guest (net_rx.c): the stream is read into a reassembly
 * buffer; each whole frame is copied into as many rx buffers as it needs
 * (one without MRG_RXBUF), all returned to the guest at once. With no rx
 * buffer left we stop reading the socket (EPOLLIN off) until the guest
 * posts more: backpressure on passt, nothing is dropped. Replies to
 * REJECTed frames go first. A UDP datagram to one of the policy's served
 * ports records its sender (egress_peers.h), so the guest's answers to
 * it pass the policy.
 *
 * Everything runs on the device thread (or the caller of the API) with
 * the transport lock held (mmio.h). Files: net.c the device (config,
 * features, ops, API), net_backend.c the socket (attach, events, link
 * state), net_tx.c, net_rx.c, net_dump.c (SIGUSR2), net_persist.c.
 */
#ifndef SM_VIRTIO_NET_H
#define SM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/net/egress_peers.h"
#include "daemon/net/egress_policy.h"
#include "daemon/net/net_reply.h"
#include "daemon/vm/event_loop.h"
#include "daemon/vm/virtio/mmio.h"
#include "daemon/vm/vm_err.h"

#define VIRTIO_ID_NET 1

#define NET_QUEUE_RX   0
#define NET_QUEUE_TX   1
#define NET_QUEUE_SIZE 256

/* Device feature bits (virtio 1.x 5.1.3). */
#define VIRTIO_NET_F_MTU       3
#define VIRTIO_NET_F_MAC       5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS    16

#define VIRTIO_NET_S_LINK_UP 1
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_GSO_NONE 0

#define NET_MTU        65520                   /* passt's default */
#define NET_MAX_FRAME  (NET_MTU + NET_ETH_HLEN) /* 65534: the largest frame either way */
#define NET_HDR_SIZE   12                      /* struct virtio_net_hdr (v1) */
#define NET_STREAM_LEN 4                       /* the stream's length prefix */
#define NET_STREAM_MAX (NET_STREAM_LEN + NET_MAX_FRAME)
/* Each direction buffers up to four of the largest frames. */
#define NET_BUF_SIZE   (4 * NET_STREAM_MAX)

/* Replies to REJECTed frames: at most this many waiting for rx buffers,
 * and at most NET_REPLY_RATE a second after a burst of NET_REPLY_BURST. */
#define NET_REPLY_QUEUE 16
#define NET_REPLY_RATE  200
#define NET_REPLY_BURST 50

struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

/* The config space (virtio 1.x 5.1.4), as far as our features reach. */
struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

struct virtio_net_stats {
	uint64_t tx_frames, tx_bytes;   /* guest -> backend, put on the stream */
	uint64_t rx_frames, rx_bytes;   /* backend -> guest, given to the guest */
	uint64_t tx_drop_policy;        /* egress DROP */
	uint64_t tx_rejects;            /* egress REJECT (not sent) */
	uint64_t tx_replies;            /* replies given to the guest */
	uint64_t tx_replies_limited;    /* REJECTs left unanswered: rate or queue full */
	uint64_t tx_drop_link_down;     /* sent while no backend was attached */
	uint64_t tx_drop_malformed;     /* header short, offloads asked for, < 14 bytes */
	uint64_t tx_drop_oversize;      /* over NET_MAX_FRAME */
	uint64_t tx_stalls;             /* times tx stopped for a full socket */
	uint64_t rx_drop_bad_length;    /* stream frames over NET_MAX_FRAME or under 14 */
	uint64_t rx_drop_small_buffer;  /* no MRG_RXBUF and the rx buffer too small */
	uint64_t rx_waits;              /* times rx stopped for want of guest buffers */
	uint64_t link_ups, link_downs;
	uint64_t mac_changes;           /* NET_ATTACH gave another MAC */
	uint64_t notifications, interrupts; /* the transport's (filled by virtio_net_stats) */
};

struct virtio_net;
/* Event loop cookie for one attached socket: events from an older socket
 * (still in the loop's batch when it was replaced) carry an older gen. */
struct net_backend_watch {
	struct virtio_net *n;
	uint32_t gen;
};

struct net_reply {
	uint16_t len;
	uint8_t data[NET_REPLY_MAX];
};

struct virtio_net {
	struct virtio_mmio t;
	uint8_t mac[6];
	bool link_up;               /* config status: a backend is attached */
	struct event_loop *loop;    /* NULL: the socket is not watched (tests) */
	struct egress_policy *policy; /* NULL: every frame may leave */

	/* The backend socket. */
	int fd;                     /* -1: none */
	uint32_t events;            /* epoll events registered */
	bool watched;
	uint32_t backend_gen;
	struct net_backend_watch watch[2]; /* [gen % 2] */
	char down_reason[64];       /* why the link last went down */

	/* Guest -> backend: stream bytes not yet written, [tx_head, +tx_len). */
	uint8_t *tx_buf;
	uint32_t tx_head, tx_len;
	bool tx_stalled;            /* tx chains wait for the socket to drain */

	/* Backend -> guest: stream bytes read, not yet given to the guest. */
	uint8_t *rx_buf;
	uint32_t rx_head, rx_len;
	uint32_t rx_skip;           /* bytes of a refused frame still to discard */
	bool rx_readable;           /* the socket may have bytes (EPOLLIN seen) */
	bool rx_blocked;            /* a frame waits for guest rx buffers */

	/* Replies owed to the guest for REJECTed frames (FIFO). */
	struct net_reply reply[NET_REPLY_QUEUE];
	uint32_t reply_head, nreply;
	int64_t reply_tokens_milli; /* token bucket, in thousandths */
	int64_t reply_refill_ns;    /* when tokens were last added */

	/* Who sent UDP to the policy's served ports lately (net_rx.c fills
	 * it, net_tx.c lets answers to them out); cleared by a reset or a
	 * restore. */
	struct egress_peers peers;

	struct vq_chain chain, rx_first;
	uint16_t heads[VQ_MAX_SIZE];
	uint32_t lens[VQ_MAX_SIZE];
	struct virtio_net_stats stats;
};

extern const struct virtio_dev_ops virtio_net_ops;

/* --- The API the VMM calls. --- */

/* Set up the device with this MAC (unicast, not zero), its link down.
 * loop may be NULL in tests that drive the handlers directly. 0, or -1
 * with err. */
int virtio_net_init(struct virtio_net *n, const struct guest_mem *mem, const uint8_t mac[6],
		    struct event_loop *loop, struct vm_err *err);
/* Close the backend, free the buffers and the policy. */
void virtio_net_destroy(struct virtio_net *n);
/* Give the device a connected Unix stream socket to passt (ownership
 * passes, also on failure; it is made non-blocking); one attached before
 * is closed. The link goes up (config interrupt). Takes the transport
 * lock. Uses only system calls the jail allows. 0, or -1 with err. */
int virtio_net_attach(struct virtio_net *n, int fd, struct vm_err *err);
/* Close the backend: the link goes down (config interrupt). Takes the lock. */
void virtio_net_detach(struct virtio_net *n);
/* NET_ATTACH's device half (daemon/vm/net_attach.h): at once, under the
 * lock, decide every later tx frame by a copy of p, take p->vm_mac as the
 * MAC (if it differs: the config space shows it, a config change
 * interrupt tells the guest, *mac_changed is set, later snapshots record
 * it) and attach fd as virtio_net_attach does. Ownership of fd passes,
 * also on failure. 0, or -1 with err and nothing changed. */
int virtio_net_connect(struct virtio_net *n, int fd, const struct egress_policy *p,
		       bool *mac_changed, struct vm_err *err);
/* Decide every later tx frame by a copy of p (NULL: allow all). Takes the
 * lock. 0, or -1 with err (out of memory). */
int virtio_net_set_policy(struct virtio_net *n, const struct egress_policy *p,
			  struct vm_err *err);
/* Is a backend attached (the guest sees link up)? Takes the lock. */
bool virtio_net_link(struct virtio_net *n);
/* The counters, with the transport's notifications and interrupts. Takes the lock. */
void virtio_net_stats(struct virtio_net *n, struct virtio_net_stats *s);
/* Device state and counters on stderr (virtio_dev_ops.dump; net_dump.c). */
void virtio_net_dump(void *dev);

/* Snapshots (net_persist.c), with n->t.lock held. Section "VNET": the
 * transport, the MAC and whether the link was up. The backend does not
 * survive: restore leaves n unchanged on any failure, and otherwise
 * closes any socket n had; the link is down (the guest is told if it saw
 * it up) until the VMM attaches a new one. n keeps its own MAC (the one
 * it was made with): if the snapshot's differs, the guest gets a config
 * change interrupt (net_persist.c says what it does not do). */
struct snap_writer;
struct snap_reader;
void virtio_net_save(const struct virtio_net *n, struct snap_writer *w);
bool virtio_net_restore(struct virtio_net *n, struct snap_reader *r);

/* --- Inside the device, with n->t.lock held. --- */

/* net_backend.c: the socket. */
/* Event loop callback for the backend socket (opaque: a net_backend_watch). */
void net_on_backend(void *opaque, uint32_t events);
/* Close the socket and drop both streams; the link goes down (config
 * interrupt if it was up). why is logged and kept for the dump. */
void net_link_down(struct virtio_net *n, const char *why);
/* Register the epoll events the state calls for (see net_backend.c). */
void net_update_events(struct virtio_net *n);
/* Write buffered tx bytes without blocking; a socket error takes the link down. */
void net_tx_flush(struct virtio_net *n);
/* Read what the socket has into the rx buffer's free space: bytes read,
 * 0 would block, -1 the link went down (EOF or an error). */
int net_rx_read(struct virtio_net *n);

/* net_tx.c: take the guest's tx chains (until the ring is empty, a budget
 * is spent, or the socket is full). */
void net_tx_process(struct virtio_net *n);
/* Answer a REJECTed frame (f parsed from frame), rate limit permitting. */
void net_tx_queue_reply(struct virtio_net *n, const uint8_t *frame, uint32_t len,
			const struct net_frame *f);

/* net_rx.c: give the guest replies, then stream frames, while it has rx
 * buffers (reading the socket as needed). */
void net_rx_pump(struct virtio_net *n);
/* Forget guest-side work in flight and the recent UDP peers of served
 * ports (device reset, restore). */
void net_rx_forget(struct virtio_net *n);

#endif

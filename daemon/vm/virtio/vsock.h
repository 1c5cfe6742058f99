/* vsock.h - virtio-vsock (device id 19) with the host side on Unix sockets.
 *
 * The guest's AF_VSOCK stream sockets reach the host the way Firecracker's
 * "hybrid vsock" does:
 *   host -> guest: connect to the VM's socket (uds_path), send
 *                  "CONNECT <port>\n", read "OK <host_port>\n", then the
 *                  connection is a byte stream to the guest's listener.
 *   guest -> host: the guest connects to (CID 2, port P); we connect to the
 *                  Unix socket "<uds_path>_P" and relay bytes.
 * Flow control is the spec's credit scheme in both directions: we never read
 * more from a host socket than the guest has room for (peer buf_alloc -
 * (tx_cnt - peer fwd_cnt)), and we buffer at most VSOCK_BUF_ALLOC bytes per
 * connection for the guest->host direction, which is exactly the credit we
 * advertise; a guest that sends beyond it is reset.
 *
 * Files: vsock_conn.c is one connection (packet header, credit arithmetic,
 * the guest->host byte buffer); vsock_host.c is the Unix-socket side
 * (listener, CONNECT line, connecting to <uds_path>_P); vsock.c is the
 * device (queues, packet dispatch, event queue). All of it runs on the
 * device thread with the transport lock held.
 */
#ifndef SM_VIRTIO_VSOCK_H
#define SM_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/vm/event_loop.h"
#include "daemon/vm/virtio/mmio.h"
#include "daemon/vm/vm_err.h"

#define VIRTIO_ID_VSOCK 19

#define VSOCK_QUEUE_RX    0
#define VSOCK_QUEUE_TX    1
#define VSOCK_QUEUE_EVENT 2
#define VSOCK_QUEUE_SIZE  256

#define VSOCK_HOST_CID    2
#define VSOCK_TYPE_STREAM 1

enum vsock_op {
	VSOCK_OP_INVALID = 0,
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};

#define VSOCK_SHUTDOWN_RCV  1
#define VSOCK_SHUTDOWN_SEND 2

#define VSOCK_EVENT_TRANSPORT_RESET 0

struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

#define VSOCK_HDR_SIZE   44
#define VSOCK_BUF_ALLOC  (256 * 1024) /* bytes we buffer (and advertise) per connection */
#define VSOCK_MAX_CONNS  128
#define VSOCK_LINE_MAX   32           /* "CONNECT 4294967295\n" fits */
#define VSOCK_EPHEMERAL_BASE (1u << 30)

enum vsock_conn_state {
	VSOCK_FREE = 0,
	VSOCK_HOST_LINE,    /* host accepted; reading "CONNECT <port>\n" */
	VSOCK_HOST_REQUEST, /* REQUEST sent to the guest, waiting for RESPONSE */
	VSOCK_CONNECTED,
};

/* Control packets a connection owes the guest (sent when rx buffers exist). */
#define VSOCK_PEND_REQUEST  1
#define VSOCK_PEND_RESPONSE 2
#define VSOCK_PEND_CREDIT   4
#define VSOCK_PEND_SHUTDOWN 8

struct vsock_conn {
	enum vsock_conn_state state;
	int fd;                  /* host Unix socket */
	uint32_t local_port;     /* host side port */
	uint32_t peer_port;      /* guest side port */
	uint32_t events;         /* epoll events currently registered */

	/* Credit, guest -> host: we received rx_cnt bytes, forwarded fwd_cnt. */
	uint32_t rx_cnt, fwd_cnt, fwd_cnt_told;
	/* Credit, host -> guest: we sent tx_cnt bytes; the guest's buffer. */
	uint32_t tx_cnt, peer_buf_alloc, peer_fwd_cnt;

	uint8_t pending;         /* VSOCK_PEND_* */
	uint32_t shutdown_flags; /* flags of the pending SHUTDOWN */
	bool host_eof;           /* host socket read returned 0 */
	bool guest_no_send;      /* guest sent SHUTDOWN(SEND) */
	bool guest_no_rcv;       /* guest sent SHUTDOWN(RCV) */
	bool host_readable;      /* epoll said EPOLLIN and we have not drained it */
	bool host_hup;           /* epoll said EPOLLHUP: the host closed both ways */
	bool shut_wr_done;       /* we shut down the host socket's write side */
	bool watched;            /* fd is registered with the event loop */

	/* Guest -> host bytes the host socket has not taken yet (ring). */
	uint8_t *buf;
	uint32_t buf_head, buf_used;

	char line[VSOCK_LINE_MAX];
	uint32_t line_len;
};

/* A RST owed to the guest for a connection that no longer exists. */
struct vsock_rst {
	uint32_t local_port, peer_port;
};

struct virtio_vsock;
/* Event loop cookie for connection slot idx (stable while slots are reused). */
struct vsock_slot {
	struct virtio_vsock *v;
	int idx;
};

struct virtio_vsock {
	struct virtio_mmio t;
	uint64_t guest_cid;
	char uds_path[108];
	int listen_fd;
	struct event_loop *loop;  /* NULL: host fds are not watched (unit tests) */
	uint32_t next_ephemeral;
	uint32_t rr;              /* where the next data scan starts */
	bool reset_event_pending;
	/* A TRANSPORT_RESET event went to the guest, which has not handled it
	 * yet: it would reset a connection made now too, so host connections
	 * wait (their REQUEST stays pending) until the driver gives the event
	 * buffer back (event queue avail idx past reset_avail_idx). */
	bool reset_unacked;
	uint16_t reset_avail_idx;

	struct vsock_conn conn[VSOCK_MAX_CONNS];
	struct vsock_slot slot[VSOCK_MAX_CONNS];
	struct vsock_rst rst[2 * VSOCK_MAX_CONNS];
	uint32_t nrst;

	struct vq_chain chain;
	uint64_t n_rx_pkts, n_tx_pkts, n_bad_pkts;
};

extern const struct virtio_dev_ops virtio_vsock_ops;

/* Set up the device and listen on uds_path (an existing socket file there
 * is replaced). loop may be NULL in tests that drive the handlers directly.
 * 0, or -1 with err. virtio_vsock_destroy() leaves the socket file: the
 * jailed VMM cannot remove files (jail.h); the path's owner does. */
int virtio_vsock_init(struct virtio_vsock *v, const struct guest_mem *mem, uint64_t cid,
		      const char *uds_path, struct event_loop *loop, struct vm_err *err);
void virtio_vsock_destroy(struct virtio_vsock *v);

/* Drop every connection and tell the guest with a TRANSPORT_RESET event
 * (after a snapshot restore). Takes the transport lock. */
void virtio_vsock_transport_reset(struct virtio_vsock *v);
/* The same with v->t.lock already held (snapshot restore). */
void virtio_vsock_transport_reset_locked(struct virtio_vsock *v);

/* Snapshots (vsock_persist.c), with v->t.lock held. Section "VSCK": the
 * transport, the guest CID and the last host port handed out. Connections
 * are not saved: restore refuses a different CID, leaves v unchanged on any
 * failure, and otherwise closes every connection and queues a
 * TRANSPORT_RESET event for the guest (sent at once if it has an event
 * buffer, else at its next event-queue kick). */
struct snap_writer;
struct snap_reader;
void virtio_vsock_save(const struct virtio_vsock *v, struct snap_writer *w);
bool virtio_vsock_restore(struct virtio_vsock *v, struct snap_reader *r);

/* The connections on stderr (virtio_dev_ops.dump; vsock_dump.c). */
void virtio_vsock_dump(void *dev);

/* Device-thread handlers for host fds (event_loop callbacks). */
void vsock_on_listener(void *opaque, uint32_t events);
void vsock_on_conn(void *opaque, uint32_t events);

/* --- vsock_conn.c: one connection (no locking, no fds beyond its own) --- */
/* Bytes we may still send to the guest on c. */
uint32_t vsock_conn_peer_credit(const struct vsock_conn *c);
/* Bytes of credit the guest still has towards us on c. */
uint32_t vsock_conn_our_free(const struct vsock_conn *c);
/* Take len payload bytes at readable offset off of a guest packet: write
 * what the host socket accepts now, buffer the rest. 0, -1 on a host socket
 * error, -2 if the guest sent more than its credit. */
int vsock_conn_take(struct vsock_conn *c, const struct vq_chain *ch, uint64_t off, uint32_t len);
/* Write buffered bytes to the host socket; -1 on a socket error. */
int vsock_conn_flush(struct vsock_conn *c);
/* Should we tell the guest about freed buffer space now? */
bool vsock_conn_credit_due(const struct vsock_conn *c);
/* Fill a header for a packet from c to the guest. */
void vsock_conn_hdr(const struct vsock_conn *c, uint64_t guest_cid, enum vsock_op op,
		    uint32_t len, uint32_t flags, struct vsock_hdr *h);
void vsock_conn_free(struct vsock_conn *c);

/* --- vsock_host.c: the Unix socket side --- */
int vsock_host_listen(const char *path, struct vm_err *err);
/* Read the CONNECT line: 1 complete (port in *port), 0 need more, -1 bad. */
int vsock_host_read_line(struct vsock_conn *c, uint32_t *port);
/* Connect to "<uds_path>_<port>"; fd or -1. */
int vsock_host_connect(const char *uds_path, uint32_t port);
/* Send "OK <port>\n" to the host side; 0 or -1. */
int vsock_host_send_ok(int fd, uint32_t port);

#endif

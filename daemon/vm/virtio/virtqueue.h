/* virtqueue.h - split virtqueues (virtio 1.x, section 2.7) seen from the device.
 *
 * A virtqueue lives in guest RAM: a descriptor table, the driver's "avail"
 * ring and the device's "used" ring. The device pops a chain of descriptors
 * from the avail ring, reads and writes the buffers they point at, and
 * pushes the chain's head onto the used ring.
 *
 * Nothing the guest wrote is trusted. vq_pop() checks every index against
 * the queue size, bounds the chain length (so a loop cannot spin the VMM),
 * checks indirect tables, resolves every buffer through guest_mem_ptr() (so
 * no address can reach host memory outside guest RAM) and requires all
 * device-readable buffers to come before the device-writable ones. A chain
 * that breaks a rule is reported with a vq_err code; the transport then
 * marks the device NEEDS_RESET.
 *
 * struct virtqueue is plain state (guest addresses and indexes, no host
 * pointers) so it can be saved in a snapshot. struct vq_chain holds host
 * pointers, but only for the time one request is handled.
 */
#ifndef SM_VIRTQUEUE_H
#define SM_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "daemon/vm/guest_mem.h"

/* Largest queue a device offers (QueueNumMax); also the longest chain. */
#define VQ_MAX_SIZE 256

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtqueue {
	uint16_t size;       /* QueueNum, a power of two <= VQ_MAX_SIZE */
	bool ready;
	bool event_idx;      /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;       /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail; /* next avail ring entry the device will take */
	uint16_t used_idx;   /* next used ring entry the device will fill */
	uint16_t signalled_used; /* used_idx when we last decided on an interrupt */
	bool signalled_valid;
};

/* One buffer of a chain, already checked to lie inside guest RAM. */
struct vq_seg {
	uint64_t gpa;
	uint32_t len;
	bool writable;
	uint8_t *host;
};

struct vq_chain {
	uint16_t head;      /* id to push back on the used ring */
	uint16_t nseg;
	uint16_t nread;     /* seg[0..nread) are device-readable, the rest writable */
	uint64_t read_len;  /* total bytes in readable segments */
	uint64_t write_len; /* total bytes in writable segments */
	struct vq_seg seg[VQ_MAX_SIZE];
};

enum vq_err {
	VQ_OK = 0,
	VQ_ERR_RING,       /* ring addresses/size invalid or outside RAM */
	VQ_ERR_AVAIL_IDX,  /* avail idx ran more than a queue size ahead */
	VQ_ERR_INDEX,      /* head or next index >= queue size (or table size) */
	VQ_ERR_LOOP,       /* a descriptor was visited twice */
	VQ_ERR_TOO_LONG,   /* chain longer than the queue size */
	VQ_ERR_ADDR,       /* buffer not inside guest RAM (incl. addr+len overflow) */
	VQ_ERR_ORDER,      /* device-readable buffer after a device-writable one */
	VQ_ERR_INDIRECT,   /* bad indirect table: nested, with NEXT, size, not negotiated */
};

const char *vq_err_str(enum vq_err e);

/* Reset to the power-on state (not ready, size = max, indexes zero). */
void vq_reset(struct virtqueue *vq, uint16_t max_size);
/* Check size and ring placement before the queue goes live. */
enum vq_err vq_validate(const struct virtqueue *vq, const struct guest_mem *m);

/* Take the next available chain. Returns 1 and fills *c, 0 if the ring is
 * empty, or -(enum vq_err) if the guest broke a rule (nothing consumed). */
int vq_pop(struct virtqueue *vq, const struct guest_mem *m, struct vq_chain *c);
/* True if the driver has published chains we have not taken yet. */
bool vq_has_avail(const struct virtqueue *vq, const struct guest_mem *m);
/* vq_has_avail for a device that will wait for a kick when it is false:
 * with event idx, first ask the driver to kick on its next chain
 * (avail_event = last_avail), so a chain published after the check is not
 * left unannounced. vq_pop does this too when it finds the ring empty. */
bool vq_has_avail_arm(struct virtqueue *vq, const struct guest_mem *m);
/* The driver's avail idx as guest memory holds it now, or -1 (rings
 * outside RAM). vq_watch_avail also asks (event idx) for a kick on the
 * very next chain the driver publishes, even though chains are still
 * waiting: a device that wants to see the driver's next move uses it. */
int vq_avail_idx(const struct virtqueue *vq, const struct guest_mem *m);
int vq_watch_avail(struct virtqueue *vq, const struct guest_mem *m);
/* Return a chain to the driver with `written` bytes in its writable part. */
void vq_push(struct virtqueue *vq, const struct guest_mem *m, uint16_t head, uint32_t written);
/* Return n chains at once: every used element is written before the used
 * idx moves (once), so the driver sees all of them or none (virtio-net's
 * merged rx buffers: one packet's buffers must be used together). */
void vq_push_many(struct virtqueue *vq, const struct guest_mem *m, const uint16_t *heads,
		  const uint32_t *written, uint16_t n);
/* After pushes: does the driver want an interrupt now (flags / used_event)? */
bool vq_should_interrupt(struct virtqueue *vq, const struct guest_mem *m);

/* The ring fields as guest memory holds them now (diagnostics only). */
struct vq_guest_view {
	bool mapped;                      /* false: rings outside guest RAM */
	uint16_t avail_flags, avail_idx;  /* driver's */
	uint16_t used_event;              /* driver's wish (event idx) */
	uint16_t used_idx;                /* ours, as published */
	uint16_t avail_event;             /* ours (event idx) */
};
void vq_guest_view(const struct virtqueue *vq, const struct guest_mem *m,
		   struct vq_guest_view *v);

/* Copy between a chain's readable (resp. writable) bytes, seen as one
 * contiguous stream, and a host buffer. Return the bytes copied. */
size_t vq_chain_read(const struct vq_chain *c, uint64_t off, void *buf, size_t len);
size_t vq_chain_write(const struct vq_chain *c, uint64_t off, const void *buf, size_t len);
/* iovecs covering [off, off+len) of the readable or writable stream; returns
 * the number of iovecs used (<= max), covering at most len bytes. */
int vq_chain_iov(const struct vq_chain *c, bool writable, uint64_t off, uint64_t len,
		 struct iovec *iov, int max);

#endif

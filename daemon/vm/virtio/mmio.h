/* mmio.h - the virtio-mmio transport (virtio 1.x, section 4.2, version 2).
 *
 * One struct virtio_mmio per device: the register file the driver sees in a
 * 4 KiB MMIO window, the virtqueues, the interrupt line and the device model
 * behind it (blk, vsock, rng) reached through struct virtio_dev_ops.
 *
 * Threads: register accesses arrive on vCPU threads (io_bus handler
 * virtio_mmio_access()); queue notifications, host sockets and interrupts
 * are handled on the VMM's single device thread (event_loop.h). Both take
 * t->lock, so a device model's callbacks always run with the lock held and
 * never race a reset or a status change.
 *
 * Interrupts: the device writes to an eventfd that KVM_IRQFD turns into the
 * guest interrupt (irqfd < 0: no interrupt line, as in unit tests).
 * Notifications: the guest's QueueNotify write either hits a KVM_IOEVENTFD
 * (kickfd per queue, served by the device thread) or, without one, runs the
 * device's notify callback directly.
 */
#ifndef SM_VIRTIO_MMIO_H
#define SM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/vm/guest_mem.h"
#include "daemon/vm/virtio/virtqueue.h"

#define VIRTIO_MMIO_WINDOW      0x1000
#define VIRTIO_MMIO_MAX_QUEUES  4

/* Registers (offsets in the window). */
#define VIRTIO_MMIO_MAGIC_VALUE        0x000
#define VIRTIO_MMIO_VERSION            0x004
#define VIRTIO_MMIO_DEVICE_ID          0x008
#define VIRTIO_MMIO_VENDOR_ID          0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES    0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES    0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL          0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX      0x034
#define VIRTIO_MMIO_QUEUE_NUM          0x038
#define VIRTIO_MMIO_QUEUE_READY        0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY       0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS   0x060
#define VIRTIO_MMIO_INTERRUPT_ACK      0x064
#define VIRTIO_MMIO_STATUS             0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW     0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH    0x084
#define VIRTIO_MMIO_QUEUE_AVAIL_LOW    0x090
#define VIRTIO_MMIO_QUEUE_AVAIL_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_USED_LOW     0x0a0
#define VIRTIO_MMIO_QUEUE_USED_HIGH    0x0a4
#define VIRTIO_MMIO_SHM_SEL            0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW        0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH       0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW       0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH      0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION  0x0fc
#define VIRTIO_MMIO_CONFIG             0x100

#define VIRTIO_MMIO_MAGIC   0x74726976 /* "virt" */
#define VIRTIO_MMIO_VENDOR  0x4d534d53 /* "SMSM" */

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED      128

/* InterruptStatus bits. */
#define VIRTIO_MMIO_INT_VRING  1
#define VIRTIO_MMIO_INT_CONFIG 2

/* Transport feature bits. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

#define VIRTIO_MMIO_REASON_MAX 96

struct virtio_mmio;

/* Event loop cookie for a queue's kick fd (see mmio_loop.h). */
struct virtio_mmio_kick {
	struct virtio_mmio *t;
	uint16_t q;
};

struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	uint16_t num_queues;
	uint16_t queue_max;
	/* Device config space: reads/writes of [off, off+len) inside config_size. */
	uint32_t config_size;
	void (*config_read)(void *dev, uint32_t off, uint8_t *data, uint32_t len);
	void (*config_write)(void *dev, uint32_t off, const uint8_t *data, uint32_t len);
	/* DRIVER_OK with valid queues: start. Nonzero refuses (-> NEEDS_RESET). */
	int (*activate)(void *dev);
	/* Status written 0 (or VMM teardown): drop all in-flight state. */
	void (*reset)(void *dev);
	/* The driver kicked queue q. */
	void (*notify)(void *dev, uint16_t q);
	/* Optional: print device state on stderr (virtio_mmio_dump). */
	void (*dump)(void *dev);
};

struct virtio_mmio {
	pthread_mutex_t lock;
	const struct virtio_dev_ops *ops;
	void *dev;
	const struct guest_mem *mem;
	uint64_t device_features; /* device bits | transport bits */
	int irqfd;                /* eventfd wired to the guest interrupt, or -1 */
	int kickfd[VIRTIO_MMIO_MAX_QUEUES]; /* ioeventfd per queue, or -1 */
	struct virtio_mmio_kick kick[VIRTIO_MMIO_MAX_QUEUES];
	uint64_t base;            /* MMIO window in the guest (0 in tests) */
	uint32_t gsi;

	/* Register state (plain; saved in snapshots). */
	uint32_t status;
	bool needs_reset;
	char fail_reason[VIRTIO_MMIO_REASON_MAX]; /* why NEEDS_RESET was set */
	uint32_t dev_features_sel, drv_features_sel, queue_sel, shm_sel;
	uint64_t driver_features;
	uint32_t interrupt_status;
	uint32_t config_generation;
	struct virtqueue vq[VIRTIO_MMIO_MAX_QUEUES];

	/* Counters for benchmarks and tests. */
	uint64_t n_notify, n_irq;
	/* Diagnostics (virtio_mmio_dump): CLOCK_MONOTONIC ns since when
	 * InterruptStatus has been non-zero, unacked by the guest; 0 if it is 0. */
	int64_t irq_pending_since_ns;
};

/* device_features are the device-type bits; the transport adds VERSION_1,
 * EVENT_IDX and INDIRECT_DESC. */
void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *dev,
		      const struct guest_mem *mem, uint64_t device_features);
void virtio_mmio_destroy(struct virtio_mmio *t);
/* The notification and interrupt counters, read under the lock (any thread). */
void virtio_mmio_counts(struct virtio_mmio *t, uint64_t *notify, uint64_t *irq);

/* CLOCK_MONOTONIC in ns (irq_pending_since_ns). */
int64_t virtio_mmio_now_ns(void);

/* Print the transport, each queue as both sides see it, and the device's
 * own state on stderr, for a guest that stopped answering. Waits at most a
 * second for the lock, then reads without it and says so. Any thread. */
void virtio_mmio_dump(struct virtio_mmio *t, const char *what);

/* io_bus handler (vCPU threads): one access to the register window. */
void virtio_mmio_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write);

/* Device thread: the driver kicked queue q (reads nothing; caller drained the fd). */
void virtio_mmio_kick(struct virtio_mmio *t, uint16_t q);

/* --- For device models; call with t->lock held. --- */
/* Is the device live (DRIVER_OK, not NEEDS_RESET) and queue q ready? */
bool virtio_mmio_queue_live(const struct virtio_mmio *t, uint16_t q);
/* Pop the next chain of queue q: 1, 0 (empty) or -1 (bad chain: the device
 * was put in NEEDS_RESET and must stop). */
int virtio_mmio_pop(struct virtio_mmio *t, uint16_t q, struct vq_chain *c);
/* Push a used chain and interrupt the guest if it wants one. */
void virtio_mmio_push(struct virtio_mmio *t, uint16_t q, uint16_t head, uint32_t written);
/* Push n used chains as one batch (vq_push_many), then interrupt once if
 * the driver wants one. */
void virtio_mmio_push_many(struct virtio_mmio *t, uint16_t q, const uint16_t *heads,
			   const uint32_t *written, uint16_t n);
/* The device changed its config space: bump ConfigGeneration and, once the
 * driver is up (DRIVER_OK), raise a configuration change interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio *t);
/* A device stopped serving queue q with chains left (a fairness budget):
 * kick it again through its ioeventfd so the device thread comes back after
 * serving others. Without a kickfd (tests) the next kick picks them up. */
void virtio_mmio_rekick(struct virtio_mmio *t, uint16_t q);
/* The guest broke a rule: set NEEDS_RESET, raise a config interrupt, stop. */
void virtio_mmio_fail(struct virtio_mmio *t, const char *why);
bool virtio_mmio_has_feature(const struct virtio_mmio *t, unsigned bit);

/* --- Snapshots (mmio_persist.c); call with t->lock held. --- */
struct snap_writer;
struct snap_reader;

/* The transport's saved state: struct virtio_mmio's register fields. */
struct virtio_mmio_state {
	uint32_t status;
	bool needs_reset;
	char fail_reason[VIRTIO_MMIO_REASON_MAX];
	uint32_t dev_features_sel, drv_features_sel, queue_sel, shm_sel;
	uint64_t driver_features;
	uint32_t interrupt_status;
	uint32_t config_generation;
	struct virtqueue vq[VIRTIO_MMIO_MAX_QUEUES];
};

/* Section "VMIO": registers, every queue, and the device id, queue count
 * and offered features the restore checks against. */
void virtio_mmio_save(const struct virtio_mmio *t, struct snap_writer *w);
/* Load + commit + resume (below): false with r->err and t unchanged if the
 * section is damaged or was saved from a different device. */
bool virtio_mmio_restore(struct virtio_mmio *t, struct snap_reader *r);
/* The steps, for device models that load their own fields before
 * committing anything: read and check a "VMIO" section for t into *s
 * (t untouched); copy *s into t; then, once the device model's own state
 * is in place too, restart what the saving process was doing: activate a
 * live device (ops->activate; a refusal sets NEEDS_RESET as at DRIVER_OK),
 * raise the interrupt again if InterruptStatus is set and kick every live
 * queue's kickfd (a kick or interrupt in flight at save time was lost with
 * the old process; a spurious one is harmless). */
bool virtio_mmio_load(const struct virtio_mmio *t, struct snap_reader *r,
		      struct virtio_mmio_state *s);
void virtio_mmio_commit(struct virtio_mmio *t, const struct virtio_mmio_state *s);
void virtio_mmio_resume(struct virtio_mmio *t);

#endif

/* blk.h - virtio-blk (device id 2): a guest disk backed by host files.
 *
 * struct blk_disk is the disk as the guest sees it (size, mode, id) over a
 * backing that stores its bytes: one host file (blk_disk_open) or a
 * read-only composite of image layers behind a synthesized partition table
 * (blk_composite.h). blk_request() handles one request chain against it
 * and is independent of the transport, so unit tests run it against temp
 * files and a buffer standing in for guest RAM.
 * struct virtio_blk is the device: transport + disk + config space.
 * virtio_blk_create() (attach.c) puts one on a VM.
 */
#ifndef SM_VIRTIO_BLK_H
#define SM_VIRTIO_BLK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "daemon/vm/virtio/mmio.h"
#include "daemon/vm/vm_err.h"

#define VIRTIO_ID_BLOCK 2

#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define BLK_NO_STATUS       0xff /* chain has no byte for a status */

#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define BLK_SECTOR       512
#define BLK_ID_BYTES     20
#define BLK_MAX_DISCARD_SEG     16
#define BLK_MAX_DISCARD_SECTORS (1u << 22) /* 2 GiB per range */

struct blk_disk;

/* What a backing does with bytes. blk.c checks every request first (whole
 * sectors, inside the disk, writes only to a read-write disk), so offsets
 * and lengths are in range. Each returns 0 or -1 (the request fails). */
enum blk_zero_how { BLK_DISCARD, BLK_ZERO, BLK_ZERO_UNMAP };
struct blk_backing {
	const char *kind; /* "file", "layers" (messages, snapshots) */
	/* Fill / store iov[0..n) at byte off; iov may be modified. */
	int (*read)(const struct blk_disk *d, struct iovec *iov, int n, uint64_t off);
	int (*write)(const struct blk_disk *d, struct iovec *iov, int n, uint64_t off);
	int (*flush)(const struct blk_disk *d);
	/* Discard (a hint) or zero [off, off + len). */
	int (*zero)(const struct blk_disk *d, uint64_t off, uint64_t len, enum blk_zero_how how);
	void (*close)(struct blk_disk *d);
};

struct blk_disk {
	const struct blk_backing *backing; /* NULL: closed */
	int fd;          /* the "file" backing's file, else -1 */
	void *priv;      /* other backings' own state */
	bool readonly;
	uint64_t sectors; /* capacity in 512-byte sectors */
	char id[BLK_ID_BYTES];
};

/* Open path (O_RDONLY or O_RDWR) into d; 0 or -1 with a message in err. */
int blk_disk_open(struct blk_disk *d, const char *path, bool readonly, struct vm_err *err);
/* Close whatever backing d has (safe on a closed or zeroed disk). */
void blk_disk_close(struct blk_disk *d);
/* preadv/pwritev all of iov at off, retrying short transfers; -1 on an
 * error or end of file. iov is consumed. */
int blk_full_io(int fd, struct iovec *iov, int n, uint64_t off, bool write);

/* Handle one request chain: does the I/O, writes the status byte (last
 * writable byte) and returns it, or BLK_NO_STATUS if there is no writable
 * byte to put it in (the caller then fails the device). *written gets the
 * used length to report. */
uint8_t blk_request(const struct blk_disk *d, const struct vq_chain *c, uint32_t *written);

/* Device features offered for this disk. */
uint64_t blk_features(const struct blk_disk *d);
/* Config space (virtio_blk_config, little-endian) of this disk. */
#define BLK_CONFIG_SIZE 60
void blk_config(const struct blk_disk *d, uint16_t queue_size, uint8_t out[BLK_CONFIG_SIZE]);

struct virtio_blk {
	struct virtio_mmio t;
	struct blk_disk disk;
	char path[PATH_MAX];   /* what disk was opened from (attach.c; messages) */
	uint8_t config[BLK_CONFIG_SIZE];
	struct vq_chain chain; /* scratch for the request being served */
	uint64_t n_req, n_err;
};

extern const struct virtio_dev_ops virtio_blk_ops;
/* Set up dev over an open disk (transport included); mem is guest RAM. */
void virtio_blk_init(struct virtio_blk *dev, const struct guest_mem *mem);

/* Snapshots (blk_persist.c), with dev->t.lock held. Section "VBLK": the
 * disk's identity (read-only, size, id, path) and the transport. Restore
 * refuses a disk that is not the saved one (read-only vs read-write, size,
 * id; the path may differ) and leaves dev unchanged on any failure. */
struct snap_writer;
struct snap_reader;
void virtio_blk_save(const struct virtio_blk *dev, struct snap_writer *w);
bool virtio_blk_restore(struct virtio_blk *dev, struct snap_reader *r);

#endif

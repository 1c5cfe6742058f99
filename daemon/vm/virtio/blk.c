/* blk.c - virtio-blk requests against a disk's backing, the "file" backing
 * (one host file), and the device around them.
 *
 * A request chain is: readable {u32 type, u32 reserved, u64 sector}, then
 * readable data (OUT, DISCARD, WRITE_ZEROES) or writable data (IN, GET_ID),
 * and a final writable status byte. The layout across descriptors is not
 * assumed: the readable and writable parts are each treated as one byte
 * stream. Every request is bounded by the disk capacity before any I/O.
 * I/O is synchronous on the device thread (pread/pwrite go to the page
 * cache; FLUSH is fdatasync). Other backings: blk_composite.c.
 */
#include "daemon/vm/virtio/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk_range { /* virtio_blk_discard_write_zeroes */
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};
#define BLK_RANGE_F_UNMAP 1

/* --- the "file" backing: one host file or block device --- */

static int file_read(const struct blk_disk *d, struct iovec *iov, int n, uint64_t off)
{
	return blk_full_io(d->fd, iov, n, off, false);
}

static int file_write(const struct blk_disk *d, struct iovec *iov, int n, uint64_t off)
{
	return blk_full_io(d->fd, iov, n, off, true);
}

static int file_flush(const struct blk_disk *d)
{
	return fdatasync(d->fd);
}

/* Zero [off, off+len) by writing zeros (when fallocate cannot). */
static int write_zeros(int fd, off_t off, uint64_t len)
{
	static const uint8_t zero[64 * 1024];
	while (len > 0) {
		size_t n = len < sizeof(zero) ? len : sizeof(zero);
		ssize_t r = pwrite(fd, zero, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += r;
		len -= r;
	}
	return 0;
}

static int file_zero(const struct blk_disk *d, uint64_t off, uint64_t len, enum blk_zero_how how)
{
	if (how == BLK_DISCARD) { /* a hint: no hole punching support is fine */
		if (fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)len) < 0 && errno != EOPNOTSUPP)
			return -1;
		return 0;
	}
	int mode = how == BLK_ZERO_UNMAP ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
					 : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	if (fallocate(d->fd, mode, (off_t)off, (off_t)len) == 0)
		return 0;
	return errno == EOPNOTSUPP ? write_zeros(d->fd, (off_t)off, len) : -1;
}

static void file_close(struct blk_disk *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

static const struct blk_backing file_backing = {
	.kind = "file", .read = file_read, .write = file_write, .flush = file_flush,
	.zero = file_zero, .close = file_close,
};

int blk_disk_open(struct blk_disk *d, const char *path, bool readonly, struct vm_err *err)
{
	struct stat st;

	memset(d, 0, sizeof(*d));
	d->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0)
		return vm_errno(err, "disk %s", path);
	d->backing = &file_backing;
	if (fstat(d->fd, &st) < 0) {
		vm_errno(err, "disk %s: stat", path);
		blk_disk_close(d);
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		blk_disk_close(d);
		return vm_errf(err, "disk %s: not a regular file or block device", path);
	}
	uint64_t bytes = st.st_size;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(d->fd, 0, SEEK_END);
		bytes = end > 0 ? (uint64_t)end : 0;
	}
	d->readonly = readonly;
	d->sectors = bytes / BLK_SECTOR;
	const char *base = strrchr(path, '/');
	const char *name = base ? base + 1 : path;
	memcpy(d->id, name, strnlen(name, BLK_ID_BYTES)); /* NUL-padded, not terminated */
	return 0;
}

void blk_disk_close(struct blk_disk *d)
{
	if (d->backing)
		d->backing->close(d);
	d->backing = NULL;
	d->fd = -1;
}

int blk_full_io(int fd, struct iovec *iov, int n, uint64_t off, bool write)
{
	while (n > 0) {
		ssize_t r = write ? pwritev(fd, iov, n, (off_t)off) : preadv(fd, iov, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += r;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= iov->iov_len;
			iov++, n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= r;
		}
	}
	return 0;
}

/* --- requests --- */

/* Is [sector, sector + bytes/512) inside the disk? bytes is sector-aligned. */
static bool in_range(const struct blk_disk *d, uint64_t sector, uint64_t bytes)
{
	return sector <= d->sectors && bytes / BLK_SECTOR <= d->sectors - sector;
}

static uint8_t do_rw(const struct blk_disk *d, const struct vq_chain *c, uint64_t sector,
		     bool write)
{
	uint64_t len = write ? c->read_len - sizeof(struct blk_hdr) : c->write_len - 1;
	struct iovec iov[VQ_MAX_SIZE];

	if (write && (d->readonly || !d->backing->write))
		return VIRTIO_BLK_S_IOERR;
	/* Data only in the direction the type says, whole sectors, on the disk. */
	if ((write ? c->write_len != 1 : c->read_len != sizeof(struct blk_hdr)) ||
	    len == 0 || len % BLK_SECTOR || !in_range(d, sector, len))
		return VIRTIO_BLK_S_IOERR;
	int n = write ? vq_chain_iov(c, false, sizeof(struct blk_hdr), len, iov, VQ_MAX_SIZE)
		      : vq_chain_iov(c, true, 0, len, iov, VQ_MAX_SIZE);
	uint64_t off = sector * BLK_SECTOR;
	if ((write ? d->backing->write(d, iov, n, off) : d->backing->read(d, iov, n, off)) < 0)
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_get_id(const struct blk_disk *d, const struct vq_chain *c)
{
	uint64_t room = c->write_len - 1;
	vq_chain_write(c, 0, d->id, room < BLK_ID_BYTES ? room : BLK_ID_BYTES);
	return VIRTIO_BLK_S_OK;
}

static int apply_range(const struct blk_disk *d, const struct blk_range *r, bool zeroes)
{
	enum blk_zero_how how = !zeroes ? BLK_DISCARD :
				(r->flags & BLK_RANGE_F_UNMAP) ? BLK_ZERO_UNMAP : BLK_ZERO;
	return d->backing->zero(d, r->sector * BLK_SECTOR, (uint64_t)r->num_sectors * BLK_SECTOR,
				how);
}

static uint8_t do_ranges(const struct blk_disk *d, const struct vq_chain *c, bool zeroes)
{
	uint64_t bytes = c->read_len - sizeof(struct blk_hdr);
	uint32_t allowed = zeroes ? BLK_RANGE_F_UNMAP : 0;

	if (d->readonly || !d->backing->zero)
		return VIRTIO_BLK_S_UNSUPP; /* not offered on read-only disks */
	if (bytes == 0 || bytes % sizeof(struct blk_range) ||
	    bytes / sizeof(struct blk_range) > BLK_MAX_DISCARD_SEG)
		return VIRTIO_BLK_S_IOERR;
	struct blk_range r[BLK_MAX_DISCARD_SEG];
	size_t n = bytes / sizeof(struct blk_range);
	vq_chain_read(c, sizeof(struct blk_hdr), r, bytes);
	for (size_t i = 0; i < n; i++) { /* check every range before touching any */
		if (r[i].flags & ~allowed)
			return VIRTIO_BLK_S_UNSUPP;
		if (r[i].num_sectors > BLK_MAX_DISCARD_SECTORS ||
		    !in_range(d, r[i].sector, (uint64_t)r[i].num_sectors * BLK_SECTOR))
			return VIRTIO_BLK_S_IOERR;
	}
	for (size_t i = 0; i < n; i++)
		if (apply_range(d, &r[i], zeroes) < 0)
			return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

static uint8_t dispatch(const struct blk_disk *d, const struct vq_chain *c,
			const struct blk_hdr *h)
{
	switch (h->type) {
	case VIRTIO_BLK_T_IN: return do_rw(d, c, h->sector, false);
	case VIRTIO_BLK_T_OUT: return do_rw(d, c, h->sector, true);
	case VIRTIO_BLK_T_FLUSH:
		return d->readonly || !d->backing->flush || d->backing->flush(d) == 0
			       ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	case VIRTIO_BLK_T_GET_ID: return do_get_id(d, c);
	case VIRTIO_BLK_T_DISCARD: return do_ranges(d, c, false);
	case VIRTIO_BLK_T_WRITE_ZEROES: return do_ranges(d, c, true);
	}
	return VIRTIO_BLK_S_UNSUPP;
}

uint8_t blk_request(const struct blk_disk *d, const struct vq_chain *c, uint32_t *written)
{
	struct blk_hdr h;
	uint8_t status;

	*written = 0;
	if (c->write_len == 0)
		return BLK_NO_STATUS;
	if (c->read_len < sizeof(h)) {
		status = VIRTIO_BLK_S_IOERR;
	} else {
		vq_chain_read(c, 0, &h, sizeof(h));
		status = dispatch(d, c, &h);
	}
	vq_chain_write(c, c->write_len - 1, &status, 1);
	*written = c->write_len > UINT32_MAX ? UINT32_MAX : (uint32_t)c->write_len;
	return status;
}

uint64_t blk_features(const struct blk_disk *d)
{
	uint64_t f = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		     (1ULL << VIRTIO_BLK_F_FLUSH);
	if (d->readonly)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	else if (d->backing && d->backing->zero)
		f |= (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

void blk_config(const struct blk_disk *d, uint16_t queue_size, uint8_t out[BLK_CONFIG_SIZE])
{
	memset(out, 0, BLK_CONFIG_SIZE);
	memcpy(out + 0, &d->sectors, 8);            /* capacity */
	put32(out + 12, queue_size - 2);            /* seg_max: header and status */
	put32(out + 20, BLK_SECTOR);                /* blk_size */
	out[34] = 1;                                /* num_queues (u16 at 34) */
	put32(out + 36, BLK_MAX_DISCARD_SECTORS);   /* max_discard_sectors */
	put32(out + 40, BLK_MAX_DISCARD_SEG);       /* max_discard_seg */
	put32(out + 44, 1);                         /* discard_sector_alignment */
	put32(out + 48, BLK_MAX_DISCARD_SECTORS);   /* max_write_zeroes_sectors */
	put32(out + 52, BLK_MAX_DISCARD_SEG);       /* max_write_zeroes_seg */
	out[56] = 1;                                /* write_zeroes_may_unmap */
}

/* --- the device --- */

static void blk_config_read(void *opaque, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_blk *b = opaque;
	memcpy(data, b->config + off, len);
}

/* Serve queue 0: at most one queue's worth of chains per call, then let
 * the device thread come back (re-kick) so other devices get their turn. */
static void blk_notify(void *opaque, uint16_t q)
{
	struct virtio_blk *b = opaque;
	struct virtio_mmio *t = &b->t;
	uint32_t written;

	for (int budget = t->vq[0].size; budget > 0; budget--) {
		if (virtio_mmio_pop(t, 0, &b->chain) <= 0)
			return;
		uint8_t st = blk_request(&b->disk, &b->chain, &written);
		if (st == BLK_NO_STATUS) {
			virtio_mmio_fail(t, "request without a writable status byte");
			return;
		}
		b->n_req++;
		b->n_err += st != VIRTIO_BLK_S_OK;
		virtio_mmio_push(t, 0, b->chain.head, written);
	}
	virtio_mmio_rekick(t, 0);
}

const struct virtio_dev_ops virtio_blk_ops = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	.num_queues = 1,
	.queue_max = VQ_MAX_SIZE,
	.config_size = BLK_CONFIG_SIZE,
	.config_read = blk_config_read,
	.notify = blk_notify,
};

void virtio_blk_init(struct virtio_blk *dev, const struct guest_mem *mem)
{
	virtio_mmio_init(&dev->t, &virtio_blk_ops, dev, mem, blk_features(&dev->disk));
	blk_config(&dev->disk, VQ_MAX_SIZE, dev->config);
}

/* blk_composite.c - the "layers" backing: a partition table in memory and
 * the layer files as partitions (see blk_composite.h).
 *
 * The disk is a sorted list of extents, each either a buffer in memory
 * (the table's head and tail) or a whole layer file at offset 0; what lies
 * between extents reads as zeros. A read walks the extents its byte range
 * crosses, moving a cursor over the request's iovecs. A layer file that
 * shrank since it was opened fails the read (end of file); one that grew
 * shows only its first, opened, size.
 */
#include "daemon/vm/virtio/blk_composite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/vm/virtio/virtqueue.h"

struct extent {
	uint64_t start, len;  /* bytes on the disk */
	int fd;               /* a layer file read from offset 0, or -1: mem */
	const uint8_t *mem;
};

struct composite {
	struct gpt_layout gpt;
	int n;
	int fd[BLK_MAX_LAYERS];
	struct extent ext[BLK_MAX_LAYERS + 2]; /* head, layers, tail */
	int next;
};

/* Where a request's data goes: iov[0..n), the first skip bytes used. */
struct cursor {
	struct iovec *iov;
	int n;
	size_t skip;
};

/* The next len bytes of cur as iovecs in out (at most cap); advances cur.
 * Returns the count, or -1 if cur holds fewer bytes or needs more slots. */
static int cursor_take(struct cursor *cur, uint64_t len, struct iovec *out, int cap)
{
	int k = 0;
	while (len > 0) {
		if (cur->n == 0 || k == cap)
			return -1;
		size_t room = cur->iov->iov_len - cur->skip;
		size_t take = room < len ? room : (size_t)len;
		out[k].iov_base = (uint8_t *)cur->iov->iov_base + cur->skip;
		out[k++].iov_len = take;
		len -= take;
		cur->skip += take;
		if (cur->skip == cur->iov->iov_len) {
			cur->iov++, cur->n--;
			cur->skip = 0;
		}
	}
	return k;
}

/* Fill the next len bytes of cur from src, or with zeros if src is NULL. */
static int cursor_fill(struct cursor *cur, const uint8_t *src, uint64_t len)
{
	struct iovec part[VQ_MAX_SIZE];
	int k = cursor_take(cur, len, part, VQ_MAX_SIZE);
	if (k < 0)
		return -1;
	for (int i = 0; i < k; i++) {
		if (src) {
			memcpy(part[i].iov_base, src, part[i].iov_len);
			src += part[i].iov_len;
		} else {
			memset(part[i].iov_base, 0, part[i].iov_len);
		}
	}
	return 0;
}

/* len bytes of extent x from byte at (relative to x) into cur. */
static int extent_read(const struct extent *x, struct cursor *cur, uint64_t at, uint64_t len)
{
	if (x->fd < 0)
		return cursor_fill(cur, x->mem + at, len);
	struct iovec part[VQ_MAX_SIZE];
	int k = cursor_take(cur, len, part, VQ_MAX_SIZE);
	return k < 0 ? -1 : blk_full_io(x->fd, part, k, at, false);
}

/* The first extent that ends after off (c->next if none). */
static int first_extent(const struct composite *c, uint64_t off)
{
	int lo = 0, hi = c->next;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (c->ext[mid].start + c->ext[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int comp_read(const struct blk_disk *d, struct iovec *iov, int n, uint64_t off)
{
	const struct composite *c = d->priv;
	struct cursor cur = { iov, n, 0 };
	uint64_t end = off;
	for (int i = 0; i < n; i++)
		end += iov[i].iov_len;
	for (int e = first_extent(c, off); off < end; e++) {
		const struct extent *x = e < c->next ? &c->ext[e] : NULL;
		uint64_t gap_end = x && x->start < end ? x->start : end;
		if (off < gap_end) { /* padding before x, or past the last extent */
			if (cursor_fill(&cur, NULL, gap_end - off) < 0)
				return -1;
			off = gap_end;
		}
		if (!x || off >= end)
			break;
		uint64_t stop = x->start + x->len < end ? x->start + x->len : end;
		if (extent_read(x, &cur, off - x->start, stop - off) < 0)
			return -1;
		off = stop;
	}
	return 0;
}

static void comp_close(struct blk_disk *d)
{
	struct composite *c = d->priv;
	if (!c)
		return;
	for (int i = 0; i < c->n; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	free(c);
	d->priv = NULL;
}

static const struct blk_backing composite_backing = {
	.kind = "layers", .read = comp_read, .close = comp_close,
};

/* Open one layer read-only; its size in *bytes. */
static int open_layer(const char *path, int *fd, uint64_t *bytes, struct vm_err *err)
{
	struct stat st;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return vm_errno(err, "layer %s", path);
	if (fstat(*fd, &st) < 0)
		return vm_errno(err, "layer %s: stat", path);
	if (!S_ISREG(st.st_mode))
		return vm_errf(err, "layer %s: not a regular file", path);
	if (st.st_size == 0)
		return vm_errf(err, "layer %s: empty file", path);
	*bytes = (uint64_t)st.st_size;
	return 0;
}

static void add_extent(struct composite *c, uint64_t start, uint64_t len, int fd,
		       const uint8_t *mem)
{
	c->ext[c->next++] = (struct extent){ .start = start, .len = len, .fd = fd, .mem = mem };
}

/* "layersN-" and a CRC32 over the layers' file names, in order (the
 * store names them by digest; the sizes are checked on their own). */
static void make_id(struct blk_disk *d, const char *const *paths, int n)
{
	uint32_t crc = 0;
	for (int i = 0; i < n; i++) {
		const char *base = strrchr(paths[i], '/');
		base = base ? base + 1 : paths[i];
		uint32_t both[2] = { crc, gpt_crc32(base, strlen(base)) };
		crc = gpt_crc32(both, sizeof(both));
	}
	char id[BLK_ID_BYTES + 1];
	int len = snprintf(id, sizeof(id), "layers%d-%08x", n, crc);
	memcpy(d->id, id, (size_t)len);
}

int blk_composite_open(struct blk_disk *d, const char *const *paths, int n,
		       struct vm_err *err)
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (n < 1 || n > BLK_MAX_LAYERS)
		return vm_errf(err, "%d layers; a VM takes 1 to %d", n, BLK_MAX_LAYERS);
	struct composite *c = calloc(1, sizeof(*c));
	if (!c)
		return vm_errno(err, "layers");
	d->priv = c;
	d->backing = &composite_backing;
	uint64_t bytes[BLK_MAX_LAYERS];
	for (; c->n < n; c->n++)
		if (open_layer(paths[c->n], &c->fd[c->n], &bytes[c->n], err) < 0) {
			c->n++; /* its fd (or -1) is closed too */
			blk_disk_close(d);
			return -1;
		}
	if (gpt_build(&c->gpt, bytes, (uint32_t)n, err) < 0) {
		blk_disk_close(d);
		return -1;
	}
	const struct gpt_layout *g = &c->gpt;
	add_extent(c, 0, sizeof(g->head), -1, g->head);
	for (int i = 0; i < n; i++)
		add_extent(c, g->start[i] * GPT_SECTOR, bytes[i], c->fd[i], NULL);
	add_extent(c, (g->total_sectors - GPT_TAIL_SECTORS) * GPT_SECTOR, sizeof(g->tail), -1,
		   g->tail);
	d->readonly = true;
	d->sectors = g->total_sectors;
	make_id(d, paths, n);
	return 0;
}

int blk_composite_layers(const struct blk_disk *d)
{
	return d->backing == &composite_backing ? ((const struct composite *)d->priv)->n : 0;
}

uint64_t blk_composite_layer_bytes(const struct blk_disk *d, int i)
{
	const struct composite *c = d->priv;
	return i >= 0 && i < blk_composite_layers(d) ? c->gpt.bytes[i] : 0;
}

const struct gpt_layout *blk_composite_gpt(const struct blk_disk *d)
{
	return blk_composite_layers(d) ? &((const struct composite *)d->priv)->gpt : NULL;
}

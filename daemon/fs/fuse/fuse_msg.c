/* fuse_msg.c - cursors over the guest's request and reply iovecs (see
 * fuse_msg.h). No function here trusts a length from the guest: every
 * copy is bounded by the bytes the iovecs really hold and by the request's
 * own extent (fs_in.left).
 */
#include "daemon/fs/fuse/fuse_msg.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

size_t fs_iov_total(const struct iovec *iov, int n)
{
	size_t t = 0;
	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len > SIZE_MAX - t)
			return SIZE_MAX;
		t += iov[i].iov_len;
	}
	return t;
}

void fs_in_init(struct fs_in *r, const struct iovec *iov, int n, size_t limit)
{
	size_t total = fs_iov_total(iov, n > 0 ? n : 0);
	*r = (struct fs_in){ .iov = iov, .n = n > 0 ? n : 0,
			     .left = limit < total ? limit : total };
}

/* Bytes readable in the current iovec (skipping exhausted ones). */
static size_t in_seg(struct fs_in *r)
{
	while (r->i < r->n && r->off >= r->iov[r->i].iov_len) {
		r->i++;
		r->off = 0;
	}
	if (r->i >= r->n)
		return 0;
	size_t seg = r->iov[r->i].iov_len - r->off;
	return seg < r->left ? seg : r->left;
}

static void in_advance(struct fs_in *r, size_t k)
{
	r->off += k;
	r->left -= k;
}

int fs_in_read(struct fs_in *r, void *dst, size_t len)
{
	if (len > r->left)
		return -EINVAL;
	uint8_t *d = dst;
	while (len > 0) {
		size_t seg = in_seg(r);
		if (seg == 0)
			return -EINVAL; /* not reached: left <= total */
		size_t k = seg < len ? seg : len;
		memcpy(d, (const uint8_t *)r->iov[r->i].iov_base + r->off, k);
		in_advance(r, k);
		d += k;
		len -= k;
	}
	return 0;
}

int fs_in_skip(struct fs_in *r, size_t len)
{
	if (len > r->left)
		return -EINVAL;
	while (len > 0) {
		size_t seg = in_seg(r);
		if (seg == 0)
			return -EINVAL;
		size_t k = seg < len ? seg : len;
		in_advance(r, k);
		len -= k;
	}
	return 0;
}

int fs_in_str(struct fs_in *r, char *dst, size_t cap)
{
	size_t n = 0;
	for (;;) {
		size_t seg = in_seg(r);
		if (seg == 0)
			return -EINVAL; /* the request ends before a NUL */
		const char *src = (const char *)r->iov[r->i].iov_base + r->off;
		size_t room = cap - n;
		size_t k = seg < room ? seg : room;
		/* Copy first, then look for the NUL in our copy: the guest
		 * may change its buffer under us. */
		memcpy(dst + n, src, k);
		char *nul = memchr(dst + n, '\0', k);
		if (nul) {
			size_t used = (size_t)(nul - (dst + n)) + 1;
			in_advance(r, used);
			return (int)(n + used - 1);
		}
		in_advance(r, k);
		n += k;
		if (n == cap)
			return -ENAMETOOLONG;
	}
}

int fs_in_slices(struct fs_in *r, size_t len, struct iovec *dst, int max, size_t *got)
{
	*got = 0;
	if (len > r->left)
		return -EINVAL;
	int cnt = 0;
	while (len > 0 && cnt < max) {
		size_t seg = in_seg(r);
		if (seg == 0)
			return -EINVAL;
		size_t k = seg < len ? seg : len;
		dst[cnt].iov_base = (uint8_t *)r->iov[r->i].iov_base + r->off;
		dst[cnt].iov_len = k;
		cnt++;
		in_advance(r, k);
		*got += k;
		len -= k;
	}
	return cnt;
}

void fs_out_init(struct fs_out *w, const struct iovec *iov, int n)
{
	*w = (struct fs_out){ .iov = iov, .n = n > 0 ? n : 0,
			      .cap = fs_iov_total(iov, n > 0 ? n : 0) };
}

/* Find the iovec holding byte `off`; *in_off gets the offset inside it. */
static int out_find(const struct fs_out *w, size_t off, size_t *in_off)
{
	int i = 0;
	while (i < w->n && off >= w->iov[i].iov_len) {
		off -= w->iov[i].iov_len;
		i++;
	}
	*in_off = off;
	return i;
}

/* Copy src (or zeros when src is NULL) into [off, off+len). */
static int out_put(const struct fs_out *w, size_t off, const void *src, size_t len)
{
	if (off > w->cap || len > w->cap - off)
		return -ERANGE;
	size_t o;
	int i = out_find(w, off, &o);
	const uint8_t *s = src;
	while (len > 0 && i < w->n) {
		size_t k = w->iov[i].iov_len - o;
		if (k > len)
			k = len;
		uint8_t *d = (uint8_t *)w->iov[i].iov_base + o;
		if (k > 0 && s) {
			memcpy(d, s, k);
			s += k;
		} else if (k > 0) {
			memset(d, 0, k);
		}
		len -= k;
		i++;
		o = 0;
	}
	return 0;
}

int fs_out_write(const struct fs_out *w, size_t off, const void *src, size_t len)
{
	if (len == 0)
		return off <= w->cap ? 0 : -ERANGE;
	return out_put(w, off, src, len);
}

int fs_out_zero(const struct fs_out *w, size_t off, size_t len)
{
	if (len == 0)
		return off <= w->cap ? 0 : -ERANGE;
	return out_put(w, off, NULL, len);
}

int fs_out_slices(const struct fs_out *w, size_t off, size_t len,
		  struct iovec *dst, int max, size_t *got)
{
	*got = 0;
	if (off >= w->cap)
		return 0;
	if (len > w->cap - off)
		len = w->cap - off;
	size_t o;
	int i = out_find(w, off, &o);
	int cnt = 0;
	while (len > 0 && i < w->n && cnt < max) {
		size_t k = w->iov[i].iov_len - o;
		if (k > len)
			k = len;
		if (k > 0) {
			dst[cnt].iov_base = (uint8_t *)w->iov[i].iov_base + o;
			dst[cnt].iov_len = k;
			cnt++;
			*got += k;
			len -= k;
		}
		i++;
		o = 0;
	}
	return cnt;
}

/* snap_buf.c - snapshot byte encoding (see snap_buf.h). */
#include "daemon/vm/snapshot/snap_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void snap_writer_init(struct snap_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

static uint8_t *grow(struct snap_writer *w, size_t n)
{
	if (w->oom)
		return NULL;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *b = realloc(w->buf, cap);
		if (!b) {
			w->oom = true;
			return NULL;
		}
		w->buf = b;
		w->cap = cap;
	}
	uint8_t *p = w->buf + w->len;
	w->len += n;
	return p;
}

static void put_le(struct snap_writer *w, uint64_t v, int n)
{
	uint8_t *p = grow(w, (size_t)n);
	for (int i = 0; p && i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void snap_put_u8(struct snap_writer *w, uint8_t v) { put_le(w, v, 1); }
void snap_put_u16(struct snap_writer *w, uint16_t v) { put_le(w, v, 2); }
void snap_put_u32(struct snap_writer *w, uint32_t v) { put_le(w, v, 4); }
void snap_put_u64(struct snap_writer *w, uint64_t v) { put_le(w, v, 8); }
void snap_put_bool(struct snap_writer *w, bool v) { put_le(w, v ? 1 : 0, 1); }

void snap_put_bytes(struct snap_writer *w, const void *p, size_t n)
{
	uint8_t *d = grow(w, n);
	if (d && n)
		memcpy(d, p, n);
}

void snap_put_str(struct snap_writer *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	snap_put_u32(w, (uint32_t)n);
	snap_put_bytes(w, s, n);
}

size_t snap_begin(struct snap_writer *w, uint32_t tag, uint32_t version)
{
	snap_put_u32(w, tag);
	snap_put_u32(w, version);
	size_t h = w->len;
	snap_put_u32(w, 0); /* length, patched by snap_end */
	return h;
}

void snap_end(struct snap_writer *w, size_t handle)
{
	if (w->oom || handle + 4 > w->len)
		return;
	uint32_t n = (uint32_t)(w->len - handle - 4);
	for (int i = 0; i < 4; i++)
		w->buf[handle + i] = (uint8_t)(n >> (8 * i));
}

void snap_reader_init(struct snap_reader *r, const void *p, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->len = len;
}

bool snap_fail(struct snap_reader *r, const char *fmt, ...)
{
	if (r->bad)
		return false;
	r->bad = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return false;
}

static bool take(struct snap_reader *r, size_t n, const uint8_t **out)
{
	*out = NULL;
	if (r->bad)
		return false;
	if (n > r->len - r->off)
		return snap_fail(r, "truncated at byte %zu (wanted %zu more, %zu left)",
				 r->base + r->off, n, r->len - r->off);
	*out = r->p + r->off;
	r->off += n;
	return true;
}

static bool get_le(struct snap_reader *r, uint64_t *v, int n)
{
	const uint8_t *p;
	if (!take(r, (size_t)n, &p))
		return false;
	uint64_t x = 0;
	for (int i = 0; i < n; i++)
		x |= (uint64_t)p[i] << (8 * i);
	*v = x;
	return true;
}

bool snap_get_u8(struct snap_reader *r, uint8_t *v)
{
	uint64_t x;
	if (!get_le(r, &x, 1))
		return false;
	*v = (uint8_t)x;
	return true;
}

bool snap_get_u16(struct snap_reader *r, uint16_t *v)
{
	uint64_t x;
	if (!get_le(r, &x, 2))
		return false;
	*v = (uint16_t)x;
	return true;
}

bool snap_get_u32(struct snap_reader *r, uint32_t *v)
{
	uint64_t x;
	if (!get_le(r, &x, 4))
		return false;
	*v = (uint32_t)x;
	return true;
}

bool snap_get_u64(struct snap_reader *r, uint64_t *v)
{
	return get_le(r, v, 8);
}

bool snap_get_bool(struct snap_reader *r, bool *v)
{
	uint8_t b;
	if (!snap_get_u8(r, &b))
		return false;
	if (b > 1)
		return snap_fail(r, "byte %zu: boolean %u is neither 0 nor 1",
				 r->base + r->off - 1, b);
	*v = b;
	return true;
}

bool snap_get_bytes(struct snap_reader *r, void *p, size_t n)
{
	const uint8_t *s;
	if (!take(r, n, &s))
		return false;
	if (n)
		memcpy(p, s, n);
	return true;
}

bool snap_get_sized(struct snap_reader *r, void *p, uint32_t n, const char *what)
{
	uint32_t got;
	if (!snap_get_u32(r, &got))
		return false;
	if (got != n)
		return snap_fail(r, "%s is %u bytes; this host's KVM uses %u", what, got, n);
	return snap_get_bytes(r, p, n);
}

void snap_put_sized(struct snap_writer *w, const void *p, uint32_t n)
{
	snap_put_u32(w, n);
	snap_put_bytes(w, p, n);
}

bool snap_get_str(struct snap_reader *r, char *out, size_t cap)
{
	uint32_t n;
	if (!snap_get_u32(r, &n))
		return false;
	if ((size_t)n >= cap)
		return snap_fail(r, "byte %zu: a %u-byte string where at most %zu fit",
				 r->base + r->off - 4, n, cap - 1);
	if (!snap_get_bytes(r, out, n))
		return false;
	out[n] = '\0';
	if (memchr(out, '\0', n))
		return snap_fail(r, "byte %zu: string holds a NUL", r->base + r->off - n);
	return true;
}

static void tag_text(uint32_t tag, char out[5])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)(tag >> (8 * i));
		out[i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	out[4] = '\0';
}

bool snap_peek_tag(const struct snap_reader *r, uint32_t *tag)
{
	if (r->bad || r->len - r->off < 4)
		return false;
	const uint8_t *p = r->p + r->off;
	*tag = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return true;
}

bool snap_open(struct snap_reader *r, uint32_t tag, uint32_t max_version,
	       struct snap_reader *sub, uint32_t *version)
{
	char want[5], got[5];
	tag_text(tag, want);
	size_t at = r->base + r->off;
	uint32_t t, v, n;
	if (!r->bad && r->len - r->off < 12)
		return snap_fail(r, "section %s truncated at byte %zu (%zu of its 12 header bytes)",
				 want, at, r->len - r->off);
	if (!snap_get_u32(r, &t) || !snap_get_u32(r, &v) || !snap_get_u32(r, &n))
		return false;
	tag_text(t, got);
	if (t != tag)
		return snap_fail(r, "byte %zu: section %s where %s was expected", at, got, want);
	if (v < 1 || v > max_version)
		return snap_fail(r, "section %s: format version %u (this build reads 1 to %u)",
				 want, v, max_version);
	if (n > r->len - r->off)
		return snap_fail(r, "section %s at byte %zu: its length %u runs past the end "
				 "(%zu bytes left)", want, at, n, r->len - r->off);
	const uint8_t *body;
	if (!take(r, n, &body))
		return false;
	snap_reader_init(sub, body, n);
	sub->base = r->base + (size_t)(body - r->p);
	if (version)
		*version = v;
	return true;
}

bool snap_done(struct snap_reader *r, const char *what)
{
	if (r->bad)
		return false;
	if (r->off != r->len)
		return snap_fail(r, "%s: %zu bytes left over", what, r->len - r->off);
	return true;
}

bool snap_merge(struct snap_reader *r, const struct snap_reader *sub, const char *what)
{
	if (!sub->bad)
		return !r->bad;
	return snap_fail(r, "%s: %s", what, sub->err);
}

/* agent_proto.c - pure encode/decode of the agent wire protocol.
 *
 * Compiled into both the guest agent (static init) and the host client
 * library; see agent_proto.h for the format. No I/O, no global state:
 * everything here is exercised directly by tests/unit/guest.
 */
#include "agent_proto.h"

#include <stdlib.h>
#include <string.h>

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void sm_hdr_encode(uint8_t out[SM_AGENT_HDR_SIZE], const struct sm_hdr *h)
{
	put_le(out, h->len, 4);
	put_le(out + 4, h->type, 2);
	put_le(out + 6, h->flags, 2);
	put_le(out + 8, h->id, 4);
}

bool sm_msg_type_known(uint16_t type)
{
	return strcmp(sm_msg_type_name(type), "?") != 0;
}

const char *sm_msg_type_name(uint16_t type)
{
	switch (type) {
	case SM_MSG_HELLO: return "HELLO";
	case SM_MSG_ERROR: return "ERROR";
	case SM_MSG_OK: return "OK";
	case SM_MSG_PING: return "PING";
	case SM_MSG_PONG: return "PONG";
	case SM_MSG_EXEC: return "EXEC";
	case SM_MSG_STARTED: return "STARTED";
	case SM_MSG_STDIN: return "STDIN";
	case SM_MSG_STDOUT: return "STDOUT";
	case SM_MSG_STDERR: return "STDERR";
	case SM_MSG_SIGNAL: return "SIGNAL";
	case SM_MSG_RESIZE: return "RESIZE";
	case SM_MSG_EXIT: return "EXIT";
	case SM_MSG_EXEC_FAILED: return "EXEC_FAILED";
	case SM_MSG_WRITE: return "WRITE";
	case SM_MSG_READ: return "READ";
	case SM_MSG_INFO: return "INFO";
	case SM_MSG_DATA: return "DATA";
	case SM_MSG_SHUTDOWN: return "SHUTDOWN";
	case SM_MSG_SYNC: return "SYNC";
	case SM_MSG_MOUNT_FS: return "MOUNT_FS";
	case SM_MSG_FS_EVENTS: return "FS_EVENTS";
	case SM_MSG_NET_CONFIG: return "NET_CONFIG";
	}
	return "?";
}

int sm_hdr_decode(const uint8_t in[SM_AGENT_HDR_SIZE], struct sm_hdr *h,
		  const char **why)
{
	h->len = (uint32_t)get_le(in, 4);
	h->type = (uint16_t)get_le(in + 4, 2);
	h->flags = (uint16_t)get_le(in + 6, 2);
	h->id = (uint32_t)get_le(in + 8, 4);
	if (h->len > SM_AGENT_MAX_PAYLOAD)
		*why = "oversized frame";
	else if (h->flags != 0)
		*why = "reserved header flags set";
	else if (!sm_msg_type_known(h->type))
		*why = "unknown message type";
	else
		return 0;
	return -1;
}

/* ---- writer ---- */

void sm_wbuf_free(struct sm_wbuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = false;
}

static uint8_t *wbuf_grow(struct sm_wbuf *b, size_t n)
{
	if (b->err)
		return NULL;
	if (n > SIZE_MAX / 2 - b->len) {
		b->err = true;
		return NULL;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *d = realloc(b->data, cap);
		if (!d) {
			b->err = true;
			return NULL;
		}
		b->data = d;
		b->cap = cap;
	}
	uint8_t *p = b->data + b->len;
	b->len += n;
	return p;
}

void sm_put_u16(struct sm_wbuf *b, uint16_t v)
{
	uint8_t *p = wbuf_grow(b, 2);
	if (p)
		put_le(p, v, 2);
}

void sm_put_u32(struct sm_wbuf *b, uint32_t v)
{
	uint8_t *p = wbuf_grow(b, 4);
	if (p)
		put_le(p, v, 4);
}

void sm_put_u64(struct sm_wbuf *b, uint64_t v)
{
	uint8_t *p = wbuf_grow(b, 8);
	if (p)
		put_le(p, v, 8);
}

void sm_put_bytes(struct sm_wbuf *b, const void *src, size_t n)
{
	uint8_t *p = n ? wbuf_grow(b, n) : NULL;
	if (p)
		memcpy(p, src, n);
}

void sm_put_str(struct sm_wbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n > SM_AGENT_MAX_PAYLOAD) {
		b->err = true;
		return;
	}
	sm_put_u32(b, (uint32_t)n);
	sm_put_bytes(b, s, n);
}

size_t sm_frame_begin(struct sm_wbuf *b, uint16_t type, uint32_t id)
{
	size_t start = b->len;
	uint8_t *p = wbuf_grow(b, SM_AGENT_HDR_SIZE);
	if (p) {
		struct sm_hdr h = { .len = 0, .type = type, .flags = 0, .id = id };
		sm_hdr_encode(p, &h);
	}
	return start;
}

int sm_frame_end(struct sm_wbuf *b, size_t start)
{
	if (b->err || b->len < start + SM_AGENT_HDR_SIZE ||
	    b->len - start - SM_AGENT_HDR_SIZE > SM_AGENT_MAX_PAYLOAD) {
		if (b->len > start)
			b->len = start;
		b->err = false; /* the buffer itself is still usable */
		return -1;
	}
	put_le(b->data + start, b->len - start - SM_AGENT_HDR_SIZE, 4);
	return 0;
}

/* ---- reader ---- */

void sm_rbuf_init(struct sm_rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = false;
}

static const uint8_t *rbuf_take(struct sm_rbuf *r, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

int sm_get_u16(struct sm_rbuf *r, uint16_t *v)
{
	const uint8_t *p = rbuf_take(r, 2);
	if (!p)
		return -1;
	*v = (uint16_t)get_le(p, 2);
	return 0;
}

int sm_get_u32(struct sm_rbuf *r, uint32_t *v)
{
	const uint8_t *p = rbuf_take(r, 4);
	if (!p)
		return -1;
	*v = (uint32_t)get_le(p, 4);
	return 0;
}

int sm_get_i32(struct sm_rbuf *r, int32_t *v)
{
	uint32_t u;
	if (sm_get_u32(r, &u))
		return -1;
	*v = (int32_t)u;
	return 0;
}

int sm_get_u64(struct sm_rbuf *r, uint64_t *v)
{
	const uint8_t *p = rbuf_take(r, 8);
	if (!p)
		return -1;
	*v = get_le(p, 8);
	return 0;
}

int sm_get_str(struct sm_rbuf *r, char **s)
{
	uint32_t n;
	*s = NULL;
	if (sm_get_u32(r, &n))
		return -1;
	const uint8_t *p = rbuf_take(r, n);
	if (!p || memchr(p, 0, n)) {
		r->err = true;
		return -1;
	}
	char *c = malloc((size_t)n + 1);
	if (!c) {
		r->err = true;
		return -1;
	}
	memcpy(c, p, n);
	c[n] = 0;
	*s = c;
	return 0;
}

int sm_get_bytes(struct sm_rbuf *r, void *out, size_t n)
{
	const uint8_t *p = rbuf_take(r, n);
	if (!p)
		return -1;
	memcpy(out, p, n);
	return 0;
}

int sm_rbuf_done(const struct sm_rbuf *r)
{
	return (!r->err && r->off == r->len) ? 0 : -1;
}

/* agent_client_proto.c - hybrid vsock lines and frame reassembly (see .h). */
#include "agent_client_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t hv_connect_line(char *buf, size_t size, uint32_t port)
{
	int n = snprintf(buf, size, "CONNECT %u\n", port);
	return n < 0 ? 0 : (size_t)n;
}

int hv_parse_reply(const char *line, uint32_t *host_port)
{
	if (strncmp(line, "OK ", 3) != 0)
		return -1;
	const char *p = line + 3;
	uint64_t v = 0;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p++ - '0');
		if (v > 0xffffffffu)
			return -1;
	}
	if (*p == '\r')
		p++;
	if (*p == '\n')
		p++;
	if (*p)
		return -1;
	*host_port = (uint32_t)v;
	return 0;
}

uint8_t *frame_reader_space(struct frame_reader *r, size_t n)
{
	if (r->off) { /* drop consumed frames first */
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (n > r->cap - r->len) {
		size_t cap = r->cap ? r->cap : 65536;
		while (cap - r->len < n)
			cap *= 2;
		uint8_t *b = realloc(r->buf, cap);
		if (!b)
			return NULL;
		r->buf = b;
		r->cap = cap;
	}
	return r->buf + r->len;
}

void frame_reader_commit(struct frame_reader *r, size_t n)
{
	r->len += n;
}

int frame_reader_feed(struct frame_reader *r, const void *p, size_t n)
{
	uint8_t *space = frame_reader_space(r, n);
	if (!space)
		return -1;
	if (n)
		memcpy(space, p, n);
	frame_reader_commit(r, n);
	return 0;
}

int frame_reader_next(struct frame_reader *r, struct sm_hdr *h, const uint8_t **payload,
		      const char **why)
{
	size_t avail = r->len - r->off;
	if (avail < SM_AGENT_HDR_SIZE)
		return 0;
	if (sm_hdr_decode(r->buf + r->off, h, why))
		return -1;
	if (avail - SM_AGENT_HDR_SIZE < h->len)
		return 0;
	*payload = r->buf + r->off + SM_AGENT_HDR_SIZE;
	r->off += SM_AGENT_HDR_SIZE + h->len;
	return 1;
}

size_t frame_reader_pending(const struct frame_reader *r)
{
	return r->len - r->off;
}

void frame_reader_free(struct frame_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

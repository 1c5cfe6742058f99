/* agent_client_proto.h - pure helpers of the agent client (no I/O).
 *
 * The hybrid vsock handshake lines and a frame reassembler that turns a
 * byte stream into whole frames, rejecting bad headers. Split from
 * agent_client.c so tests/unit/guest can feed them arbitrary bytes.
 */
#ifndef SM_AGENT_CLIENT_PROTO_H
#define SM_AGENT_CLIENT_PROTO_H

#include "agent_proto.h"

#include <stddef.h>
#include <stdint.h>

/* "CONNECT <port>\n" into buf; returns its length. */
size_t hv_connect_line(char *buf, size_t size, uint32_t port);
/* Parses a reply line (with or without '\n'): 0 and *host_port for
 * "OK <n>", else -1. */
int hv_parse_reply(const char *line, uint32_t *host_port);

/* Byte stream -> frames. */
struct frame_reader {
	uint8_t *buf;
	size_t len, cap, off;
};

/* Appends bytes; -1 on allocation failure. */
int frame_reader_feed(struct frame_reader *r, const void *p, size_t n);
/* Room for n more bytes at the end (to receive into directly), or NULL;
 * frames handed out before are no longer valid. commit: n of it filled. */
uint8_t *frame_reader_space(struct frame_reader *r, size_t n);
void frame_reader_commit(struct frame_reader *r, size_t n);
/* 1 and the next whole frame (payload points into the reader, valid until
 * the next feed), 0 if more bytes are needed, -1 with *why for a bad
 * header (the stream is then unusable). */
int frame_reader_next(struct frame_reader *r, struct sm_hdr *h, const uint8_t **payload,
		      const char **why);
/* Bytes of a partial frame left (non-zero at EOF = truncated). */
size_t frame_reader_pending(const struct frame_reader *r);
void frame_reader_free(struct frame_reader *r);

#endif

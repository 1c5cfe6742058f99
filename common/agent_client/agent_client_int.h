/* agent_client_int.h - internals shared by agent_client*.c (not public).
 *
 * agent_client.c: connection, queueing, waiting; agent_client_exec.c:
 * EXEC; agent_client_file.c: WRITE/READ; agent_client_sync.c: SYNC;
 * agent_client_mount.c: MOUNT_FS.
 */
#ifndef SM_AGENT_CLIENT_INT_H
#define SM_AGENT_CLIENT_INT_H

#include "agent_client.h"
#include "agent_client_proto.h"

#include <pthread.h>

#define OUT_LIMIT (1u << 20) /* queue at most this much before waiting */

struct agent_client {
	int fd;
	int wake[2];
	pthread_mutex_t mu;
	struct sm_wbuf out; /* guarded by mu */
	size_t out_off;     /* guarded by mu */
	uint32_t exec_id;   /* running exec, guarded by mu */
	uint32_t next_id;
	struct frame_reader rd;
	struct sm_hello hello;
	char err[512];
	int32_t agent_errno; /* errno of the last ERROR taken, 0 if none */
	uint32_t exec_failure; /* the last exec's EXEC_FAILED kind, 0 if none */
};

enum { EV_FRAME = 1, EV_INPUT = 2 };

void ac_set_err(struct agent_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int64_t ac_deadline_of(int timeout_ms); /* -1 = never */
int ac_remaining(int64_t deadline);
int ac_queue_data(struct agent_client *c, uint16_t type, uint32_t id, const void *p, size_t n);
int ac_queue_u32(struct agent_client *c, uint16_t type, uint32_t id, int n, uint32_t a, uint32_t b);
/* EV_FRAME (h, p set), EV_INPUT (input_fd readable), or -1 (c->err). */
int ac_next_event(struct agent_client *c, int input_fd, int64_t deadline,
	       struct sm_hdr *h, const uint8_t **p);
/* Until the send queue is below its limit; incoming bytes are buffered. */
int ac_wait_room(struct agent_client *c, int64_t deadline);
/* Next frame for id, skipping others; an ERROR for id (or id 0) is -1. */
int ac_wait_for(struct agent_client *c, uint32_t id, int64_t deadline,
	     struct sm_hdr *h, const uint8_t **p, const char *what);
/* The answer to request id, which must be OK: 0, or -1 with c->err and
 * errno (the agent's errno for its ERROR, EIO, EPROTO). */
int ac_wait_ok(struct agent_client *c, uint32_t id, int timeout_ms, const char *what);
/* The ERROR's message into c->err (as "what: message"), its errno into
 * c->agent_errno. */
void ac_take_error(struct agent_client *c, const struct sm_hdr *h, const uint8_t *p,
		const char *what);

#endif

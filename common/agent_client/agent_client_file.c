/* agent_client_file.c - WRITE and READ from the host: stage files in/out.
 *
 * A write queues the WRITE header and then DATA chunks, never more than
 * the client's queue limit ahead of the socket, then an empty DATA, and
 * waits for OK. A read collects INFO and DATA chunks up to max_len.
 */
#include "agent_client_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int agent_client_write_file(struct agent_client *c, const char *path, uint32_t mode,
			    const void *data, size_t len, int timeout_ms)
{
	int64_t deadline = ac_deadline_of(timeout_ms);
	uint32_t id = ++c->next_id;
	struct sm_hdr h;
	const uint8_t *p;
	pthread_mutex_lock(&c->mu);
	size_t f = sm_frame_begin(&c->out, SM_MSG_WRITE, id);
	sm_put_u32(&c->out, mode);
	sm_put_str(&c->out, path);
	int rc = sm_frame_end(&c->out, f);
	pthread_mutex_unlock(&c->mu);
	if (rc) {
		ac_set_err(c, "write %s: request too large", path);
		return -1;
	}
	for (size_t off = 0; off < len;) {
		size_t n = len - off < SM_AGENT_DATA_CHUNK ? len - off : SM_AGENT_DATA_CHUNK;
		if (ac_queue_data(c, SM_MSG_DATA, id, (const uint8_t *)data + off, n) ||
		    ac_wait_room(c, deadline))
			return -1;
		off += n;
	}
	if (ac_queue_data(c, SM_MSG_DATA, id, NULL, 0) ||
	    ac_wait_for(c, id, deadline, &h, &p, path))
		return -1;
	if (h.type != SM_MSG_OK) {
		ac_set_err(c, "write %s: unexpected %s", path, sm_msg_type_name(h.type));
		return -1;
	}
	return 0;
}

static int read_info(struct agent_client *c, const struct sm_hdr *h, const uint8_t *p,
		     uint32_t *mode, const char *path)
{
	struct sm_rbuf r;
	uint64_t size;
	sm_rbuf_init(&r, p, h->len);
	sm_get_u32(&r, mode);
	sm_get_u64(&r, &size);
	if (h->type != SM_MSG_INFO || sm_rbuf_done(&r)) {
		ac_set_err(c, "read %s: expected INFO, got %s", path, sm_msg_type_name(h->type));
		return -1;
	}
	return 0;
}

int agent_client_read_file(struct agent_client *c, const char *path, size_t max_len,
			   void **data, size_t *len, uint32_t *mode, int timeout_ms)
{
	int64_t deadline = ac_deadline_of(timeout_ms);
	uint32_t id = ++c->next_id, m = 0;
	struct sm_hdr h;
	const uint8_t *p;
	uint8_t *buf = NULL;
	size_t n = 0;
	*data = NULL;
	*len = 0;
	pthread_mutex_lock(&c->mu);
	size_t f = sm_frame_begin(&c->out, SM_MSG_READ, id);
	sm_put_str(&c->out, path);
	int rc = sm_frame_end(&c->out, f);
	pthread_mutex_unlock(&c->mu);
	if (rc || ac_wait_for(c, id, deadline, &h, &p, path) || read_info(c, &h, p, &m, path))
		return -1;
	for (;;) {
		if (ac_wait_for(c, id, deadline, &h, &p, path))
			goto fail;
		if (h.type != SM_MSG_DATA) {
			ac_set_err(c, "read %s: unexpected %s", path, sm_msg_type_name(h.type));
			goto fail;
		}
		if (h.len == 0)
			break;
		if (h.len > max_len - n) {
			ac_set_err(c, "read %s: larger than %zu bytes", path, max_len);
			goto fail; /* the connection still holds the rest: close it */
		}
		uint8_t *b = realloc(buf, n + h.len);
		if (!b) {
			ac_set_err(c, "read %s: out of memory", path);
			goto fail;
		}
		buf = b;
		memcpy(buf + n, p, h.len);
		n += h.len;
	}
	*data = buf ? buf : calloc(1, 1);
	*len = n;
	if (mode)
		*mode = m;
	return 0;
fail:
	free(buf);
	return -1;
}

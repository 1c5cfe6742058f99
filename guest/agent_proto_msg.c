/* agent_proto_msg.c - encode/decode of the agent's structured messages.
 *
 * Builds on the primitive writer/reader of agent_proto.c: EXEC requests,
 * HELLO, EXIT, ERROR, SYNC and the small fixed frames. Decoders are strict: a
 * payload must be consumed exactly, strings must hold no NUL, counts are
 * bounded, so a hostile peer only ever gets an error back.
 */
#include "agent_proto.h"

#include <stdlib.h>
#include <string.h>

static void free_strv(char **v, uint32_t n)
{
	if (!v)
		return;
	for (uint32_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void sm_exec_req_free(struct sm_exec_req *req)
{
	free(req->cwd);
	free_strv(req->argv, req->argc);
	free_strv(req->env, req->envc);
	free(req->groups);
	memset(req, 0, sizeof(*req));
}

int sm_exec_req_encode(struct sm_wbuf *b, uint32_t id, const struct sm_exec_req *req)
{
	size_t f = sm_frame_begin(b, SM_MSG_EXEC, id);
	sm_put_u32(b, req->flags);
	sm_put_u32(b, req->uid);
	sm_put_u32(b, req->gid);
	sm_put_u32(b, req->timeout_ms);
	sm_put_u16(b, req->rows);
	sm_put_u16(b, req->cols);
	sm_put_str(b, req->cwd ? req->cwd : "");
	sm_put_u32(b, req->argc);
	for (uint32_t i = 0; i < req->argc; i++)
		sm_put_str(b, req->argv[i]);
	sm_put_u32(b, req->envc);
	for (uint32_t i = 0; i < req->envc; i++)
		sm_put_str(b, req->env[i]);
	if (req->flags & SM_EXEC_GROUPS) {
		if (req->ngroups > SM_EXEC_MAX_GROUPS)
			b->err = true;
		sm_put_u32(b, req->ngroups);
		for (uint32_t i = 0; i < req->ngroups && i < SM_EXEC_MAX_GROUPS; i++)
			sm_put_u32(b, req->groups[i]);
	}
	return sm_frame_end(b, f);
}

/* Reads n strings into a NULL-terminated vector; n was bounded by caller. */
static int get_strv(struct sm_rbuf *r, uint32_t n, char ***out)
{
	char **v = calloc((size_t)n + 1, sizeof(*v));
	if (!v)
		return -1;
	*out = v;
	for (uint32_t i = 0; i < n; i++)
		if (sm_get_str(r, &v[i]))
			return -1;
	return 0;
}

static int get_groups(struct sm_rbuf *r, struct sm_exec_req *req, const char **why)
{
	if (sm_get_u32(r, &req->ngroups))
		return -1;
	if (req->ngroups > SM_EXEC_MAX_GROUPS) {
		*why = "EXEC ngroups out of range";
		return -1;
	}
	req->groups = calloc(req->ngroups + 1, sizeof(*req->groups));
	if (!req->groups)
		return -1;
	for (uint32_t i = 0; i < req->ngroups; i++)
		if (sm_get_u32(r, &req->groups[i]))
			return -1;
	return 0;
}

static int exec_req_body(struct sm_rbuf *r, struct sm_exec_req *req, const char **why)
{
	*why = "malformed EXEC";
	if (sm_get_u32(r, &req->flags) || sm_get_u32(r, &req->uid) ||
	    sm_get_u32(r, &req->gid) || sm_get_u32(r, &req->timeout_ms) ||
	    sm_get_u16(r, &req->rows) || sm_get_u16(r, &req->cols) ||
	    sm_get_str(r, &req->cwd))
		return -1;
	uint32_t argc, envc;
	if (sm_get_u32(r, &argc))
		return -1;
	if (argc == 0 || argc > SM_AGENT_MAX_ARGS) {
		*why = "EXEC argc out of range";
		return -1;
	}
	req->argc = argc;
	if (get_strv(r, argc, &req->argv) || sm_get_u32(r, &envc))
		return -1;
	if (envc > SM_AGENT_MAX_ARGS) {
		*why = "EXEC envc out of range";
		return -1;
	}
	req->envc = envc;
	if (get_strv(r, envc, &req->env))
		return -1;
	if (req->flags & ~SM_EXEC_FLAGS) {
		*why = "unknown EXEC flags";
		return -1;
	}
	if ((req->flags & SM_EXEC_GROUPS) && get_groups(r, req, why))
		return -1;
	return sm_rbuf_done(r);
}

int sm_exec_req_decode(const void *payload, size_t len, struct sm_exec_req *req,
		       const char **why)
{
	struct sm_rbuf r;
	memset(req, 0, sizeof(*req));
	sm_rbuf_init(&r, payload, len);
	if (exec_req_body(&r, req, why) == 0)
		return 0;
	sm_exec_req_free(req);
	return -1;
}

int sm_hello_encode(struct sm_wbuf *b, const struct sm_hello *h, bool from_guest)
{
	size_t f = sm_frame_begin(b, SM_MSG_HELLO, 0);
	sm_put_u32(b, h->version);
	sm_put_u32(b, h->max_payload);
	if (from_guest) {
		sm_put_u32(b, h->cpus);
		sm_put_u64(b, h->mem_kib);
		sm_put_str(b, h->name);
	}
	return sm_frame_end(b, f);
}

int sm_hello_decode(const void *p, size_t len, struct sm_hello *h, bool from_guest)
{
	struct sm_rbuf r;
	memset(h, 0, sizeof(*h));
	sm_rbuf_init(&r, p, len);
	sm_get_u32(&r, &h->version);
	sm_get_u32(&r, &h->max_payload);
	if (from_guest) {
		sm_get_u32(&r, &h->cpus);
		sm_get_u64(&r, &h->mem_kib);
		sm_get_str(&r, &h->name);
	}
	if (sm_rbuf_done(&r) == 0)
		return 0;
	free(h->name);
	h->name = NULL;
	return -1;
}

int sm_exit_encode(struct sm_wbuf *b, uint32_t id, const struct sm_exit_msg *e)
{
	size_t f = sm_frame_begin(b, SM_MSG_EXIT, id);
	sm_put_u32(b, (uint32_t)e->code);
	sm_put_u32(b, (uint32_t)e->signal);
	sm_put_u32(b, e->flags);
	return sm_frame_end(b, f);
}

int sm_exit_decode(const void *p, size_t len, struct sm_exit_msg *e)
{
	struct sm_rbuf r;
	sm_rbuf_init(&r, p, len);
	sm_get_i32(&r, &e->code);
	sm_get_i32(&r, &e->signal);
	sm_get_u32(&r, &e->flags);
	return sm_rbuf_done(&r);
}

int sm_exec_failed_encode(struct sm_wbuf *b, uint32_t id, uint32_t kind, const char *msg)
{
	size_t f = sm_frame_begin(b, SM_MSG_EXEC_FAILED, id);
	sm_put_u32(b, kind);
	sm_put_str(b, msg);
	return sm_frame_end(b, f);
}

int sm_exec_failed_decode(const void *p, size_t len, uint32_t *kind, char **msg)
{
	struct sm_rbuf r;
	*msg = NULL;
	sm_rbuf_init(&r, p, len);
	sm_get_u32(&r, kind);
	sm_get_str(&r, msg);
	if (sm_rbuf_done(&r) == 0 &&
	    (*kind == SM_EXEC_NOT_FOUND || *kind == SM_EXEC_NOT_EXECUTABLE))
		return 0;
	free(*msg);
	*msg = NULL;
	return -1;
}

int sm_error_encode(struct sm_wbuf *b, uint32_t id, int32_t err, const char *msg)
{
	size_t f = sm_frame_begin(b, SM_MSG_ERROR, id);
	sm_put_u32(b, (uint32_t)err);
	sm_put_str(b, msg);
	return sm_frame_end(b, f);
}

int sm_error_decode(const void *p, size_t len, int32_t *err, char **msg)
{
	struct sm_rbuf r;
	sm_rbuf_init(&r, p, len);
	sm_get_i32(&r, err);
	sm_get_str(&r, msg);
	if (sm_rbuf_done(&r) == 0)
		return 0;
	free(*msg);
	*msg = NULL;
	return -1;
}

bool sm_hostname_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > SM_SYNC_HOSTNAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return false;
	}
	return true;
}

int sm_sync_req_encode(struct sm_wbuf *b, uint32_t id, const struct sm_sync_req *req)
{
	if (req->nsec >= 1000000000u || (req->hostname[0] && !sm_hostname_valid(req->hostname)))
		return -1;
	size_t f = sm_frame_begin(b, SM_MSG_SYNC, id);
	sm_put_u64(b, req->sec);
	sm_put_u32(b, req->nsec);
	sm_put_bytes(b, req->entropy, SM_SYNC_ENTROPY);
	sm_put_str(b, req->hostname);
	return sm_frame_end(b, f);
}

int sm_sync_req_decode(const void *p, size_t len, struct sm_sync_req *req, const char **why)
{
	struct sm_rbuf r;
	char *host = NULL;
	memset(req, 0, sizeof(*req));
	sm_rbuf_init(&r, p, len);
	sm_get_u64(&r, &req->sec);
	sm_get_u32(&r, &req->nsec);
	sm_get_bytes(&r, req->entropy, SM_SYNC_ENTROPY);
	sm_get_str(&r, &host);
	*why = NULL;
	if (sm_rbuf_done(&r))
		*why = "malformed SYNC";
	else if (req->nsec >= 1000000000u)
		*why = "SYNC nanoseconds out of range";
	else if (req->sec > (uint64_t)INT64_MAX)
		*why = "SYNC seconds out of range";
	else if (host[0] && !sm_hostname_valid(host))
		*why = "SYNC hostname is not 1-64 letters, digits, '-' or '.'";
	else
		memcpy(req->hostname, host, strlen(host) + 1);
	free(host);
	return *why ? -1 : 0;
}

int sm_u32_frame(struct sm_wbuf *b, uint16_t type, uint32_t id, int n, uint32_t a, uint32_t c)
{
	size_t f = sm_frame_begin(b, type, id);
	if (n >= 1)
		sm_put_u32(b, a);
	if (n >= 2)
		sm_put_u32(b, c);
	return sm_frame_end(b, f);
}

int sm_data_frame(struct sm_wbuf *b, uint16_t type, uint32_t id, const void *p, size_t n)
{
	size_t f = sm_frame_begin(b, type, id);
	sm_put_bytes(b, p, n);
	return sm_frame_end(b, f);
}

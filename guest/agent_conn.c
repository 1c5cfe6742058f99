/* agent_conn.c - one host connection: framing, output queue, dispatch.
 *
 * Input is parsed into whole frames (agent_proto.h); a bad header (too
 * large, unknown type, reserved flags), a first message that is not a
 * HELLO of our version, a message only the guest may send, or EOF inside
 * a frame is answered with ERROR (id 0) and the connection is closed once
 * that reply is flushed. Other connections are unaffected.
 *
 * Lifetime rule: handlers never free a connection directly; they mark it
 * (closing/dead) and end with conn_update(), the only place that frees.
 */
#include "agent_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK (64u << 10)

static void on_conn(struct agent *a, struct watch *w, uint32_t events);

/* Before a power-off: the OK to SHUTDOWN is in the socket, but the guest's
 * vsock driver sends it asynchronously, and powering off at once can lose
 * it. Half-close and wait (bounded) for the host to close its end. */
static void wait_for_peer_close(int fd)
{
	char buf[256];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	shutdown(fd, SHUT_WR);
	while (poll(&p, 1, 2000) == 1 && read(fd, buf, sizeof(buf)) > 0)
		;
}

struct conn *conn_new(struct agent *a, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->agent = a;
	if (agent_watch(a, &c->w, fd, EPOLLIN, on_conn)) {
		free(c);
		return NULL;
	}
	c->next = a->conns;
	a->conns = c;
	return c;
}

void conn_free(struct conn *c)
{
	struct agent *a = c->agent;
	while (c->execs)
		exec_abandon(c->execs);
	while (c->files) {
		struct fileop *f = c->files;
		c->files = f->next;
		file_abandon(f);
	}
	if (c->shutdown_after_flush)
		wait_for_peer_close(c->w.fd);
	agent_unwatch(a, &c->w);
	for (struct conn **p = &a->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	bool shutdown = c->shutdown_after_flush;
	uint32_t how = c->shutdown_how;
	sm_wbuf_free(&c->out);
	free(c->in);
	free(c);
	if (shutdown) {
		if (a->hooks && a->hooks->shutdown)
			a->hooks->shutdown(a->hooks->opaque, how);
		a->stop = true;
	}
}

static size_t out_pending(const struct conn *c)
{
	return c->out.len - c->out_off;
}

bool conn_congested(const struct conn *c)
{
	return out_pending(c) > OUT_HIGH;
}

bool conn_id_busy(const struct conn *c, uint32_t id)
{
	if (exec_find((struct conn *)c, id))
		return true;
	for (struct fileop *f = c->files; f; f = f->next)
		if (f->id == id)
			return true;
	return false;
}

void conn_send(struct conn *c, uint16_t type, uint32_t id, const void *p, size_t n)
{
	if (sm_data_frame(&c->out, type, id, p, n))
		c->dead = true;
}

void conn_send_u32(struct conn *c, uint16_t type, uint32_t id, int n, uint32_t a, uint32_t b)
{
	if (sm_u32_frame(&c->out, type, id, n, a, b))
		c->dead = true;
}

void conn_error(struct conn *c, uint32_t id, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sm_error_encode(&c->out, id, err, msg))
		c->dead = true;
}

void conn_fatal(struct conn *c, int err, const char *why)
{
	if (c->closing)
		return;
	conn_error(c, 0, err, "%s", why);
	c->closing = true;
	while (c->execs)
		exec_abandon(c->execs);
}

static void conn_flush(struct conn *c)
{
	while (out_pending(c) > 0) {
		ssize_t n = write(c->w.fd, c->out.data + c->out_off, out_pending(c));
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->dead = true;
			if (errno != EINTR)
				return;
			continue;
		}
		c->out_off += (size_t)n;
		c->flushed += (uint64_t)n;
	}
	c->out.len = c->out_off = 0;
}

void conn_check_stall(struct conn *c)
{
	if (out_pending(c) == 0 || c->flushed != c->flushed_seen) {
		c->flushed_seen = c->flushed;
		c->stalled = 0;
		return;
	}
	if (++c->stalled != AGENT_STALL_CHECKS)
		return;
	struct pollfd p = { .fd = c->w.fd, .events = POLLOUT };
	int writable = poll(&p, 1, 0) == 1 ? (p.revents & POLLOUT) != 0 : -1;
	int nexec = 0;
	for (struct exec *e = c->execs; e; e = e->next)
		nexec++;
	fprintf(stderr, "agent: connection fd %d: %zu bytes queued, none sent for %u s "
		"(socket writable: %d, revents %#x, watched events %#x, %d execs, %llu bytes sent)\n",
		c->w.fd, out_pending(c), AGENT_STALL_CHECKS * AGENT_STALL_CHECK_MS / 1000, writable,
		p.revents, c->w.events, nexec, (unsigned long long)c->flushed);
}

static bool stdin_congested(const struct conn *c)
{
	for (const struct exec *e = c->execs; e; e = e->next)
		if (exec_stdin_congested(e))
			return true;
	return false;
}

/* Re-arm the producers paused by backpressure (process pipes, file
 * reads) once the queue is below OUT_LOW, then send what they queued.
 *
 * The queue is judged AFTER flushing: an EPOLLOUT flush may drain it from
 * above OUT_LOW straight to empty, and an empty queue asks for no further
 * EPOLLOUT. Judged before the flush, that was the last wakeup: the pipes
 * stayed unwatched, the process blocked on a full pipe and the exec hung
 * (a file READ likewise stopped sending DATA midway). The second flush
 * may drain the queue to empty too: pipes then wake us themselves, file
 * reads through reading_files() below. */
static void conn_pump(struct conn *c)
{
	if (!c->dead)
		conn_flush(c);
	if (c->dead || out_pending(c) >= OUT_LOW)
		return;
	for (struct exec *e = c->execs; e; e = e->next)
		exec_resume_output(e);
	file_pump(c);
	if (!c->dead)
		conn_flush(c);
}

/* A regular file being READ has no event of its own (epoll does not take
 * regular files): the socket's writability is what drives file_pump, so
 * EPOLLOUT stays armed while one is open, even with an empty queue. */
static bool reading_files(const struct conn *c)
{
	for (const struct fileop *f = c->files; f; f = f->next)
		if (f->reading)
			return true;
	return false;
}

void conn_update(struct conn *c)
{
	conn_pump(c);
	bool idle = !c->execs && !c->files && out_pending(c) == 0;
	if (c->dead || (c->closing && out_pending(c) == 0) ||
	    (c->read_eof && idle) || (c->shutdown_after_flush && out_pending(c) == 0)) {
		conn_free(c);
		return;
	}
	uint32_t ev = 0;
	if (!c->closing && !c->read_eof && !stdin_congested(c))
		ev |= EPOLLIN;
	if (out_pending(c) || reading_files(c))
		ev |= EPOLLOUT;
	agent_watch_set(c->agent, &c->w, ev);
}

static void dispatch_hello(struct conn *c, const struct sm_hdr *h, const uint8_t *p)
{
	struct sm_hello in, out = { 0 };
	if (h->type != SM_MSG_HELLO) {
		conn_fatal(c, EPROTO, "expected HELLO as the first message");
		return;
	}
	if (sm_hello_decode(p, h->len, &in, false)) {
		conn_fatal(c, EPROTO, "malformed HELLO");
		return;
	}
	if (in.version < SM_AGENT_MIN_VERSION || in.version > SM_AGENT_VERSION) {
		char msg[80];
		snprintf(msg, sizeof(msg), "unsupported protocol version %u (agent speaks %u..%u)",
			 in.version, SM_AGENT_MIN_VERSION, SM_AGENT_VERSION);
		conn_fatal(c, EPROTONOSUPPORT, msg);
		return;
	}
	c->version = in.version;
	out.version = in.version;
	out.max_payload = SM_AGENT_MAX_PAYLOAD;
	out.cpus = c->agent->hooks ? c->agent->hooks->cpus : 0;
	out.mem_kib = c->agent->hooks ? c->agent->hooks->mem_kib : 0;
	out.name = "supermachine-init";
	if (sm_hello_encode(&c->out, &out, true))
		c->dead = true;
	c->hello_done = true;
}

static bool check_new_id(struct conn *c, uint32_t id)
{
	if (id == 0) {
		conn_error(c, id, EINVAL, "request id 0 is reserved");
		return false;
	}
	if (conn_id_busy(c, id)) {
		conn_error(c, id, EBUSY, "request id %u is in use", id);
		return false;
	}
	return true;
}

static void dispatch_shutdown(struct conn *c, const struct sm_hdr *h, const uint8_t *p)
{
	struct sm_rbuf r;
	uint32_t how = 0;
	sm_rbuf_init(&r, p, h->len);
	sm_get_u32(&r, &how);
	if (sm_rbuf_done(&r) || how > SM_SHUTDOWN_REBOOT) {
		conn_error(c, h->id, EINVAL, "malformed SHUTDOWN");
		return;
	}
	conn_send(c, SM_MSG_OK, h->id, NULL, 0);
	c->shutdown_after_flush = true;
	c->shutdown_how = how;
}

/* A hook's answer: OK, or ERROR with its errno e and message err. */
static void answer_hook(struct conn *c, uint32_t id, int e, const char *err)
{
	if (e)
		conn_error(c, id, e, "%s", err);
	else
		conn_send(c, SM_MSG_OK, id, NULL, 0);
}

/* SYNC: answered at once (the hook's work is a few system calls). */
static void dispatch_sync(struct conn *c, const struct sm_hdr *h, const uint8_t *p)
{
	const struct agent_hooks *hooks = c->agent->hooks;
	struct sm_sync_req req;
	const char *why;
	char err[400] = "";
	if (c->version < 2) {
		conn_error(c, h->id, EPROTO, "SYNC needs protocol version 2 (this connection speaks %u)",
			   c->version);
		return;
	}
	if (sm_sync_req_decode(p, h->len, &req, &why)) {
		conn_error(c, h->id, EINVAL, "%s", why);
		return;
	}
	if (!hooks || !hooks->sync) {
		conn_error(c, h->id, ENOSYS, "SYNC is not supported by this agent");
		return;
	}
	answer_hook(c, h->id, hooks->sync(hooks->opaque, &req, err, sizeof(err)), err);
}

/* MOUNT_FS: answered at once (mkdir and mount in the guest's own
 * filesystems; the virtio-fs handshake is one round trip to the VMM). */
static void dispatch_mount_fs(struct conn *c, const struct sm_hdr *h, const uint8_t *p)
{
	const struct agent_hooks *hooks = c->agent->hooks;
	struct sm_mount_req req;
	const char *why;
	char err[600] = "";
	if (c->version < 3) {
		conn_error(c, h->id, EPROTO,
			   "MOUNT_FS needs protocol version 3 (this connection speaks %u)", c->version);
		return;
	}
	if (sm_mount_req_decode(p, h->len, &req, &why)) {
		conn_error(c, h->id, EINVAL, "mount %.300s: %s", req.path ? req.path : "?", why);
	} else if (!hooks || !hooks->mount_fs) {
		conn_error(c, h->id, ENOSYS, "mount %.300s: MOUNT_FS is not supported by this agent",
			   req.path);
	} else {
		answer_hook(c, h->id, hooks->mount_fs(hooks->opaque, &req, err, sizeof(err)), err);
	}
	sm_mount_req_free(&req);
}

/* NET_CONFIG: answered at once (a few rtnetlink requests and a file). */
static void dispatch_net_config(struct conn *c, const struct sm_hdr *h, const uint8_t *p)
{
	const struct agent_hooks *hooks = c->agent->hooks;
	struct sm_net_req req;
	const char *why;
	char err[400] = "";
	if (c->version < 6) {
		conn_error(c, h->id, EPROTO,
			   "NET_CONFIG needs protocol version 6 (this connection speaks %u)", c->version);
	} else if (sm_net_req_decode(p, h->len, &req, &why)) {
		conn_error(c, h->id, EINVAL, "%s", why);
	} else if (!hooks || !hooks->net_config) {
		conn_error(c, h->id, ENOSYS, "NET_CONFIG is not supported by this agent");
	} else {
		answer_hook(c, h->id, hooks->net_config(hooks->opaque, &req, err, sizeof(err)), err);
	}
}

/* FS_EVENTS: applied at once (each record is a few FUSE round trips to
 * the VMM in the guest's kernel). */
static void dispatch_fs_events(struct conn *c, const struct sm_hdr *h, const uint8_t *p)
{
	const struct agent_hooks *hooks = c->agent->hooks;
	struct sm_fsev_req req;
	const char *why;
	char err[600] = "";
	if (c->version < 4) {
		conn_error(c, h->id, EPROTO,
			   "FS_EVENTS needs protocol version 4 (this connection speaks %u)", c->version);
		return;
	}
	if (sm_fsev_req_decode(p, h->len, &req, &why)) {
		conn_error(c, h->id, EINVAL, "FS_EVENTS for %.300s: %s", req.root ? req.root : "?",
			   why);
	} else if (!hooks || !hooks->fs_events) {
		conn_error(c, h->id, ENOSYS, "FS_EVENTS is not supported by this agent");
	} else {
		answer_hook(c, h->id, hooks->fs_events(hooks->opaque, &req, err, sizeof(err)), err);
	}
	sm_fsev_req_free(&req);
}

static void dispatch(struct conn *c, const struct sm_hdr *h, const uint8_t *p)
{
	struct exec *e;
	if (!c->hello_done) {
		dispatch_hello(c, h, p);
		return;
	}
	switch (h->type) {
	case SM_MSG_PING:
		conn_send(c, SM_MSG_PONG, h->id, NULL, 0);
		break;
	case SM_MSG_EXEC:
		if (check_new_id(c, h->id))
			exec_start(c, h->id, p, h->len);
		break;
	case SM_MSG_STDIN:
		if ((e = exec_find(c, h->id)))
			exec_stdin(e, p, h->len);
		break;
	case SM_MSG_SIGNAL:
		if ((e = exec_find(c, h->id)))
			exec_signal(e, p, h->len);
		break;
	case SM_MSG_RESIZE:
		if ((e = exec_find(c, h->id)))
			exec_resize(e, p, h->len);
		break;
	case SM_MSG_WRITE:
		if (check_new_id(c, h->id))
			file_write_start(c, h->id, p, h->len);
		break;
	case SM_MSG_READ:
		if (check_new_id(c, h->id))
			file_read_start(c, h->id, p, h->len);
		break;
	case SM_MSG_DATA:
		file_data(c, h->id, p, h->len);
		break;
	case SM_MSG_SHUTDOWN:
		dispatch_shutdown(c, h, p);
		break;
	case SM_MSG_SYNC:
		dispatch_sync(c, h, p);
		break;
	case SM_MSG_MOUNT_FS:
		dispatch_mount_fs(c, h, p);
		break;
	case SM_MSG_NET_CONFIG:
		dispatch_net_config(c, h, p);
		break;
	case SM_MSG_FS_EVENTS:
		dispatch_fs_events(c, h, p);
		break;
	default: {
		char msg[64];
		snprintf(msg, sizeof(msg), "unexpected %s from the host",
			 sm_msg_type_name(h->type));
		conn_fatal(c, EPROTO, msg);
	}
	}
}

/* Dispatch every whole frame in c->in; keep the partial rest. */
static void conn_parse(struct conn *c)
{
	size_t off = 0;
	while (!c->closing && !c->dead && c->in_len - off >= SM_AGENT_HDR_SIZE) {
		struct sm_hdr h;
		const char *why;
		if (sm_hdr_decode(c->in + off, &h, &why)) {
			conn_fatal(c, h.len > SM_AGENT_MAX_PAYLOAD ? EMSGSIZE : EPROTO, why);
			break;
		}
		if (c->in_len - off - SM_AGENT_HDR_SIZE < h.len)
			break;
		dispatch(c, &h, c->in + off + SM_AGENT_HDR_SIZE);
		off += SM_AGENT_HDR_SIZE + h.len;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

static void conn_read(struct conn *c)
{
	if (c->in_cap - c->in_len < READ_CHUNK) {
		size_t cap = c->in_len + READ_CHUNK;
		uint8_t *n = realloc(c->in, cap);
		if (!n) {
			c->dead = true;
			return;
		}
		c->in = n;
		c->in_cap = cap;
	}
	ssize_t n = read(c->w.fd, c->in + c->in_len, c->in_cap - c->in_len);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->dead = true;
		return;
	}
	if (n == 0) {
		c->read_eof = true;
		if (c->in_len > 0)
			conn_fatal(c, EPROTO, "truncated frame");
		return;
	}
	c->in_len += (size_t)n;
	conn_parse(c);
}

static void on_conn(struct agent *a, struct watch *w, uint32_t events)
{
	struct conn *c = (struct conn *)w; /* w is the first member */
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->read_eof && !c->closing)
		conn_read(c);
	/* Peer closed both ways (or the socket failed): nothing more can be
	 * delivered, so processes of this connection are killed. */
	if ((events & (EPOLLHUP | EPOLLERR)) && (c->read_eof || c->closing) &&
	    !c->shutdown_after_flush)
		c->dead = true;
	conn_update(c);
}

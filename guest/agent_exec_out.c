/* agent_exec_out.c - an exec's stdout and stderr, to its connection.
 *
 * Each read of a stream becomes a STDOUT/STDERR frame, and each frame a
 * vsock packet: a VM exit to the VMM and an interrupt back. A command
 * that writes a steady stream in small pieces (busybox `head` writes
 * 4 KiB at a time) would pay that per piece, and the agent a wakeup. So
 * while a stream keeps coming - its last piece came less than STEADY_NS
 * ago - it rests: it is not watched for WAIT_NS (one timerfd per exec),
 * the command's pipe (1 MiB) fills meanwhile, and then all of it is read
 * and sent in frames of OUT_CHUNK, one vsock packet each. A lone
 * piece (a prompt, a log line) goes at once, and so does everything on a
 * pty (a terminal echoes keys). The other stream's waiting bytes go
 * before a piece is sent, and both go before EOF, so no output is ever
 * held past the EXIT, which exec_maybe_finish sends once both are closed.
 */
#include "agent_int.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* A frame of OUT_CHUNK data bytes is 64 KiB with its header: one vsock
 * packet (the guest driver's largest), not a full one and a 12-byte one. */
#define OUT_CHUNK (SM_AGENT_DATA_CHUNK - SM_AGENT_HDR_SIZE)
#define STEADY_NS 2000000L /* 2 ms */
#define WAIT_NS   8000000L /* 8 ms */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void send_waiting(struct exec *e, int i)
{
	struct exec_out *o = &e->outq[i];
	if (o->len)
		conn_send(e->conn, i ? SM_MSG_STDERR : SM_MSG_STDOUT, e->id, o->buf, o->len);
	o->len = 0;
}

static struct watch *stream_watch(struct exec *e, int i)
{
	return i ? &e->err : &e->out;
}

/* Reads stream i once into its queue (sent when full): 1 with bytes, 0
 * when the pipe is empty for now, -1 at its end (then its bytes and the
 * other stream's were sent, and it is unwatched). */
static int read_piece(struct exec *e, int i)
{
	struct exec_out *o = &e->outq[i];
	struct watch *w = stream_watch(e, i);
	if (!o->buf && !(o->buf = malloc(OUT_CHUNK))) {
		e->conn->dead = true;
		return -1;
	}
	ssize_t n = read(w->fd, o->buf + o->len, OUT_CHUNK - o->len);
	if (n > 0) {
		o->len += (size_t)n;
		if (o->len == OUT_CHUNK)
			send_waiting(e, i);
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	send_waiting(e, !i);
	send_waiting(e, i);
	agent_unwatch(e->conn->agent, w);
	return -1;
}

/* A resting stream's pile: read all of it (while the connection takes
 * more), send it, and watch the stream again. */
static void wake_stream(struct exec *e, int i)
{
	struct exec_out *o = &e->outq[i];
	struct watch *w = stream_watch(e, i);
	if (!o->resting)
		return;
	o->resting = false;
	while (w->fd >= 0 && !conn_congested(e->conn) && read_piece(e, i) > 0)
		o->last_ns = now_ns();
	send_waiting(e, i);
	if (w->fd >= 0 && !conn_congested(e->conn))
		agent_watch_set(e->conn->agent, w, EPOLLIN); /* else exec_resume_output */
}

static void on_flush_timer(struct agent *a, struct watch *w, uint32_t events)
{
	struct exec *e = EXEC_OF(w, flush);
	struct conn *c = e->conn; /* exec_maybe_finish may free e */
	uint64_t ticks;
	ssize_t n = read(w->fd, &ticks, sizeof ticks);
	(void)n;
	e->flush_armed = false;
	wake_stream(e, 0);
	wake_stream(e, 1);
	exec_maybe_finish(e);
	conn_update(c);
}

/* 0 once the flush timer runs; -1 if it cannot (then send at once). */
static int arm_flush(struct exec *e)
{
	if (e->flush_armed)
		return 0;
	if (e->flush.fd < 0) {
		int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (fd < 0 || agent_watch(e->conn->agent, &e->flush, fd, EPOLLIN, on_flush_timer))
			return -1;
	}
	struct itimerspec its = { .it_value = { .tv_nsec = WAIT_NS } };
	if (timerfd_settime(e->flush.fd, 0, &its, NULL))
		return -1;
	e->flush_armed = true;
	return 0;
}

/* Stream i is readable: a piece goes at once, or - when the stream is
 * steady - the stream rests (unwatched) until the timer reads its pile. */
static void on_output(struct exec *e, struct watch *w, int i)
{
	struct conn *c = e->conn;
	struct exec_out *o = &e->outq[i];
	if (conn_congested(c)) {
		agent_watch_set(c->agent, w, 0); /* exec_resume_output re-arms */
		return;
	}
	uint64_t t = now_ns();
	bool steady = !e->pty && t - o->last_ns < (uint64_t)STEADY_NS;
	o->last_ns = t;
	if (read_piece(e, i) > 0) {
		send_waiting(e, !i);
		if (steady && arm_flush(e) == 0) {
			agent_watch_set(c->agent, w, 0);
			o->resting = true;
		} else {
			send_waiting(e, i);
		}
	}
	exec_maybe_finish(e);
	conn_update(c);
}

void exec_on_stdout(struct agent *a, struct watch *w, uint32_t events)
{
	on_output(EXEC_OF(w, out), w, 0);
}

void exec_on_stderr(struct agent *a, struct watch *w, uint32_t events)
{
	on_output(EXEC_OF(w, err), w, 1);
}

void exec_resume_output(struct exec *e)
{
	agent_watch_set(e->conn->agent, &e->out, EPOLLIN);
	agent_watch_set(e->conn->agent, &e->err, EPOLLIN);
}

void exec_out_free(struct exec *e)
{
	agent_unwatch(e->conn->agent, &e->flush);
	for (int i = 0; i < 2; i++)
		free(e->outq[i].buf);
}

/* agent_exec.c - running processes for EXEC requests.
 *
 * An exec owns up to five watches: stdout and stderr read ends (or the pty
 * master), the stdin write end, a timerfd for the timeout and one for
 * output that waits to be sent. Output is forwarded as STDOUT/STDERR
 * frames (agent_exec_out.c, which gathers a steady stream's small pieces
 * into fewer packets); EXIT is sent once the
 * process was reaped AND both output streams reached EOF, so no output
 * ever follows EXIT. A timeout SIGKILLs the process group (the child is a
 * session leader) and the EXIT says SM_EXIT_TIMED_OUT.
 */
#include "agent_int.h"
#include "agent_spawn.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

struct exec *exec_find(struct conn *c, uint32_t id)
{
	for (struct exec *e = c->execs; e; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}

static void exec_unlink(struct exec *e)
{
	for (struct exec **p = &e->conn->execs; *p; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			return;
		}
}

static void exec_free(struct exec *e)
{
	struct agent *a = e->conn->agent;
	agent_unwatch(a, &e->out);
	agent_unwatch(a, &e->err);
	agent_unwatch(a, &e->in);
	agent_unwatch(a, &e->timer);
	exec_out_free(e);
	exec_unlink(e);
	free(e->inq);
	free(e);
}

void exec_abandon(struct exec *e)
{
	if (!e->exited)
		kill(-e->pid, SIGKILL);
	exec_free(e);
}

void exec_maybe_finish(struct exec *e)
{
	if (!e->exited || e->out.fd >= 0 || e->err.fd >= 0)
		return;
	struct sm_exit_msg m = { .code = -1, .signal = 0,
				 .flags = e->timed_out ? SM_EXIT_TIMED_OUT : 0 };
	if (WIFEXITED(e->status))
		m.code = WEXITSTATUS(e->status);
	else if (WIFSIGNALED(e->status))
		m.signal = WTERMSIG(e->status);
	if (sm_exit_encode(&e->conn->out, e->id, &m))
		e->conn->dead = true;
	exec_free(e);
}

bool exec_stdin_congested(const struct exec *e)
{
	return e->inq_len - e->inq_off > IN_HIGH;
}

/* Write queued stdin; close it (or send VEOF on a pty) once drained
 * after an empty STDIN. A reader that went away drops the queue. */
static void stdin_drain(struct exec *e)
{
	struct agent *a = e->conn->agent;
	while (e->in.fd >= 0 && e->inq_off < e->inq_len) {
		ssize_t n = write(e->in.fd, e->inq + e->inq_off, e->inq_len - e->inq_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			agent_unwatch(a, &e->in);
			break;
		}
		e->inq_off += (size_t)n;
	}
	if (e->inq_off == e->inq_len)
		e->inq_off = e->inq_len = 0;
	if (e->in.fd >= 0 && e->stdin_eof && e->inq_len == 0) {
		if (e->pty) {
			char eof = 4; /* VEOF in canonical mode */
			ssize_t n = write(e->in.fd, &eof, 1);
			(void)n;
			e->stdin_eof = false;
		} else {
			agent_unwatch(a, &e->in);
		}
	}
	agent_watch_set(a, &e->in, e->inq_len ? EPOLLOUT : 0);
}

static void on_stdin(struct agent *a, struct watch *w, uint32_t events)
{
	struct exec *e = EXEC_OF(w, in);
	stdin_drain(e);
	conn_update(e->conn);
}

void exec_stdin(struct exec *e, const uint8_t *p, size_t n)
{
	if (e->in.fd < 0)
		return;
	if (n == 0) {
		e->stdin_eof = true;
	} else {
		if (e->inq_off) {
			memmove(e->inq, e->inq + e->inq_off, e->inq_len - e->inq_off);
			e->inq_len -= e->inq_off;
			e->inq_off = 0;
		}
		uint8_t *q = realloc(e->inq, e->inq_len + n);
		if (!q) {
			e->conn->dead = true;
			return;
		}
		memcpy(q + e->inq_len, p, n);
		e->inq = q;
		e->inq_len += n;
	}
	stdin_drain(e);
}

void exec_signal(struct exec *e, const void *payload, size_t len)
{
	struct sm_rbuf r;
	uint32_t v = 0;
	sm_rbuf_init(&r, payload, len);
	sm_get_u32(&r, &v);
	int sig = (int)(v & 0xffff);
	if (sm_rbuf_done(&r) || sig <= 0 || sig >= NSIG || e->exited)
		return;
	kill((v & SM_SIGNAL_GROUP) ? -e->pid : e->pid, sig);
}

void exec_resize(struct exec *e, const void *payload, size_t len)
{
	struct sm_rbuf r;
	uint32_t rows = 0, cols = 0;
	sm_rbuf_init(&r, payload, len);
	sm_get_u32(&r, &rows);
	sm_get_u32(&r, &cols);
	if (sm_rbuf_done(&r) || !e->pty || e->in.fd < 0 || rows > 0xffff || cols > 0xffff)
		return;
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	ioctl(e->in.fd, TIOCSWINSZ, &ws);
}

static void on_timer(struct agent *a, struct watch *w, uint32_t events)
{
	struct exec *e = EXEC_OF(w, timer);
	if (!e->exited) {
		e->timed_out = true;
		kill(-e->pid, SIGKILL);
	}
	agent_unwatch(a, w);
	conn_update(e->conn);
}

static int arm_timer(struct exec *e, uint32_t ms)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
						.tv_nsec = (long)(ms % 1000) * 1000000 } };
	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return agent_watch(e->conn->agent, &e->timer, fd, EPOLLIN, on_timer);
}

void exec_reaped(struct agent *a, pid_t pid, int status)
{
	for (struct conn *c = a->conns; c; c = c->next)
		for (struct exec *e = c->execs; e; e = e->next) {
			if (e->pid != pid)
				continue;
			e->exited = true;
			e->status = status;
			agent_unwatch(a, &e->timer);
			exec_maybe_finish(e);
			conn_update(c);
			return;
		}
}

static struct exec *exec_new(struct conn *c, uint32_t id)
{
	struct exec *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->conn = c;
	e->id = id;
	e->pid = -1;
	e->out.fd = e->err.fd = e->in.fd = e->timer.fd = e->flush.fd = -1;
	return e;
}

static int exec_watch(struct exec *e, const struct spawn_result *sr, uint32_t timeout_ms)
{
	struct agent *a = e->conn->agent;
	int rc = 0;
	rc |= agent_watch(a, &e->out, sr->out_fd, EPOLLIN, exec_on_stdout);
	if (sr->err_fd >= 0)
		rc |= agent_watch(a, &e->err, sr->err_fd, EPOLLIN, exec_on_stderr);
	if (sr->in_fd >= 0)
		rc |= agent_watch(a, &e->in, sr->in_fd, 0, on_stdin);
	if (timeout_ms)
		rc |= arm_timer(e, timeout_ms);
	return rc ? -1 : 0;
}

void exec_start(struct conn *c, uint32_t id, const void *payload, size_t len)
{
	struct sm_exec_req req;
	struct spawn_result sr;
	const char *why;
	char err[300];
	if (sm_exec_req_decode(payload, len, &req, &why)) {
		conn_error(c, id, EINVAL, "%s", why);
		return;
	}
	struct exec *e = exec_new(c, id);
	int rc = e ? spawn_process(&req, &sr, err, sizeof(err)) : -ENOMEM;
	if (rc && e && sr.fail_kind && c->version >= 5) {
		if (sm_exec_failed_encode(&c->out, id, sr.fail_kind, err))
			c->dead = true;
		free(e);
		sm_exec_req_free(&req);
		return;
	}
	if (rc) {
		conn_error(c, id, -rc, "%s", e ? err : "out of memory");
		free(e);
		sm_exec_req_free(&req);
		return;
	}
	e->pid = sr.pid;
	e->pty = req.flags & SM_EXEC_PTY;
	e->next = c->execs;
	c->execs = e;
	if (exec_watch(e, &sr, req.timeout_ms)) {
		/* every fd is held by its watch, added or not: freed below */
		conn_error(c, id, errno, "epoll: %s", strerror(errno));
		exec_abandon(e);
	} else {
		conn_send_u32(c, SM_MSG_STARTED, id, 1, (uint32_t)sr.pid, 0);
	}
	sm_exec_req_free(&req);
}

/* agent_client_exec.c - EXEC from the host: run, stream, collect the exit.
 *
 * Sends EXEC, then forwards spec->stdin_fd as STDIN frames (an empty one at
 * its EOF) while delivering STDOUT/STDERR to the callbacks, until EXIT.
 * An ERROR for the exec means it never started; so does EXEC_FAILED
 * (protocol 5: the command was not found or cannot be run), whose kind
 * agent_client_exec_failure() tells. Groups and SM_EXEC_MKCWD are sent
 * only to agents of protocol 5 on (older ones refuse unknown flags).
 */
#include "agent_client_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t count(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

static int send_exec(struct agent_client *c, uint32_t id, const struct agent_exec_spec *s)
{
	bool v5 = c->hello.version >= 5;
	struct sm_exec_req req = {
		.flags = (s->pty ? SM_EXEC_PTY : 0) | (s->stdin_fd >= 0 ? SM_EXEC_STDIN : 0) |
			 (v5 && s->mkcwd ? SM_EXEC_MKCWD : 0) |
			 (v5 && s->ngroups ? SM_EXEC_GROUPS : 0),
		.uid = s->uid, .gid = s->gid, .timeout_ms = s->timeout_ms,
		.rows = s->rows, .cols = s->cols, .cwd = (char *)(s->cwd ? s->cwd : ""),
		.argc = (uint32_t)count(s->argv), .argv = (char **)s->argv,
		.envc = (uint32_t)count(s->env), .env = (char **)s->env,
		.ngroups = v5 ? s->ngroups : 0, .groups = (uint32_t *)s->groups,
	};
	if (req.argc == 0) {
		ac_set_err(c, "exec: empty argv");
		return -1;
	}
	pthread_mutex_lock(&c->mu);
	int rc = sm_exec_req_encode(&c->out, id, &req);
	if (rc == 0)
		c->exec_id = id;
	pthread_mutex_unlock(&c->mu);
	if (rc)
		ac_set_err(c, "exec %s: request too large", s->argv[0]);
	return rc;
}

/* Forwards one read of stdin; *open becomes false at EOF. */
static int forward_stdin(struct agent_client *c, uint32_t id, int fd, bool *open)
{
	uint8_t buf[SM_AGENT_DATA_CHUNK];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		*open = false;
	return ac_queue_data(c, SM_MSG_STDIN, id, buf, n > 0 ? (size_t)n : 0);
}

/* 1 when the exec is over (res filled), 0 to go on, -1 on error. */
static int on_frame(struct agent_client *c, const struct sm_hdr *h, const uint8_t *p,
		    const struct agent_exec_io *io, struct agent_exec_result *res,
		    const char *cmd)
{
	struct sm_exit_msg m;
	struct sm_rbuf r;
	uint32_t pid = 0;
	switch (h->type) {
	case SM_MSG_STDOUT:
	case SM_MSG_STDERR: {
		void (*cb)(void *, const void *, size_t) =
			h->type == SM_MSG_STDOUT ? io->on_stdout : io->on_stderr;
		if (cb && h->len)
			cb(io->opaque, p, h->len);
		return 0;
	}
	case SM_MSG_STARTED:
		sm_rbuf_init(&r, p, h->len);
		sm_get_u32(&r, &pid);
		if (io->on_started && sm_rbuf_done(&r) == 0)
			io->on_started(io->opaque, pid);
		return 0;
	case SM_MSG_EXIT:
		if (sm_exit_decode(p, h->len, &m)) {
			ac_set_err(c, "exec %s: malformed EXIT", cmd);
			return -1;
		}
		res->exit_code = m.code;
		res->signal = m.signal;
		res->timed_out = m.flags & SM_EXIT_TIMED_OUT;
		return 1;
	case SM_MSG_ERROR:
		ac_take_error(c, h, p, cmd);
		return -1;
	case SM_MSG_EXEC_FAILED: {
		char *msg = NULL;
		uint32_t kind = 0;
		if (sm_exec_failed_decode(p, h->len, &kind, &msg)) {
			ac_set_err(c, "exec %s: malformed EXEC_FAILED", cmd);
			return -1;
		}
		ac_set_err(c, "%s", msg);
		c->exec_failure = kind;
		free(msg);
		return -1;
	}
	}
	ac_set_err(c, "exec %s: unexpected %s", cmd, sm_msg_type_name(h->type));
	return -1;
}

int agent_client_exec(struct agent_client *c, const struct agent_exec_spec *spec,
		      const struct agent_exec_io *io, struct agent_exec_result *res)
{
	uint32_t id = ++c->next_id;
	bool in_open = spec->stdin_fd >= 0;
	int rc = 0;
	memset(res, 0, sizeof(*res));
	c->exec_failure = 0;
	if (send_exec(c, id, spec))
		return -1;
	while (rc == 0) {
		struct sm_hdr h;
		const uint8_t *p;
		int ev = ac_next_event(c, in_open ? spec->stdin_fd : -1, -1, &h, &p);
		if (ev < 0)
			rc = -1;
		else if (ev == EV_INPUT)
			rc = forward_stdin(c, id, spec->stdin_fd, &in_open);
		else if (h.id == id || (h.id == 0 && h.type == SM_MSG_ERROR))
			rc = on_frame(c, &h, p, io, res, spec->argv[0]);
	}
	pthread_mutex_lock(&c->mu);
	c->exec_id = 0;
	pthread_mutex_unlock(&c->mu);
	return rc > 0 ? 0 : -1;
}

uint32_t agent_client_exec_failure(const struct agent_client *c)
{
	return c->exec_failure;
}

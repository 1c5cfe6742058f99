/* h_vms_exec_tty.c - POST /v1/vms/{id}/exec/tty: an interactive command on
 * a guest pty, over an HTTP upgrade.
 *
 * The request is the exec body (argv, env, cwd, user, timeout) plus rows
 * and cols, with `Connection: Upgrade` and `Upgrade: supermachine-tty`.
 * Everything is checked first (plain JSON errors); then the answer is
 * `101 Switching Protocols` with `X-Exec-Id`, and the connection carries:
 *   client -> daemon  raw terminal input; shutting down the write side
 *                     (or closing) hangs the terminal up (SIGHUP);
 *   daemon -> client  frames: one type byte, a 4-byte big-endian length,
 *                     the payload: 'o' output bytes, then one 'x' with the
 *                     exit as JSON ({"code","signal","timed_out",
 *                     "duration_ms"}) or 'e' with an error object
 *                     ({"code","message"}, codes as the NDJSON form's); then
 *                     the daemon closes.
 * A pump thread copies the socket into a pipe the agent client forwards
 * as the pty's input; the exec's own thread writes the frames. Resizing
 * and signals go through the exec's resize and signal routes.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/api/exec_job.h"
#include "daemon/api/handlers.h"
#include "daemon/api/json_in.h"
#include "daemon/api/metrics.h"
#include "daemon/api/reply.h"
#include "daemon/api/stream.h"
#include "daemon/api/vms_req.h"
#include "common/agent_client/agent_client.h"
#include "daemon/vms/vms.h"

#define PUMP_POLL_MS 200

struct tty {
	struct exec_job *j;
	int in_w;                  /* the pipe's write end: terminal input */
	pthread_t pump;
	volatile int stop;         /* the exec is over: the pump ends */
	bool hung_up;              /* the client went away first */
};

/* Writes all of p to the (possibly non-blocking) socket; -1 if it is gone. */
static int send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			if (poll(&pf, 1, 10000) <= 0)
				return -1;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_frame(int fd, char type, const void *p, size_t n)
{
	unsigned char h[STREAM_FRAME_HEAD];
	stream_frame_head(h, type, n);
	return send_all(fd, h, sizeof h) || send_all(fd, p, n) ? -1 : 0;
}

static void on_output(void *ud, const void *p, size_t n)
{
	struct tty *t = ud;
	if (send_frame(t->j->sock, 'o', p, n) < 0)
		agent_client_signal(t->j->c, SIGHUP | SM_SIGNAL_GROUP);
}

/* Socket -> pipe until the client half-closes or the exec ends. */
static void *pump_thread(void *arg)
{
	struct tty *t = arg;
	char buf[16384];
	while (!t->stop) {
		struct pollfd pf = { .fd = t->j->sock, .events = POLLIN };
		int n = poll(&pf, 1, PUMP_POLL_MS);
		if (n <= 0)
			continue;
		ssize_t r = recv(t->j->sock, buf, sizeof buf, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0 || write(t->in_w, buf, (size_t)r) != r) {
			if (!t->stop) {
				t->hung_up = true;
				agent_client_signal(t->j->c, SIGHUP | SM_SIGNAL_GROUP);
			}
			break;
		}
	}
	close(t->in_w);
	t->in_w = -1;
	return NULL;
}

static void finish(struct tty *t, int rc, const struct agent_exec_result *res)
{
	struct exec_job *j = t->j;
	double secs = exec_job_seconds(j);
	json_t *end = rc == 0
		? json_pack("{s:i,s:i,s:b,s:I}", "code", res->exit_code, "signal", res->signal,
			    "timed_out", res->timed_out, "duration_ms", (json_int_t)(secs * 1000))
		: exec_job_error(j);
	char *text = end ? json_dumps(end, JSON_COMPACT) : NULL;
	if (text)
		send_frame(j->sock, rc == 0 ? 'x' : 'e', text, strlen(text));
	free(text);
	json_decref(end);
	if (rc == 0)
		metrics_exec(j->srv->metrics, secs);
}

static void *tty_thread(void *arg)
{
	struct tty *t = arg;
	struct exec_job *j = t->j;
	struct agent_exec_spec spec = {
		.argv = j->argv, .env = j->env, .cwd = j->cwd, .uid = j->uid, .gid = j->gid,
		.groups = j->groups, .ngroups = j->ngroups, .mkcwd = j->mkcwd,
		.timeout_ms = j->timeout_ms, .stdin_fd = j->stdin_fd, .pty = true,
		.rows = j->rows, .cols = j->cols,
	};
	struct agent_exec_io io = { .on_stdout = on_output, .on_stderr = on_output, .opaque = t };
	struct agent_exec_result res;
	bool pumping = pthread_create(&t->pump, NULL, pump_thread, t) == 0;
	int rc = pumping ? agent_client_exec(j->c, &spec, &io, &res) : -1;
	exec_job_unregister(j);
	if (!t->hung_up)
		finish(t, rc, &res);
	t->stop = 1;
	if (pumping)
		pthread_join(t->pump, NULL);
	else
		close(t->in_w);
	struct api_server *srv = j->srv;
	MHD_upgrade_action(j->urh, MHD_UPGRADE_ACTION_CLOSE);
	exec_job_unref(j);
	free(t);
	server_job_end(srv);
	return NULL;
}

static void upgraded(void *cls, struct MHD_Connection *conn, void *req_cls,
		     const char *extra_in, size_t extra_in_size, MHD_socket sock,
		     struct MHD_UpgradeResponseHandle *urh)
{
	struct exec_job *j = cls;
	struct tty *t = calloc(1, sizeof *t);
	int p[2] = { -1, -1 };
	pthread_t th;
	(void)conn;
	(void)req_cls;
	j->sock = sock;
	j->urh = urh;
	server_job_begin(j->srv);
	if (t && pipe2(p, O_CLOEXEC) == 0 &&
	    (!extra_in_size || write(p[1], extra_in, extra_in_size) == (ssize_t)extra_in_size)) {
		t->j = j;
		t->in_w = p[1];
		j->stdin_fd = p[0];   /* closed with the job */
		if (pthread_create(&th, NULL, tty_thread, t) == 0) {
			pthread_detach(th);
			return;
		}
	}
	json_t *e = error_obj("internal", "no pipe or thread for the terminal");
	char *text = json_dumps(e, JSON_COMPACT);
	if (text)
		send_frame(sock, 'e', text, strlen(text));
	free(text);
	json_decref(e);
	if (p[1] >= 0)
		close(p[1]);
	exec_job_unregister(j);
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
	exec_job_unref(j);
	free(t);
	server_job_end(j->srv);
}

/* 0 if the client asked for our upgrade, else -1 after replying 400. */
static int check_upgrade(struct api_req *r)
{
	const char *up = req_header(r, MHD_HTTP_HEADER_UPGRADE);
	const char *conn = req_header(r, MHD_HTTP_HEADER_CONNECTION);
	if (up && conn && !strcasecmp(up, "supermachine-tty") && strcasestr(conn, "upgrade"))
		return 0;
	reply_error(r, MHD_HTTP_BAD_REQUEST, "upgrade_required",
		    "this route needs \"Connection: Upgrade\" and \"Upgrade: supermachine-tty\"");
	return -1;
}

static int size_of(struct api_req *r, json_t *b, const char *name, uint16_t dflt, uint16_t *out)
{
	json_t *v = json_object_get(b, name);
	json_int_t n = v ? json_integer_value(v) : dflt;
	if (n < 1 || n > 65535) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"%s\" must be 1 to 65535", name);
		return -1;
	}
	*out = (uint16_t)n;
	return 0;
}

static void answer_upgrade(struct api_req *r, struct exec_job *j)
{
	exec_job_register(j);
	struct MHD_Response *resp = MHD_create_response_for_upgrade(upgraded, j);
	if (!resp) {
		exec_job_unregister(j);
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		exec_job_unref(j);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "supermachine-tty");
	MHD_add_response_header(resp, "X-Exec-Id", j->id);
	reply_response(r, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
}

void h_vms_exec_tty(struct api_req *r)
{
	static const struct jin_field fields[] = {
		{ "argv", JIN_STRINGS, false }, { "env", JIN_STRINGS, false },
		{ "cwd", JIN_STRING, false }, { "user", JIN_STRING, false },
		{ "timeout", JIN_UINT, false }, { "rows", JIN_UINT, false },
		{ "cols", JIN_UINT, false }, { NULL },
	};
	if (check_upgrade(r))
		return;
	json_t *b = json_in_body(r, fields);
	if (!b)
		return;
	uint16_t rows, cols;
	if (size_of(r, b, "rows", 24, &rows) || size_of(r, b, "cols", 80, &cols)) {
		json_decref(b);
		return;
	}
	struct exec_job *j = exec_job_open(r, b);
	if (!j)
		return;
	j->rows = rows;
	j->cols = cols;
	if (exec_job_prepare(r, j) < 0) {
		exec_job_unref(j);
		return;
	}
	answer_upgrade(r, j);
}

/* h_vms_exec.c - POST /v1/vms/{id}/exec and POST /v1/vms/{id}/exec/{exec}/signal.
 *
 * The request is checked and the guest agent connected to before anything
 * is streamed, so a bad body, a VM that is not running or an unknown user
 * is a plain HTTP error. The command then runs on a thread of its own
 * (one agent connection per exec) and its output streams back as NDJSON:
 *   {"type":"start","exec_id":"…","pid":N}
 *   {"type":"stdout"|"stderr","data":"<base64>"}   (as the guest writes)
 *   {"type":"exit","code":C,"signal":S,"timed_out":B,"duration_ms":D}
 * or, if the command cannot start or the agent connection fails midway,
 * a last {"type":"error","error":{"code":"…","message":"…"}}; or, when the
 * request accepts EXEC_FRAMES_TYPE, as frames (type byte, big-endian u32
 * length, payload) carrying the same: 's' start JSON, '1' stdout bytes,
 * '2' stderr bytes, then 'x' exit JSON or 'e' the error object (no
 * base64, no JSON per chunk: big outputs move faster). The error code is
 * command_not_found or command_not_executable (docker's 127 and 126, its
 * message) when the agent says so, else exec_failed.
 * A client that hangs up kills the command's process group. While it runs,
 * the signal route forwards a signal to it (the CLI's Ctrl-C), and the
 * resize route sets a pty exec's window size. The checks, preparation and
 * registry of running execs are exec_job.c's.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

#define EXEC_MAX_PENDING (8u << 20)

/* One output line, {"type":"stdout"|"stderr","data":"<base64>"}, written
 * directly (the client's fast path reads exactly this shape), or a frame. */
static void push_chunk(struct exec_job *j, const char *type, const void *p, size_t n)
{
	if (j->frames) {
		if (stream_push_frame_wait(j->s, type[3] == 'o' ? '1' : '2', p, n) < 0)
			agent_client_signal(j->c, SIGKILL | SM_SIGNAL_GROUP);
		return;
	}
	char *line = malloc(64 + 4 * ((n + 2) / 3));
	int rc = -1;
	if (line) {
		size_t len = (size_t)sprintf(line, "{\"type\":\"%s\",\"data\":\"", type);
		len += b64_encode_to(line + len, p, n);
		memcpy(line + len, "\"}", 2);
		rc = stream_push_line_wait(j->s, line, len + 2);   /* held back: no loss */
	}
	if (rc < 0)
		agent_client_signal(j->c, SIGKILL | SM_SIGNAL_GROUP);  /* reader gone */
	free(line);
}

static void on_stdout(void *ud, const void *p, size_t n) { push_chunk(ud, "stdout", p, n); }
static void on_stderr(void *ud, const void *p, size_t n) { push_chunk(ud, "stderr", p, n); }

/* An event: an NDJSON line with its "type", or a frame of that type
 * whose payload is the rest (for 'e', the error object alone). Takes v. */
static void push_event(struct exec_job *j, char frame, const char *type, json_t *v)
{
	if (!j->frames) {
		json_t *line = json_pack("{s:s}", "type", type);   /* "type" first */
		json_object_update(line, v);
		stream_push_final(j->s, line);
		json_decref(line);
	} else {
		json_t *payload = frame == 'e' ? json_object_get(v, "error") : v;
		char *text = json_dumps(payload, JSON_COMPACT);
		if (text)
			stream_push_frame_wait(j->s, frame, text, strlen(text));
		free(text);
	}
	json_decref(v);
}

static void on_started(void *ud, uint32_t pid)
{
	struct exec_job *j = ud;
	push_event(j, 's', "start", json_pack("{s:s,s:i}", "exec_id", j->id, "pid", (int)pid));
}

/* The response is gone (client hung up, or the body ended). */
static void on_close(struct stream *s, void *ud)
{
	struct exec_job *j = ud;
	(void)s;
	pthread_mutex_lock(&j->mu);
	bool done = j->done;
	pthread_mutex_unlock(&j->mu);
	if (!done)
		agent_client_signal(j->c, SIGKILL | SM_SIGNAL_GROUP);
	exec_job_unref(j);
}

static void *exec_thread(void *arg)
{
	struct exec_job *j = arg;
	struct agent_exec_spec spec = {
		.argv = j->argv, .env = j->env, .cwd = j->cwd, .uid = j->uid, .gid = j->gid,
		.groups = j->groups, .ngroups = j->ngroups, .mkcwd = j->mkcwd,
		.timeout_ms = j->timeout_ms, .stdin_fd = j->stdin_fd,
	};
	struct agent_exec_io io = { .on_stdout = on_stdout, .on_stderr = on_stderr,
				    .on_started = on_started, .opaque = j };
	struct agent_exec_result res;
	int rc = agent_client_exec(j->c, &spec, &io, &res);
	double secs = exec_job_seconds(j);
	pthread_mutex_lock(&j->mu);
	j->done = true;
	pthread_mutex_unlock(&j->mu);
	exec_job_unregister(j);
	if (rc == 0)
		push_event(j, 'x', "exit",
			   json_pack("{s:i,s:i,s:b,s:I}", "code", res.exit_code, "signal",
				     res.signal, "timed_out", res.timed_out, "duration_ms",
				     (json_int_t)(secs * 1000)));
	else
		push_event(j, 'e', "error", json_pack("{s:o}", "error", exec_job_error(j)));
	stream_end(j->s);
	if (rc == 0)
		metrics_exec(j->srv->metrics, secs);
	struct api_server *srv = j->srv;
	exec_job_unref(j);
	server_job_end(srv);
	return NULL;
}

static void start_job(struct api_req *r, struct exec_job *j)
{
	pthread_t t;
	j->s = stream_new(-1, EXEC_MAX_PENDING);
	if (!j->s) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		exec_job_unref(j);
		return;
	}
	/* A command may be silent for longer than idle connections may be. */
	MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	j->refs = 2;   /* the thread's and the response's (on_close) */
	exec_job_register(j);
	stream_on_close(j->s, on_close, j);
	reply_stream_as(r, j->s, j->frames ? EXEC_FRAMES_TYPE : "application/x-ndjson");
	server_job_begin(r->srv);
	if (pthread_create(&t, NULL, exec_thread, j) != 0) {
		exec_job_unregister(j);
		push_event(j, 'e', "error",
			   json_pack("{s:o}", "error", error_obj("internal", "no thread for the exec")));
		stream_end(j->s);
		server_job_end(r->srv);
		exec_job_unref(j);
		return;
	}
	pthread_detach(t);
}

void h_vms_exec(struct api_req *r)
{
	static const struct jin_field fields[] = {
		{ "argv", JIN_STRINGS, false }, { "env", JIN_STRINGS, false },
		{ "cwd", JIN_STRING, false }, { "user", JIN_STRING, false },
		{ "timeout", JIN_UINT, false }, { "stdin", JIN_STRING, false }, { NULL },
	};
	json_t *b = json_in_body(r, fields);
	struct exec_job *j = b ? exec_job_open(r, b) : NULL;
	if (!j)
		return;
	if (exec_job_prepare(r, j) < 0 || exec_job_stdin(r, j) < 0) {
		exec_job_unref(j);
		return;
	}
	const char *accept = req_header(r, MHD_HTTP_HEADER_ACCEPT);
	j->frames = accept && strstr(accept, EXEC_FRAMES_TYPE);
	start_job(r, j);
}

/* Runs fn on the running exec {exec} of the VM {id} and replies: 404 when
 * there is none, 500 fail_code ("exec …: could not <what>") when fn
 * fails, else 200 with ok (taken). */
static void on_running_exec(struct api_req *r, int (*fn)(struct exec_job *j, void *arg),
			    void *arg, const char *fail_code, const char *what, json_t *ok)
{
	struct vm_rec *vm = req_vm(r);
	int rc = vm ? exec_job_with(vm, r->params[1], fn, arg) : 0;
	if (vm && rc == -2)
		reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no running exec %s in VM %s",
			    r->params[1], vm_id(vm));
	else if (vm && rc < 0)
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, fail_code,
			    "exec %s: could not %s", r->params[1], what);
	else if (vm) {
		reply_json(r, MHD_HTTP_OK, ok);
		ok = NULL;
	}
	json_decref(ok);
	vm_put(vm);
}

static int send_signal(struct exec_job *j, void *arg)
{
	return agent_client_signal(j->c, *(uint32_t *)arg);
}

void h_vms_exec_signal(struct api_req *r)
{
	static const struct jin_field fields[] = { { "signal", JIN_UINT, true }, { NULL } };
	json_t *b = json_in_body(r, fields);
	if (!b)
		return;
	json_int_t sig = json_integer_value(json_object_get(b, "signal"));
	json_decref(b);
	if (sig < 1 || sig > 64) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"signal\" must be a signal number, 1 to 64");
		return;
	}
	uint32_t signo = (uint32_t)sig | SM_SIGNAL_GROUP;
	on_running_exec(r, send_signal, &signo, "signal_failed", "send the signal",
			json_pack("{s:s,s:I}", "exec_id", r->params[1], "signal", sig));
}

static int send_resize(struct exec_job *j, void *arg)
{
	const uint16_t *rc = arg;
	return agent_client_resize(j->c, rc[0], rc[1]);
}

void h_vms_exec_resize(struct api_req *r)
{
	static const struct jin_field fields[] = {
		{ "rows", JIN_UINT, true }, { "cols", JIN_UINT, true }, { NULL },
	};
	json_t *b = json_in_body(r, fields);
	if (!b)
		return;
	json_int_t rows = json_integer_value(json_object_get(b, "rows"));
	json_int_t cols = json_integer_value(json_object_get(b, "cols"));
	json_decref(b);
	if (rows < 1 || rows > 65535 || cols < 1 || cols > 65535) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "fields \"rows\" and \"cols\" must be 1 to 65535");
		return;
	}
	uint16_t size[2] = { (uint16_t)rows, (uint16_t)cols };
	on_running_exec(r, send_resize, size, "resize_failed", "resize its terminal",
			json_pack("{s:s,s:I,s:I}", "exec_id", r->params[1], "rows", rows,
				  "cols", cols));
}

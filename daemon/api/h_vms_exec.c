/* h_vms_exec.c - POST /v1/vms/{id}/exec and POST /v1/vms/{id}/exec/{exec}/signal.
 *
 * The request is checked and the guest agent connected to before anything
 * is streamed, so a bad body, a VM that is not running or an unknown user
 * is a plain HTTP error. The command then runs on a thread of its own
 * (one agent connection per exec) and its output streams back as NDJSON:
 *   {"type":"start","exec_id":"…","pid":N}
 *   {"type":"stdout"|"stderr","data":"<base64>"}   (as the guest writes)
 *   {"type":"exit","code":C,"signal":S,"timed_out":B,"duration_ms":D}
 * or, if the agent connection fails midway, a last
 *   {"type":"error","error":{"code":"exec_failed","message":"…"}}.
 * A client that hangs up kills the command's process group. While it runs,
 * the signal route forwards a signal to it (the CLI's Ctrl-C).
 */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "daemon/api/handlers.h"
#include "daemon/api/json_in.h"
#include "daemon/api/metrics.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"
#include "daemon/api/stream.h"
#include "daemon/api/vms_req.h"
#include "daemon/vm/agent_client.h"
#include "daemon/vms/vms.h"

#define EXEC_MAX_PENDING (8u << 20)
#define CONNECT_MS 10000
#define ERRLEN 1024

struct exec_job {
	struct api_server *srv;
	struct stream *s;
	struct agent_client *c;
	struct vm_rec *vm;
	char id[17];
	const char **argv, **env;
	json_t *body;              /* owns the strings argv/env point into */
	char *cwd;
	uint32_t uid, gid, timeout_ms;
	int stdin_fd;
	struct timespec t0;
	pthread_mutex_t mu;
	int refs;                  /* the thread and the response */
	bool done;                 /* the command has ended */
	struct exec_job *next;     /* running execs, for the signal route */
};

static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
static struct exec_job *running;

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void job_unref(struct exec_job *j)
{
	pthread_mutex_lock(&j->mu);
	bool last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (!last)
		return;
	if (j->c)
		agent_client_close(j->c);
	if (j->s)
		stream_unref(j->s);
	vm_put(j->vm);
	if (j->stdin_fd >= 0)
		close(j->stdin_fd);
	free(j->argv);
	free(j->env);
	free(j->cwd);
	json_decref(j->body);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

static void push_chunk(struct exec_job *j, const char *type, const void *p, size_t n)
{
	char *b64 = b64_encode(p, n);
	json_t *line = b64 ? json_pack("{s:s,s:s}", "type", type, "data", b64) : NULL;
	if (!line || stream_push(j->s, line) < 0)
		agent_client_signal(j->c, SIGKILL | SM_SIGNAL_GROUP);  /* reader gone */
	json_decref(line);
	free(b64);
}

static void on_stdout(void *ud, const void *p, size_t n) { push_chunk(ud, "stdout", p, n); }
static void on_stderr(void *ud, const void *p, size_t n) { push_chunk(ud, "stderr", p, n); }

static void on_started(void *ud, uint32_t pid)
{
	struct exec_job *j = ud;
	json_t *line = json_pack("{s:s,s:s,s:i}", "type", "start", "exec_id", j->id, "pid",
				 (int)pid);
	stream_push(j->s, line);
	json_decref(line);
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
	job_unref(j);
}

static void list_remove(struct exec_job *j)
{
	pthread_mutex_lock(&running_mu);
	for (struct exec_job **p = &running; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	pthread_mutex_unlock(&running_mu);
}

static double since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void *exec_thread(void *arg)
{
	struct exec_job *j = arg;
	struct agent_exec_spec spec = {
		.argv = j->argv, .env = j->env, .cwd = j->cwd, .uid = j->uid, .gid = j->gid,
		.timeout_ms = j->timeout_ms, .stdin_fd = j->stdin_fd,
	};
	struct agent_exec_io io = { .on_stdout = on_stdout, .on_stderr = on_stderr,
				    .on_started = on_started, .opaque = j };
	struct agent_exec_result res;
	int rc = agent_client_exec(j->c, &spec, &io, &res);
	double secs = since(&j->t0);
	pthread_mutex_lock(&j->mu);
	j->done = true;
	pthread_mutex_unlock(&j->mu);
	list_remove(j);
	json_t *line = rc == 0
		? json_pack("{s:s,s:i,s:i,s:b,s:I}", "type", "exit", "code", res.exit_code,
			    "signal", res.signal, "timed_out", res.timed_out, "duration_ms",
			    (json_int_t)(secs * 1000))
		: json_pack("{s:s,s:o}", "type", "error",
			    "error", error_json("exec_failed", agent_client_error(j->c)));
	stream_push_final(j->s, line);
	json_decref(line);
	stream_end(j->s);
	if (rc == 0)
		metrics_exec(j->srv->metrics, secs);
	struct api_server *srv = j->srv;
	job_unref(j);
	server_job_end(srv);
	return NULL;
}

/* stdin (base64) in a memfd the agent client reads to EOF; -1 if none. */
static int stdin_fd(struct api_req *r, json_t *b, int *fd)
{
	const char *s = jin_str(b, "stdin");
	unsigned char *data;
	size_t n;
	*fd = -1;
	if (!s)
		return 0;
	if (b64_decode(s, &data, &n) < 0) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"stdin\" must be base64");
		return -1;
	}
	*fd = memfd_create("exec-stdin", MFD_CLOEXEC);
	bool ok = *fd >= 0 && write(*fd, data, n) == (ssize_t)n && lseek(*fd, 0, SEEK_SET) == 0;
	free(data);
	if (!ok) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "stdin buffer: %s",
			    strerror(errno));
		return -1;
	}
	return 0;
}

static const char **strv_of(json_t *arr)
{
	const char **v = calloc(json_array_size(arr) + 1, sizeof *v);
	size_t i;
	json_t *s;
	json_array_foreach(arr, i, s)
		if (v)
			v[i] = json_string_value(s);
	return v;
}

/* env: the VM's (image + create) with the request's on top. */
static const char **merged_env(struct vm_rec *vm, json_t *extra)
{
	const char **base = vm_env(vm);
	size_t nb = 0, ne = json_array_size(extra);
	while (base && base[nb])
		nb++;
	const char **env = calloc(nb + ne + 2, sizeof *env);
	if (!env || !base) {
		free(base);
		free(env);
		return NULL;
	}
	size_t n = 0;
	for (size_t i = 0; i < nb; i++)
		env[n++] = base[i];
	free(base);
	for (size_t i = 0; i < ne; i++) {
		const char *kv = json_string_value(json_array_get(extra, i));
		size_t k = strcspn(kv, "="), w = 0;
		while (w < n && !(strncmp(env[w], kv, k) == 0 && env[w][k] == '='))
			w++;
		env[w] = kv;
		n += w == n;
	}
	bool has_path = false;
	for (size_t i = 0; i < n; i++)
		has_path |= !strncmp(env[i], "PATH=", 5);
	if (!has_path)
		env[n++] = DEFAULT_PATH;
	return env;
}

static int check_exec_body(struct api_req *r, json_t *b)
{
	json_t *argv = json_object_get(b, "argv"), *v;
	size_t i;
	if (argv && json_array_size(argv) == 0) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"argv\" must not be empty");
		return -1;
	}
	json_array_foreach(json_object_get(b, "env"), i, v)
		if (!strchr(json_string_value(v), '=') || json_string_value(v)[0] == '=') {
			reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
				    "field \"env\": \"%s\" is not KEY=VALUE", json_string_value(v));
			return -1;
		}
	json_int_t t = json_integer_value(json_object_get(b, "timeout"));
	if (t > 24 * 3600) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"timeout\" (seconds) must be at most 86400");
		return -1;
	}
	return 0;
}

/* argv, env, cwd and ids for the job; 0, or -1 after replying. */
static int prepare(struct api_req *r, struct exec_job *j)
{
	json_t *b = j->body;
	char err[ERRLEN];
	j->argv = json_object_get(b, "argv") ? strv_of(json_object_get(b, "argv"))
					     : vm_command(j->vm);
	if (!j->argv) {
		reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "no_command",
			    "no argv given and the VM's image has no entrypoint or cmd");
		return -1;
	}
	j->env = merged_env(j->vm, json_object_get(b, "env"));
	const char *cwd = jin_str(b, "cwd") ? jin_str(b, "cwd") : vm_workdir(j->vm);
	j->cwd = strdup(cwd[0] ? cwd : "/");
	if (!j->env || !j->cwd) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return -1;
	}
	j->c = agent_client_connect(vm_vsock_path(j->vm), SM_AGENT_PORT, CONNECT_MS, err,
				    sizeof err);
	if (!j->c) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "agent_unreachable",
			    "VM %s: %s", vm_id(j->vm), err);
		return -1;
	}
	const char *user = jin_str(b, "user") ? jin_str(b, "user") : vm_user(j->vm);
	if (resolve_user(j->c, user, &j->uid, &j->gid, err, sizeof err) < 0) {
		reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "unknown_user", "%s", err);
		return -1;
	}
	j->timeout_ms = (uint32_t)json_integer_value(json_object_get(b, "timeout")) * 1000u;
	return stdin_fd(r, b, &j->stdin_fd);
}

static void start_job(struct api_req *r, struct exec_job *j)
{
	pthread_t t;
	clock_gettime(CLOCK_MONOTONIC, &j->t0);
	j->s = stream_new(-1, EXEC_MAX_PENDING);
	if (!j->s) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		job_unref(j);
		return;
	}
	uint32_t rnd[2] = { 0, 0 };
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		rnd[0] = (uint32_t)j->t0.tv_nsec;
	snprintf(j->id, sizeof j->id, "%08x%08x", rnd[0], rnd[1]);
	j->refs = 2;
	pthread_mutex_lock(&running_mu);
	j->next = running;
	running = j;
	pthread_mutex_unlock(&running_mu);
	stream_on_close(j->s, on_close, j);
	reply_stream(r, j->s);
	server_job_begin(r->srv);
	if (pthread_create(&t, NULL, exec_thread, j) != 0) {
		list_remove(j);
		json_t *e = json_pack("{s:s,s:o}", "type", "error",
				      "error", error_json("internal", "no thread for the exec"));
		stream_push_final(j->s, e);
		json_decref(e);
		stream_end(j->s);
		server_job_end(r->srv);
		job_unref(j);
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
	static const char *const no_query[] = { NULL };
	if (query_check(r, no_query))
		return;
	json_t *b = json_in_parse(r, fields);
	if (!b)
		return;
	struct vm_rec *vm = NULL;
	if (check_exec_body(r, b) < 0 || !(vm = req_vm(r)) || req_vm_running(r, vm) < 0) {
		vm_put(vm);
		json_decref(b);
		return;
	}
	struct exec_job *j = calloc(1, sizeof *j);
	if (!j) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		vm_put(vm);
		json_decref(b);
		return;
	}
	j->srv = r->srv;
	j->vm = vm;
	j->body = b;
	j->stdin_fd = -1;
	j->refs = 1;
	pthread_mutex_init(&j->mu, NULL);
	if (prepare(r, j) < 0) {
		job_unref(j);
		return;
	}
	start_job(r, j);
}

void h_vms_exec_signal(struct api_req *r)
{
	static const struct jin_field fields[] = { { "signal", JIN_UINT, true }, { NULL } };
	static const char *const no_query[] = { NULL };
	if (query_check(r, no_query))
		return;
	json_t *b = json_in_parse(r, fields);
	if (!b)
		return;
	json_int_t sig = json_integer_value(json_object_get(b, "signal"));
	json_decref(b);
	if (sig < 1 || sig > 64) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"signal\" must be a signal number, 1 to 64");
		return;
	}
	struct vm_rec *vm = req_vm(r);
	if (!vm)
		return;
	int rc = -2;
	pthread_mutex_lock(&running_mu);
	for (struct exec_job *j = running; j; j = j->next)
		if (j->vm == vm && !strcmp(j->id, r->params[1]))
			rc = agent_client_signal(j->c, (uint32_t)sig | SM_SIGNAL_GROUP);
	pthread_mutex_unlock(&running_mu);
	if (rc == -2)
		reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no running exec %s in VM %s",
			    r->params[1], vm_id(vm));
	else if (rc < 0)
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "signal_failed",
			    "exec %s: could not send the signal", r->params[1]);
	else
		reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:I}", "exec_id", r->params[1],
						     "signal", sig));
	vm_put(vm);
}

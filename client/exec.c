/* exec.c - run commands in VMs: sm_exec reads the daemon's exec stream
 * in its frames form (start, stdout/stderr bytes, exit or error: see
 * exec_frames.c), and sm_run is the common case on top: create, exec,
 * remove. A VM's main process (run -d) is started, waited for, and its
 * kept output read in the exec stream's NDJSON form (start, base64
 * chunks, exit or error: sm_vm_main_start, sm_vm_wait, sm_vm_main_logs). */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

void sm_exec_result_free(struct sm_exec_result *r)
{
	if (!r)
		return;
	free(r->stdout_buf);
	free(r->stderr_buf);
	memset(r, 0, sizeof *r);
}

int sm_exec_status(const struct sm_exec_result *r)
{
	if (r->timed_out)
		return 124;
	if (r->signal)
		return 128 + r->signal;
	return r->exit_code;
}

static int append(struct exec_state *x, int fd, const char *p, size_t n)
{
	char **buf = fd == 1 ? &x->res->stdout_buf : &x->res->stderr_buf;
	size_t *len = fd == 1 ? &x->res->stdout_len : &x->res->stderr_len;
	size_t *cap = &x->cap[fd - 1];
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap * 2 : 4096;
		while (c < *len + n + 1)
			c *= 2;
		char *b = realloc(*buf, c);
		if (!b)
			return SM_E_NOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = 0;
	return 0;
}

int exec_deliver(struct exec_state *x, int fd, const char *p, size_t n)
{
	if (x->o && x->o->on_output) {
		x->o->on_output(fd, p, n, x->o->ud);
		return 0;
	}
	return append(x, fd, p, n);
}

/* Output bytes (decoded) to the caller's callback or the result. */
static int deliver(struct exec_state *x, int fd, const char *b64, size_t len)
{
	unsigned char *bytes = malloc(len / 4 * 3 + 3);
	size_t n;
	if (!bytes)
		return sm_fail(x->c, SM_E_NOMEM, "out of memory");
	int rc = b64_decode_n(b64, len, bytes, &n) < 0
		? sm_fail(x->c, SM_E_PROTOCOL, "exec output that is not base64") : 0;
	if (!rc)
		rc = exec_deliver(x, fd, (const char *)bytes, n);
	free(bytes);
	return rc;
}

static int on_output(struct exec_state *x, int fd, json_t *line)
{
	const char *data = json_string_value(json_object_get(line, "data"));
	if (!data)
		return sm_fail(x->c, SM_E_PROTOCOL, "exec output without data");
	return deliver(x, fd, data, strlen(data));
}

/* The daemon writes output lines (a main process's logs) as
 * {"type":"stdout","data":"B64"} exactly: those skip the JSON parser.
 * Any other line, or one whose data is not plain base64, is parsed. */
static int on_raw_line(const char *p, size_t n, void *ud)
{
	static const char pre[] = "{\"type\":\"std", mid[] = "\",\"data\":\"", end[] = "\"}";
	const size_t lp = sizeof pre - 1, lm = sizeof mid - 1, le = sizeof end - 1;
	if (n < lp + 3 + lm + le || memcmp(p, pre, lp) || memcmp(p + n - le, end, le) ||
	    memcmp(p + lp + 3, mid, lm))
		return 0;
	int fd = !memcmp(p + lp, "out", 3) ? 1 : !memcmp(p + lp, "err", 3) ? 2 : 0;
	const char *b64 = p + lp + 3 + lm;
	size_t len = n - lp - 3 - lm - le;
	if (!fd || memchr(b64, '"', len) || memchr(b64, '\\', len))
		return 0;
	return deliver(ud, fd, b64, len) == SM_OK ? 1 : 0;
}

static int on_line(json_t *line, void *ud)
{
	struct exec_state *x = ud;
	const char *type = json_string_value(json_object_get(line, "type"));
	if (!type)
		return sm_fail(x->c, SM_E_PROTOCOL, "an exec event without a type");
	if (!strcmp(type, "stdout") || !strcmp(type, "stderr"))
		return on_output(x, type[3] == 'o' ? 1 : 2, line);
	if (!strcmp(type, "start")) {
		if (x->o && x->o->on_start)
			x->o->on_start(json_string_value(json_object_get(line, "exec_id")),
				       (int)json_integer_value(json_object_get(line, "pid")),
				       x->o->ud);
		return 0;
	}
	if (!strcmp(type, "exit")) {
		x->got_exit = 1;
		x->res->exit_code = (int)json_integer_value(json_object_get(line, "code"));
		x->res->signal = (int)json_integer_value(json_object_get(line, "signal"));
		x->res->timed_out = json_is_true(json_object_get(line, "timed_out"));
		x->res->duration_ms =
			(uint64_t)json_integer_value(json_object_get(line, "duration_ms"));
		return 0;
	}
	if (!strcmp(type, "error")) {
		json_t *e = json_object_get(line, "error");
		const char *code = json_string_value(json_object_get(e, "code"));
		const char *msg = json_string_value(json_object_get(e, "message"));
		sm_fail(x->c, SM_E_FAILED, "%s", msg ? msg : "exec failed (no message)");
		snprintf(x->c->errcode, sizeof x->c->errcode, "%s", code ? code : "");
		return SM_E_FAILED;
	}
	return 0;   /* a line type of a later version */
}

static json_t *exec_body(const char *const *argv, const struct sm_exec_opts *o)
{
	json_t *b = json_object(), *a;
	for (size_t i = 0; b && argv && argv[i]; i++) {
		if (i == 0)
			json_object_set_new(b, "argv", json_array());
		json_array_append_new(json_object_get(b, "argv"), json_string(argv[i]));
	}
	if (!b || !o)
		return b;
	if (o->env) {
		a = json_array();
		for (size_t i = 0; o->env[i]; i++)
			json_array_append_new(a, json_string(o->env[i]));
		json_object_set_new(b, "env", a);
	}
	if (o->cwd)
		json_object_set_new(b, "cwd", json_string(o->cwd));
	if (o->user)
		json_object_set_new(b, "user", json_string(o->user));
	if (o->timeout_s)
		json_object_set_new(b, "timeout", json_integer(o->timeout_s));
	if (o->stdin_data) {
		char *s = b64_encode(o->stdin_data, o->stdin_len);
		json_object_set_new(b, "stdin", s ? json_string(s) : json_null());
		free(s);
	}
	return b;
}

int sm_exec(sm_client *c, const char *vm, const char *const *argv,
	    const struct sm_exec_opts *opts, struct sm_exec_result *result)
{
	if (!c || !vm || !*vm || !result || strchr(vm, '/') || (argv && !argv[0]))
		return SM_E_INVALID;
	memset(result, 0, sizeof *result);
	json_t *b = exec_body(argv, opts);
	char *text = b ? json_dumps(b, JSON_COMPACT) : NULL;
	char *path = http_escape_path("/v1/vms/", vm, "/exec");
	json_decref(b);
	if (!text || !path) {
		free(text);
		free(path);
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	}
	struct exec_state x = { .c = c, .o = opts, .res = result };
	struct http_call call = { .method = "POST", .path = path,
				  .content_type = "application/json", .accept = EXEC_FRAMES_TYPE,
				  .body = text, .body_len = strlen(text),
				  .on_bytes = exec_frames_bytes, .ud = &x };
	int st = http_call(c, &call, NULL);
	free(text);
	free(path);
	free(x.fbuf);
	if (x.failed) {   /* the stream's own error, not curl's view of it */
		st = sm_fail(c, x.failed, "%s", x.why);
		snprintf(c->errcode, sizeof c->errcode, "%s", x.code);
	} else if (st == SM_OK && x.flen)
		st = sm_fail(c, SM_E_PROTOCOL, "the exec stream ended inside a frame");
	if (st == SM_OK && !x.got_exit)
		st = sm_fail(c, SM_E_PROTOCOL, "the exec stream ended without an exit");
	if (st != SM_OK)
		sm_exec_result_free(result);
	return st;
}

int sm_exec_signal(sm_client *c, const char *vm, const char *exec_id, int signo)
{
	if (!c || !vm || !*vm || !exec_id || !*exec_id || strchr(vm, '/') ||
	    strchr(exec_id, '/') || signo < 1)
		return SM_E_INVALID;
	char body[32];
	snprintf(body, sizeof body, "{\"signal\":%d}", signo);
	return exec_post(c, vm, exec_id, "signal", body);
}

int exec_post(sm_client *c, const char *vm, const char *exec_id, const char *route,
	      const char *body)
{
	char suffix[128];
	snprintf(suffix, sizeof suffix, "/exec/%s/%s", exec_id, route);
	char *path = http_escape_path("/v1/vms/", vm, suffix);
	if (!path)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	struct http_call call = { .method = "POST", .path = path,
				  .content_type = "application/json", .body = body,
				  .body_len = strlen(body) };
	int st = http_call(c, &call, NULL);
	free(path);
	return st;
}

int sm_run(sm_client *c, const char *image, const char *const *argv,
	   const struct sm_run_opts *opts, struct sm_exec_result *result, char *vm_id_out)
{
	struct sm_vm_create_opts vo = opts ? opts->vm : (struct sm_vm_create_opts){ 0 };
	struct sm_vm vm;
	if (!c || !image || !result)
		return SM_E_INVALID;
	memset(result, 0, sizeof *result);
	if (argv && argv[0])
		vo.cmd = argv;   /* the VM's command: entrypoint + argv */
	int st = sm_vm_create(c, image, &vo, &vm);
	if (st != SM_OK)
		return st;
	if (vm_id_out)
		snprintf(vm_id_out, 40, "%s", vm.id);
	st = sm_exec(c, vm.id, NULL, opts ? &opts->exec : NULL, result);
	if (!(opts && opts->keep)) {
		char msg[sizeof c->errmsg], code[sizeof c->errcode];
		memcpy(msg, c->errmsg, sizeof msg);
		memcpy(code, c->errcode, sizeof code);
		int rm = sm_vm_remove(c, vm.id, 1);
		if (st == SM_OK)
			st = rm;
		else {   /* the exec's error is the one to report */
			memcpy(c->errmsg, msg, sizeof msg);
			memcpy(c->errcode, code, sizeof code);
		}
	}
	sm_vm_free(&vm);
	if (st != SM_OK)
		sm_exec_result_free(result);
	return st;
}

int sm_vm_main_start(sm_client *c, const char *vm, char **exec_id)
{
	json_t *j = NULL;
	if (!c || !vm || !*vm || strchr(vm, '/'))
		return SM_E_INVALID;
	int st = http_json(c, "POST", http_escape_path("/v1/vms/", vm, "/main"), NULL, &j);
	if (st == SM_OK && exec_id) {
		const char *id = json_string_value(json_object_get(j, "exec_id"));
		*exec_id = strdup(id ? id : "");
	}
	json_decref(j);
	return st;
}

int sm_vm_wait(sm_client *c, const char *vm, struct sm_exec_result *result)
{
	json_t *j = NULL;
	if (!c || !vm || !*vm || !result || strchr(vm, '/'))
		return SM_E_INVALID;
	memset(result, 0, sizeof *result);
	int st = http_json(c, "POST", http_escape_path("/v1/vms/", vm, "/wait"), NULL, &j);
	if (st == SM_OK) {
		result->exit_code = (int)json_integer_value(json_object_get(j, "exit_code"));
		result->signal = (int)json_integer_value(json_object_get(j, "signal"));
	}
	json_decref(j);
	return st;
}

int sm_vm_main_logs(sm_client *c, const char *vm, int follow, const struct sm_exec_opts *opts,
		    struct sm_exec_result *result, int *ended)
{
	if (!c || !vm || !*vm || !result || strchr(vm, '/'))
		return SM_E_INVALID;
	memset(result, 0, sizeof *result);
	char *path = http_escape_path("/v1/vms/", vm, follow ? "/logs?source=main&follow=1"
							    : "/logs?source=main");
	if (!path)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	struct exec_state x = { .c = c, .o = opts, .res = result };
	struct http_call call = { .method = "GET", .path = path, .on_line = on_line,
				  .on_raw_line = on_raw_line, .ud = &x };
	int st = http_call(c, &call, NULL);
	free(path);
	if (ended)
		*ended = x.got_exit;
	if (st != SM_OK)
		sm_exec_result_free(result);
	return st;
}

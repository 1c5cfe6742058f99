/* tty.c - sm_exec_tty: an interactive command on a guest pty over the
 * daemon's HTTP upgrade (POST /v1/vms/{id}/exec/tty, docs/api.md).
 *
 * libcurl does not hand over an upgraded connection, so this speaks the
 * few lines of HTTP it needs on a Unix socket of its own: the request, the
 * status line and headers of the answer, and then the frames ('o' output,
 * 'x' exit, 'e' error) while our input is copied across raw.
 */
#include "client/client_int.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HEAD_MAX 8192

struct conn {
	int fd;
	char *buf;                 /* bytes read and not yet used */
	size_t len, cap;
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads more into the buffer; 0 at EOF, -1 on error. */
static ssize_t fill(struct conn *k)
{
	if (k->len + 65536 > k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 131072;
		char *b = realloc(k->buf, cap);
		if (!b)
			return -1;
		k->buf = b;
		k->cap = cap;
	}
	ssize_t n;
	do
		n = read(k->fd, k->buf + k->len, k->cap - k->len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		k->len += (size_t)n;
	return n;
}

static void consume(struct conn *k, size_t n)
{
	memmove(k->buf, k->buf + n, k->len - n);
	k->len -= n;
}

static int dial(sm_client *c, struct conn *k)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(c->socket) >= sizeof sa.sun_path)
		return sm_fail(c, SM_E_INVALID, "socket path too long: %s", c->socket);
	strcpy(sa.sun_path, c->socket);
	k->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (k->fd < 0 || connect(k->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return sm_fail(c, SM_E_CONNECT, "cannot talk to supermachined on %s: %s",
			       c->socket, strerror(errno));
	return SM_OK;
}

/* The exec id, from the 101's X-Exec-Id header (for resize and signals). */
static void exec_id_of(const char *head, size_t len, char *id, size_t idlen)
{
	const char *h = memmem(head, len, "X-Exec-Id: ", 11);
	size_t n = h ? strcspn(h + 11, "\r\n") : 0;
	snprintf(id, idlen, "%.*s", (int)(n < idlen ? n : idlen - 1), h ? h + 11 : "");
}

/* Sends the request; reads the answer's head. 101: SM_OK; else the
 * daemon's error. */
static int handshake(sm_client *c, struct conn *k, const char *path, const char *body,
		     char *id, size_t idlen)
{
	char head[1024];
	int n = snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: localhost\r\n"
			 "Connection: Upgrade\r\nUpgrade: supermachine-tty\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			 path, strlen(body));
	if (n < 0 || (size_t)n >= sizeof head || write_all(k->fd, head, (size_t)n) ||
	    write_all(k->fd, body, strlen(body)))
		return sm_fail(c, SM_E_CONNECT, "sending the request: %s", strerror(errno));
	char *end;
	while (!(k->len && (end = memmem(k->buf, k->len, "\r\n\r\n", 4))))
		if (k->len > HEAD_MAX || fill(k) <= 0)
			return sm_fail(c, SM_E_PROTOCOL, "no answer head from supermachined");
	size_t hlen = (size_t)(end - k->buf) + 4;
	long status = strtol(k->buf + 9, NULL, 10);
	if (status == 101) {
		exec_id_of(k->buf, hlen, id, idlen);
		consume(k, hlen);
		return SM_OK;
	}
	const char *cl = memmem(k->buf, hlen, "Content-Length:", 15);
	size_t blen = cl ? strtoul(cl + 15, NULL, 10) : 0;
	while (k->len < hlen + blen && fill(k) > 0)
		;
	return http_answer_error(c, status, k->buf + hlen,
				 k->len - hlen < blen ? k->len - hlen : blen);
}

/* Handles complete frames; 1 after the last one, 0 to go on, <0 error. */
static int frames(sm_client *c, struct conn *k, int out_fd, struct sm_exec_result *res)
{
	while (k->len >= 5) {
		const unsigned char *h = (const unsigned char *)k->buf;
		size_t n = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
		if (k->len < 5 + n)
			return 0;
		char type = (char)h[0];
		if (type == 'o' && write_all(out_fd, k->buf + 5, n) < 0)
			return sm_fail(c, SM_E_FAILED, "writing the output: %s", strerror(errno));
		if (type == 'x' || type == 'e') {
			json_t *j = json_loadb(k->buf + 5, n, 0, NULL);
			if (type == 'x') {
				res->exit_code = (int)json_integer_value(json_object_get(j, "code"));
				res->signal = (int)json_integer_value(json_object_get(j, "signal"));
				res->timed_out = json_is_true(json_object_get(j, "timed_out"));
				res->duration_ms = (uint64_t)json_integer_value(
					json_object_get(j, "duration_ms"));
			}
			const char *msg = json_string_value(json_object_get(j, "message"));
			const char *code = json_string_value(json_object_get(j, "code"));
			int st = type == 'x' ? 1 : sm_fail(c, SM_E_FAILED, "%s", msg ? msg : "exec failed");
			if (type == 'e')
				snprintf(c->errcode, sizeof c->errcode, "%s", code ? code : "");
			json_decref(j);
			return st;
		}
		consume(k, 5 + n);
	}
	return 0;
}

/* Copies in_fd to the socket and frames to out_fd until the exit frame. */
static int relay(sm_client *c, struct conn *k, int in_fd, int out_fd,
		 struct sm_exec_result *res)
{
	bool in_open = in_fd >= 0;
	int st = frames(c, k, out_fd, res);
	while (st == 0) {
		struct pollfd pf[2] = { { .fd = k->fd, .events = POLLIN },
					{ .fd = in_open ? in_fd : -1, .events = POLLIN } };
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return sm_fail(c, SM_E_FAILED, "poll: %s", strerror(errno));
		}
		if (pf[1].revents) {
			char buf[4096];
			ssize_t n = read(in_fd, buf, sizeof buf);
			if (n > 0 && write_all(k->fd, buf, (size_t)n) < 0)
				return sm_fail(c, SM_E_CONNECT, "the daemon went away");
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
				in_open = false;
				shutdown(k->fd, SHUT_WR);   /* hang up */
			}
		}
		if (pf[0].revents) {
			ssize_t n = fill(k);
			if (n <= 0)
				return sm_fail(c, SM_E_PROTOCOL, "the terminal stream ended without an exit");
			st = frames(c, k, out_fd, res);
		}
	}
	return st < 0 ? st : SM_OK;
}

static char *tty_body(const char *const *argv, const struct sm_exec_opts *o,
		      unsigned short rows, unsigned short cols)
{
	json_t *b = json_pack("{s:i,s:i}", "rows", rows ? rows : 24, "cols", cols ? cols : 80);
	for (size_t i = 0; b && argv && argv[i]; i++) {
		if (i == 0)
			json_object_set_new(b, "argv", json_array());
		json_array_append_new(json_object_get(b, "argv"), json_string(argv[i]));
	}
	if (b && o && o->env) {
		json_t *a = json_array();
		for (size_t i = 0; o->env[i]; i++)
			json_array_append_new(a, json_string(o->env[i]));
		json_object_set_new(b, "env", a);
	}
	if (b && o && o->cwd)
		json_object_set_new(b, "cwd", json_string(o->cwd));
	if (b && o && o->user)
		json_object_set_new(b, "user", json_string(o->user));
	if (b && o && o->timeout_s)
		json_object_set_new(b, "timeout", json_integer(o->timeout_s));
	char *text = b ? json_dumps(b, JSON_COMPACT) : NULL;
	json_decref(b);
	return text;
}


int sm_exec_tty(sm_client *c, const char *vm, const char *const *argv,
		const struct sm_exec_opts *opts, unsigned short rows, unsigned short cols,
		int in_fd, int out_fd, struct sm_exec_result *result)
{
	if (!c || !vm || !*vm || strchr(vm, '/') || !result || (argv && !argv[0]))
		return SM_E_INVALID;
	memset(result, 0, sizeof *result);
	sm_clear_error(c);
	struct conn k = { .fd = -1 };
	char *body = tty_body(argv, opts, rows, cols);
	char *path = http_escape_path("/v1/vms/", vm, "/exec/tty");
	int st = !body || !path ? sm_fail(c, SM_E_NOMEM, "out of memory") : dial(c, &k);
	char id[64] = "";
	if (st == SM_OK)
		st = handshake(c, &k, path, body, id, sizeof id);
	if (st == SM_OK && opts && opts->on_start)
		opts->on_start(id, 0, opts->ud);
	if (st == SM_OK)
		st = relay(c, &k, in_fd, out_fd, result);
	if (k.fd >= 0)
		close(k.fd);
	free(k.buf);
	free(body);
	free(path);
	return st;
}

int sm_exec_resize(sm_client *c, const char *vm, const char *exec_id, unsigned short rows,
		   unsigned short cols)
{
	if (!c || !vm || !*vm || !exec_id || !*exec_id || strchr(vm, '/') || strchr(exec_id, '/'))
		return SM_E_INVALID;
	char body[64];
	snprintf(body, sizeof body, "{\"rows\":%u,\"cols\":%u}", rows, cols);
	return exec_post(c, vm, exec_id, "resize", body);
}

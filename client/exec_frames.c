/* exec_frames.c - the exec stream's frames form (docs/api.md), as sm_exec
 * reads it: one type byte, a big-endian u32 length, the payload. '1' and
 * '2' carry stdout and stderr bytes as they are, 's' the start and 'x'
 * the exit as JSON, 'e' the error object. Bytes arrive from curl in any
 * cut; whole frames are taken where they lie and only a frame cut in two
 * is buffered. */
#include "client/client_int.h"

#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stdio.h>

#define FRAME_HEAD 5
#define FRAME_MAX (64u << 20)   /* the daemon sends the agent's chunks */

/* Records a failure (reported once the transfer is over: curl's own
 * outcome must not replace it); returns st. */
static int failed(struct exec_state *x, int st, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int failed(struct exec_state *x, int st, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->why, sizeof x->why, fmt, ap);
	va_end(ap);
	snprintf(x->code, sizeof x->code, "%s", code);
	return x->failed = st;
}

static int on_json_frame(struct exec_state *x, char type, const char *p, size_t n)
{
	json_t *j = json_loadb(p, n, 0, NULL);
	if (!j)
		return failed(x, SM_E_PROTOCOL, "", "an exec frame that is not JSON");
	if (type == 's' && x->o && x->o->on_start)
		x->o->on_start(json_string_value(json_object_get(j, "exec_id")),
			       (int)json_integer_value(json_object_get(j, "pid")), x->o->ud);
	if (type == 'x') {
		x->got_exit = 1;
		x->res->exit_code = (int)json_integer_value(json_object_get(j, "code"));
		x->res->signal = (int)json_integer_value(json_object_get(j, "signal"));
		x->res->timed_out = json_is_true(json_object_get(j, "timed_out"));
		x->res->duration_ms = (uint64_t)json_integer_value(json_object_get(j, "duration_ms"));
	}
	if (type == 'e') {
		const char *code = json_string_value(json_object_get(j, "code"));
		const char *msg = json_string_value(json_object_get(j, "message"));
		failed(x, SM_E_FAILED, code ? code : "", "%s", msg ? msg : "exec failed (no message)");
	}
	json_decref(j);
	return 0;
}

static int on_frame(struct exec_state *x, char type, const char *p, size_t n)
{
	if (type == '1' || type == '2')
		return exec_deliver(x, type - '0', p, n);
	if (type == 's' || type == 'x' || type == 'e')
		return on_json_frame(x, type, p, n);
	return failed(x, SM_E_PROTOCOL, "",
		      "an exec frame of unknown type 0x%02x (is supermachined older than this "
		      "client?)", (unsigned char)type);
}

static size_t frame_len(const char *h)
{
	const unsigned char *u = (const unsigned char *)h;
	return (size_t)u[1] << 24 | (size_t)u[2] << 16 | (size_t)u[3] << 8 | u[4];
}

/* Takes the whole frames at p; returns how many bytes they took, or
 * (size_t)-1 after an error. */
static size_t take_frames(struct exec_state *x, const char *p, size_t n)
{
	size_t used = 0;
	while (n - used >= FRAME_HEAD) {
		size_t len = frame_len(p + used);
		if (len > FRAME_MAX) {
			failed(x, SM_E_PROTOCOL, "", "an exec frame of %zu bytes", len);
			return (size_t)-1;
		}
		if (n - used - FRAME_HEAD < len)
			break;
		int rc = on_frame(x, p[used], p + used + FRAME_HEAD, len);
		if (rc && !x->failed)
			failed(x, rc, "", "%s", sm_strerror(rc));
		if (x->failed && x->failed != SM_E_FAILED)
			return (size_t)-1;   /* a bad stream: stop reading it */
		used += FRAME_HEAD + len;
	}
	return used;
}

static int keep(struct exec_state *x, const char *p, size_t n)
{
	if (!n)
		return 0;
	if (x->flen + n > x->fcap) {
		size_t cap = x->fcap ? x->fcap : 65536;
		while (cap < x->flen + n)
			cap *= 2;
		char *b = realloc(x->fbuf, cap);
		if (!b)
			return failed(x, SM_E_NOMEM, "", "out of memory");
		x->fbuf = b;
		x->fcap = cap;
	}
	memcpy(x->fbuf + x->flen, p, n);
	x->flen += n;
	return 0;
}

int exec_frames_bytes(const char *p, size_t n, void *ud)
{
	struct exec_state *x = ud;
	if (x->flen) {   /* complete the frame cut in two first */
		size_t need = x->flen < FRAME_HEAD ? FRAME_HEAD - x->flen : 0;
		if (!need)
			need = FRAME_HEAD + frame_len(x->fbuf) - x->flen;
		size_t k = need < n ? need : n;
		if (keep(x, p, k))
			return 1;
		p += k;
		n -= k;
		size_t used = take_frames(x, x->fbuf, x->flen);
		if (used == (size_t)-1)
			return 1;
		memmove(x->fbuf, x->fbuf + used, x->flen - used);
		x->flen -= used;
		if (x->flen)
			return n ? exec_frames_bytes(p, n, ud) : 0;
	}
	size_t used = take_frames(x, p, n);
	if (used == (size_t)-1)
		return 1;
	return keep(x, p + used, n - used) ? 1 : 0;
}

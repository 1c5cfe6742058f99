/* http.c - one HTTP exchange with the daemon over its Unix socket.
 *
 * libcurl does HTTP; the socket is CURLOPT_UNIX_SOCKET_PATH and the URL's
 * host is ignored. A JSON answer is collected whole (bounded); a 200
 * NDJSON stream is split into lines as it arrives and each line parsed and
 * handed to the caller, so progress shows while a pull runs. Error
 * answers become an sm_status with the daemon's code and message.
 */
#include "client/client_int.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ANSWER (64u << 20)
#define STREAM_READ_SIZE (512L << 10)

struct exchange {
	sm_client *c;
	const struct http_call *call;
	CURL *curl;
	char *buf;
	size_t len, cap;
	size_t scanned;   /* bytes of buf already searched for '\n' */
	bool streaming;   /* 200 + on_line: lines go to the callback */
	int stop;         /* SM_E_STOPPED / SM_E_PROTOCOL / SM_E_NOMEM, or the
			     status a line callback stopped with */
	bool bad_line;    /* stop: a line was not JSON */
	bool cb_stop;     /* stop: the callback's own (its message is set) */
};

static int grow(struct exchange *x, size_t more)
{
	if (x->len + more + 1 <= x->cap)
		return 0;
	if (x->len + more > MAX_ANSWER)
		return -1;
	size_t cap = x->cap ? x->cap : 4096;
	while (cap < x->len + more + 1)
		cap *= 2;
	char *b = realloc(x->buf, cap);
	if (!b)
		return -1;
	x->buf = b;
	x->cap = cap;
	return 0;
}

/* Hands every complete line in buf to the callback. */
static int drain_lines(struct exchange *x)
{
	size_t start = 0;
	char *nl = memchr(x->buf + x->scanned, '\n', x->len - x->scanned);
	for (; nl; nl = memchr(x->buf + start, '\n', x->len - start)) {
		size_t n = (size_t)(nl - (x->buf + start));
		int raw = n > 0 && x->call->on_raw_line
			? x->call->on_raw_line(x->buf + start, n, x->call->ud) : 0;
		if (raw < 0)
			return raw;
		if (n > 0 && raw == 0) {
			json_t *line = json_loadb(x->buf + start, n, 0, NULL);
			if (!line) {
				x->bad_line = true;
				return SM_E_PROTOCOL;
			}
			int stop = x->call->on_line(line, x->call->ud);
			json_decref(line);
			if (stop) {
				x->cb_stop = stop != SM_E_STOPPED && stop != SM_E_NOMEM;
				return stop;
			}
		}
		start += n + 1;
	}
	memmove(x->buf, x->buf + start, x->len - start);
	x->len -= start;
	x->scanned = x->len;
	return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct exchange *x = ud;
	size_t len = size * n;
	if (!x->len && !x->streaming && (x->call->on_line || x->call->on_bytes)) {
		long status = 0;
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
		x->streaming = status == 200;
	}
	if (x->streaming && x->call->on_bytes) {
		if (x->call->on_bytes(p, len, x->call->ud)) {
			x->stop = SM_E_STOPPED;
			return 0;
		}
		return len;
	}
	if (grow(x, len) < 0) {
		x->stop = SM_E_NOMEM;
		return 0;
	}
	memcpy(x->buf + x->len, p, len);
	x->len += len;
	if (x->streaming && (x->stop = drain_lines(x)) != 0)
		return 0;   /* aborts the transfer */
	return len;
}

static int status_of(long http)
{
	switch (http) {
	case 400: return SM_E_BAD_REQUEST;
	case 403: return SM_E_FORBIDDEN;
	case 404: return SM_E_NOT_FOUND;
	case 405: return SM_E_BAD_REQUEST;
	case 409: return SM_E_CONFLICT;
	case 413: return SM_E_TOO_LARGE;
	case 422: return SM_E_UNPROCESSABLE;
	case 503: return SM_E_UNAVAILABLE;
	}
	return SM_E_SERVER;
}

/* A non-2xx answer: the daemon's {"error":{code,message}}. */
static int daemon_error(sm_client *c, long http, const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	json_t *e = json_object_get(j, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	snprintf(c->errcode, sizeof c->errcode, "%s", code ? code : "");
	int st = msg ? sm_fail(c, status_of(http), "%s", msg)
		     : sm_fail(c, status_of(http), "HTTP %ld from supermachined", http);
	json_decref(j);
	return st;
}

static struct curl_slist *setup(struct exchange *x, char *url, size_t urllen)
{
	CURL *h = x->curl;
	const struct http_call *call = x->call;
	struct curl_slist *hdr = NULL;
	snprintf(url, urllen, "http://localhost%s", call->path);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, x->c->socket);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call->method);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, x->c->connect_timeout_ms);
	if (!call->on_line && !call->on_bytes && x->c->timeout_ms)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, x->c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (call->on_line || call->on_bytes)   /* big outputs: fewer, larger reads */
		curl_easy_setopt(h, CURLOPT_BUFFERSIZE, STREAM_READ_SIZE);
	hdr = curl_slist_append(hdr, "Expect:");
	if (call->content_type) {
		char ct[128];
		snprintf(ct, sizeof ct, "Content-Type: %s", call->content_type);
		hdr = curl_slist_append(hdr, ct);
	}
	if (call->accept) {
		char ac[128];
		snprintf(ac, sizeof ac, "Accept: %s", call->accept);
		hdr = curl_slist_append(hdr, ac);
	}
	if (call->upload) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, STREAM_READ_SIZE);
		curl_easy_setopt(h, CURLOPT_READDATA, call->upload);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)call->upload_len);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call->method);
	} else if (call->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, call->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	return hdr;
}

static int transport_error(sm_client *c, CURLcode rc)
{
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
	    rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR)
		return sm_fail(c, SM_E_CONNECT, "cannot talk to supermachined on %s: %s",
			       c->socket, curl_easy_strerror(rc));
	return sm_fail(c, SM_E_PROTOCOL, "request to supermachined failed: %s",
		       curl_easy_strerror(rc));
}

/* After the transfer: map the outcome to a status and maybe an answer. */
static int finish(struct exchange *x, CURLcode rc, json_t **answer)
{
	sm_client *c = x->c;
	long http = 0;
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &http);
	if (x->stop == SM_E_STOPPED)
		return sm_fail(c, SM_E_STOPPED, "stopped by the callback");
	if (x->cb_stop)   /* the callback said why (an error event, ...) */
		return c->errmsg[0] ? x->stop : sm_fail(c, x->stop, "%s", sm_strerror(x->stop));
	if (x->stop)
		return sm_fail(c, x->stop, x->stop == SM_E_NOMEM ? "out of memory"
			       : x->bad_line ? "supermachined sent a line that is not JSON"
			       : "stopped");
	if (rc != CURLE_OK)
		return transport_error(c, rc);
	if (http < 200 || http > 299)
		return daemon_error(c, http, x->buf ? x->buf : "", x->len);
	if (x->streaming) {
		if (x->len)
			return sm_fail(c, SM_E_PROTOCOL, "the stream ended mid-line");
		return SM_OK;
	}
	if (!answer)
		return SM_OK;
	*answer = json_loadb(x->buf ? x->buf : "", x->len, 0, NULL);
	if (!*answer)
		return sm_fail(c, SM_E_PROTOCOL, "supermachined answered something not JSON");
	return SM_OK;
}

int http_call(sm_client *c, const struct http_call *call, json_t **answer)
{
	struct exchange x = { .c = c, .call = call, .curl = c->curl };
	char url[4096];
	if (answer)
		*answer = NULL;
	sm_clear_error(c);
	if (strlen(call->path) > sizeof url - 32)
		return sm_fail(c, SM_E_INVALID, "name too long");
	struct curl_slist *hdr = setup(&x, url, sizeof url);
	CURLcode rc = curl_easy_perform(c->curl);
	int st = finish(&x, rc, answer);
	curl_slist_free_all(hdr);
	free(x.buf);
	return st;
}

char *http_escape_path(const char *prefix, const char *name, const char *suffix)
{
	static const char keep[] = "-._~/:@";
	size_t n = strlen(prefix) + 3 * strlen(name) + strlen(suffix) + 1;
	char *out = malloc(n), *p = out;
	if (!out)
		return NULL;
	p += sprintf(p, "%s", prefix);
	for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(keep, *s))
			*p++ = (char)*s;
		else
			p += sprintf(p, "%%%02X", *s);
	}
	strcpy(p, suffix);
	return out;
}

char *curl_escape_query(sm_client *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	char *out = e ? strdup(e) : NULL;
	curl_free(e);
	return out;
}

int http_answer_error(sm_client *c, long http, const char *body, size_t len)
{
	return daemon_error(c, http, body, len);
}

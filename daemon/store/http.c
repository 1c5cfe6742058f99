/* http.c - a single libcurl exchange with header capture (see http.h). */
#include "http.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sm_http_setup(CURL *c, const char *ca_file)
{
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "supermachine-store/0.1");
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "identity");
	if (ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
}

static void copy_value(char *dst, size_t len, const char *v, size_t n)
{
	while (n && isspace((unsigned char)*v))
		v++, n--;
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	snprintf(dst, len, "%.*s", (int)n, v);
}

static void reset_headers(struct sm_xfer *x)
{
	x->content_type[0] = x->docker_digest[0] = x->www_auth[0] = '\0';
	x->content_range[0] = '\0';
	x->retry_after = -1;
	x->errbody_len = 0;
	x->errbody[0] = '\0';
	x->body_ok = false;
}

static int header_is(const char *line, size_t n, const char *name, const char **val, size_t *vlen)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(line, name, k) || line[k] != ':')
		return 0;
	*val = line + k + 1;
	*vlen = n - k - 1;
	return 1;
}

static size_t on_header(char *line, size_t sz, size_t nm, void *ud)
{
	struct sm_xfer *x = ud;
	size_t n = sz * nm, vlen;
	const char *v;

	if (n >= 5 && !strncmp(line, "HTTP/", 5)) {
		reset_headers(x);
		const char *sp = memchr(line, ' ', n);
		x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
	} else if ((n == 2 && line[0] == '\r') || (n == 1 && line[0] == '\n')) {
		bool redirect = x->status >= 300 && x->status < 400;
		x->body_ok = x->status == 200 || x->status == 206;
		if (x->body_ok && !redirect && x->sink.begin && x->sink.begin(x) < 0)
			return 0;
	} else if (header_is(line, n, "Content-Type", &v, &vlen)) {
		copy_value(x->content_type, sizeof x->content_type, v, vlen);
	} else if (header_is(line, n, "Docker-Content-Digest", &v, &vlen)) {
		copy_value(x->docker_digest, sizeof x->docker_digest, v, vlen);
	} else if (header_is(line, n, "WWW-Authenticate", &v, &vlen)) {
		copy_value(x->www_auth, sizeof x->www_auth, v, vlen);
	} else if (header_is(line, n, "Content-Range", &v, &vlen)) {
		copy_value(x->content_range, sizeof x->content_range, v, vlen);
	} else if (header_is(line, n, "Retry-After", &v, &vlen)) {
		char tmp[32];
		copy_value(tmp, sizeof tmp, v, vlen);
		x->retry_after = isdigit((unsigned char)tmp[0]) ? strtol(tmp, NULL, 10) : -1;
	}
	return n;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
	struct sm_xfer *x = ud;
	size_t n = sz * nm;

	if (!x->body_ok) {
		size_t room = sizeof x->errbody - 1 - x->errbody_len;
		size_t k = n < room ? n : room;
		memcpy(x->errbody + x->errbody_len, p, k);
		x->errbody_len += k;
		x->errbody[x->errbody_len] = '\0';
		return n;
	}
	x->advanced = x->advanced || n > 0;
	return x->sink.write(x, p, n) < 0 ? 0 : n;
}

CURLcode sm_http_perform(CURL *c, struct sm_xfer *x, struct curl_slist *headers)
{
	x->status = 0;
	x->advanced = false;
	x->sink_err[0] = '\0';
	reset_headers(x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	return curl_easy_perform(c);
}

bool sm_http_retryable(CURLcode cc, long status)
{
	switch (cc) {
	case CURLE_OK:
		return status == 429 || (status >= 500 && status <= 599);
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

void sm_http_error_text(const struct sm_xfer *x, char *buf, size_t len)
{
	json_t *root = json_loadb(x->errbody, x->errbody_len, 0, NULL);
	json_t *e0 = json_array_get(json_object_get(root, "errors"), 0);
	const char *code = json_string_value(json_object_get(e0, "code"));
	const char *msg = json_string_value(json_object_get(e0, "message"));

	if (code || msg)
		snprintf(buf, len, "%s%s%s", code ? code : "", code && msg ? ": " : "",
			 msg ? msg : "");
	else
		snprintf(buf, len, "%.*s", (int)strcspn(x->errbody, "\r\n"), x->errbody);
	json_decref(root);
}

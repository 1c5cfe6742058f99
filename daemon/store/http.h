/* http.h - one HTTP exchange over libcurl, with the response facts the
 * registry client needs (status, content type, digest, auth challenge,
 * Retry-After) and a pluggable body sink.
 *
 * The body of a 200/206 response goes to the sink; any other status's body
 * is kept (first few KB) so errors can quote the registry's message.
 * Retry policy and authentication live above, in registry.c.
 */
#ifndef SM_STORE_HTTP_H
#define SM_STORE_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sm_xfer;

struct sm_sink {
	/* Headers of a 200/206 arrived; return -1 to abort. */
	int (*begin)(struct sm_xfer *x);
	/* Body bytes of a 200/206; return -1 to abort (sets x->sink_err). */
	int (*write)(struct sm_xfer *x, const char *p, size_t n);
	void *ud;
};

struct sm_xfer {
	struct sm_sink sink;
	long status;
	char content_type[128];
	char docker_digest[80];
	char www_auth[1024];
	char content_range[128];
	long retry_after;        /* seconds, -1 when absent */
	char errbody[2048];      /* non-2xx body (truncated) */
	size_t errbody_len;
	char sink_err[512];      /* why a sink aborted */
	bool body_ok;            /* current response is 200/206 */
	bool advanced;           /* the sink received bytes in this attempt */
};

/* Common options: timeouts, redirects, TLS, protocols. */
void sm_http_setup(CURL *c, const char *ca_file);

/* Performs one request on c (URL and auth already set). Headers are reset
 * first. Returns curl's result; status etc. are in x. */
CURLcode sm_http_perform(CURL *c, struct sm_xfer *x, struct curl_slist *headers);

/* Transient failure worth retrying (network error, 429, 5xx)? */
bool sm_http_retryable(CURLcode cc, long status);

/* "code: message" from a registry error body, or the body's start. */
void sm_http_error_text(const struct sm_xfer *x, char *buf, size_t len);

#endif

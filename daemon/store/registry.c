/* registry.c - registry session: transport choice, credentials, the
 * request loop (auth challenges, retries, backoff) and manifest fetches.
 * Blob streaming is in blobfetch.c.
 *
 * Transport: https, except hosts the caller marks insecure (http) and
 * loopback hosts (https if a TLS handshake works, else http). All requests
 * of a session share one curl share, so connections, DNS answers and TLS
 * sessions are reused across the pull's threads. Transient failures
 * (network errors, 429, 5xx) are retried with exponential backoff or the
 * server's Retry-After; a transfer that made progress gets a fresh budget.
 *
 * Auth follows the distribution token spec: a 401 carries
 * WWW-Authenticate; for Bearer we fetch a token from the realm (with basic
 * credentials when we have them) and reuse it for every later request of
 * the session; for Basic we send the credentials. A second 401 after
 * authenticating fails with the registry's message.
 */
#include "registry.h"
#include "auth.h"
#include "err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int is_loopback(const char *domain)
{
	char host[256];
	const char *d = domain;

	if (*d == '[') /* [::1]:5000 */
		return !strncmp(d, "[::1]", 5);
	snprintf(host, sizeof host, "%.*s", (int)strcspn(d, ":"), d);
	return !strcmp(host, "localhost") || !strncmp(host, "127.", 4);
}

static int listed(const char *domain, const char *const *list)
{
	for (; list && *list; list++)
		if (!strcmp(*list, domain))
			return 1;
	return 0;
}

static int ignore(struct sm_xfer *xf, const char *p, size_t n)
{
	(void)xf; (void)p; (void)n;
	return 0;
}

/* Loopback registries may speak either: HTTPS when a TLS handshake
 * succeeds (or fails only on the certificate, which then fails the pull
 * clearly), plain HTTP otherwise. */
static const char *probe_loopback(const char *host, const char *ca_file)
{
	char url[300];
	CURL *c = curl_easy_init();
	struct sm_xfer x = { 0 };

	if (!c)
		return "http";
	snprintf(url, sizeof url, "https://%s/v2/", host);
	sm_http_setup(c, ca_file);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	x.sink.write = ignore;
	CURLcode cc = sm_http_perform(c, &x, NULL);
	curl_easy_cleanup(c);
	return cc == CURLE_OK || cc == CURLE_PEER_FAILED_VERIFICATION ? "https" : "http";
}

static const char *scheme_for(const struct sm_ref *ref, const struct sm_pull_opts *o)
{
	if (listed(ref->domain, o->insecure))
		return "http";
	if (is_loopback(ref->domain))
		return probe_loopback(sm_ref_registry_host(ref), o->ca_file);
	return "https";
}

static void share_lock(CURL *c, curl_lock_data data, curl_lock_access access, void *ud)
{
	struct sm_registry *r = ud;

	(void)c; (void)access;
	pthread_mutex_lock(&r->share_locks[data]);
}

static void share_unlock(CURL *c, curl_lock_data data, void *ud)
{
	struct sm_registry *r = ud;

	(void)c;
	pthread_mutex_unlock(&r->share_locks[data]);
}

static void share_init(struct sm_registry *r)
{
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&r->share_locks[i], NULL);
	r->share = curl_share_init();
	if (!r->share)
		return;
	curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(r->share, CURLSHOPT_USERDATA, r);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

int sm_registry_init(struct sm_registry *r, const struct sm_ref *ref,
		     const struct sm_pull_opts *o, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->lock, NULL);
	share_init(r);
	snprintf(r->domain, sizeof r->domain, "%s", ref->domain);
	snprintf(r->repo, sizeof r->repo, "%s", ref->repo);
	snprintf(r->base, sizeof r->base, "%s://%s",
		 scheme_for(ref, o),
		 sm_ref_registry_host(ref));
	r->ca_file = o->ca_file;
	r->cancel = o->cancel;
	r->retries = o->retries > 0 ? o->retries : 5;
	r->retry_delay_ms = o->retry_delay_ms ? o->retry_delay_ms : 500;
	if (o->username) {
		snprintf(r->user, sizeof r->user, "%s", o->username);
		snprintf(r->pass, sizeof r->pass, "%s", o->password ? o->password : "");
		r->have_creds = 1;
		return 0;
	}
	int rc = sm_auth_docker_creds(o->docker_config, ref->domain, r->user, sizeof r->user,
				      r->pass, sizeof r->pass, err, errlen);
	if (rc < 0) {
		sm_registry_free(r);
		return -1;
	}
	r->have_creds = rc;
	return 0;
}

void sm_registry_free(struct sm_registry *r)
{
	free(r->token);
	r->token = NULL;
	pthread_mutex_destroy(&r->lock);
	curl_share_cleanup(r->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&r->share_locks[i]);
}

static unsigned apply_auth(struct sm_registry *r, CURL *c)
{
	unsigned gen;

	pthread_mutex_lock(&r->lock);
	gen = r->generation;
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_NONE);
	if (r->token) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, r->token);
	} else if (r->basic && r->have_creds) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, r->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, r->pass);
	}
	pthread_mutex_unlock(&r->lock);
	return gen;
}

static int cancelled(const struct sm_registry *r)
{
	return r->cancel && __atomic_load_n(r->cancel, __ATOMIC_RELAXED);
}

static void backoff(struct sm_registry *r, int attempt, long retry_after)
{
	unsigned long ms = (unsigned long)r->retry_delay_ms << (attempt < 6 ? attempt : 6);
	if (ms > 10000)
		ms = 10000;
	if (retry_after >= 0)
		ms = (unsigned long)(retry_after > 30 ? 30 : retry_after) * 1000;
	/* In slices, so a cancel is noticed during a long Retry-After. */
	for (unsigned long slept = 0; slept < ms && !cancelled(r); slept += 50) {
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* Memory sink for small documents (manifests, tokens). */
struct membuf {
	char *p;
	size_t len, cap, max;
};

static int mem_begin(struct sm_xfer *x)
{
	((struct membuf *)x->sink.ud)->len = 0;
	return 0;
}

static int mem_write(struct sm_xfer *x, const char *p, size_t n)
{
	struct membuf *m = x->sink.ud;

	if (m->len + n > m->max) {
		snprintf(x->sink_err, sizeof x->sink_err, "response larger than %zu bytes", m->max);
		return -1;
	}
	if (m->len + n + 1 > m->cap) {
		size_t cap = (m->len + n + 1) * 2;
		char *q = realloc(m->p, cap);
		if (!q) {
			snprintf(x->sink_err, sizeof x->sink_err, "out of memory");
			return -1;
		}
		m->p = q;
		m->cap = cap;
	}
	memcpy(m->p + m->len, p, n);
	m->len += n;
	m->p[m->len] = '\0';
	return 0;
}

static char *token_url(struct sm_registry *r, const struct sm_challenge *ch, CURL *c)
{
	char scope[600];
	if (ch->scope[0])
		snprintf(scope, sizeof scope, "%s", ch->scope);
	else
		snprintf(scope, sizeof scope, "repository:%s:pull", r->repo);
	char *es = curl_easy_escape(c, scope, 0), *ev = curl_easy_escape(c, ch->service, 0);
	size_t n = strlen(ch->realm) + strlen(es) + strlen(ev) + 32;
	char *url = malloc(n);
	if (url)
		snprintf(url, n, "%s%sservice=%s&scope=%s", ch->realm,
			 strchr(ch->realm, '?') ? "&" : "?", ev, es);
	curl_free(es);
	curl_free(ev);
	return url;
}

static int parse_token(const struct membuf *m, char **token, char *err, size_t errlen)
{
	json_t *root = json_loadb(m->p ? m->p : "", m->len, 0, NULL);
	const char *t = json_string_value(json_object_get(root, "token"));
	if (!t || !*t)
		t = json_string_value(json_object_get(root, "access_token"));
	if (!t || !*t) {
		json_decref(root);
		return sm_err(err, errlen, "token service response has no token");
	}
	*token = strdup(t);
	json_decref(root);
	return *token ? 0 : sm_err(err, errlen, "out of memory");
}

static int fetch_token(struct sm_registry *r, const struct sm_challenge *ch,
		       char **token, char *err, size_t errlen)
{
	struct membuf m = { .max = 1 << 20 };
	struct sm_xfer x = { .sink = { mem_begin, mem_write, &m } };
	CURL *c = curl_easy_init();
	char *url = c ? token_url(r, ch, c) : NULL;
	int rc = -1;

	if (!url) {
		sm_err(err, errlen, "out of memory");
		goto out;
	}
	sm_http_setup(c, r->ca_file);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_SHARE, r->share);
	if (r->have_creds) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, r->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, r->pass);
	}
	for (int attempt = 0;; attempt++) {
		CURLcode cc = sm_http_perform(c, &x, NULL);
		if (sm_http_retryable(cc, x.status) && attempt + 1 < r->retries) {
			backoff(r, attempt, x.retry_after);
			continue;
		}
		if (cc != CURLE_OK)
			sm_err(err, errlen, "token request to %s: %s", ch->realm, curl_easy_strerror(cc));
		else if (x.status != 200) {
			char msg[256];
			sm_http_error_text(&x, msg, sizeof msg);
			sm_err(err, errlen, "token request to %s: HTTP %ld%s%s%s", ch->realm, x.status,
			       x.status == 401 ? " (bad credentials?)" : "", *msg ? ": " : "", msg);
		} else
			rc = parse_token(&m, token, err, errlen);
		break;
	}
out:
	free(url);
	free(m.p);
	curl_easy_cleanup(c);
	return rc;
}

/* Reacts to a 401. gen is the auth generation the request was sent with:
 * if another thread already refreshed the token, just retry. */
static int on_unauthorized(struct sm_registry *r, const struct sm_xfer *x, unsigned gen,
			   char *err, size_t errlen)
{
	struct sm_challenge ch;
	char *token = NULL;

	if (!x->www_auth[0] || sm_auth_parse_challenge(x->www_auth, &ch) < 0)
		return sm_err(err, errlen, "HTTP 401 without a usable WWW-Authenticate challenge");
	pthread_mutex_lock(&r->lock);
	int fresh = r->generation != gen;
	pthread_mutex_unlock(&r->lock);
	if (fresh)
		return 0;
	if (!strcasecmp(ch.scheme, "Basic")) {
		if (!r->have_creds)
			return sm_err(err, errlen, "registry %s requires a login (no credentials "
				      "given or in docker config.json)", r->domain);
	} else if (fetch_token(r, &ch, &token, err, errlen) < 0) {
		return -1;
	}
	pthread_mutex_lock(&r->lock);
	r->basic = !token;
	free(r->token);
	r->token = token;
	r->generation++;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int on_xferinfo(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt; (void)dn; (void)ut; (void)un;
	return cancelled(ud);
}

static int auth_stale(struct sm_registry *r, unsigned gen)
{
	pthread_mutex_lock(&r->lock);
	int stale = r->generation != gen;
	pthread_mutex_unlock(&r->lock);
	return stale;
}

static int status_error(struct sm_registry *r, const char *url, const struct sm_xfer *x,
			char *err, size_t errlen)
{
	char msg[512];

	sm_http_error_text(x, msg, sizeof msg);
	const char *hint = x->status == 401 ? " (authentication failed: bad credentials?)"
			 : x->status == 404 ? " (not found)"
			 : x->status == 403 ? " (access denied)" : "";
	return sm_err(err, errlen, "GET %s: HTTP %ld%s%s%s", url, x->status, hint,
		      *msg ? ": " : "", msg);
}

int sm_registry_request(struct sm_registry *r, CURL *c, const char *url,
			struct curl_slist *headers, struct sm_xfer *x,
			int (*before_attempt)(struct sm_xfer *x, CURL *c,
					      struct curl_slist **h),
			char *err, size_t errlen)
{
	int attempt = 0, auth_rounds = 0, tries = 0;
	CURLcode cc;

	sm_http_setup(c, r->ca_file);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_SHARE, r->share);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
	for (;;) {
		struct curl_slist *h = headers;
		if (cancelled(r))
			return sm_err(err, errlen, "GET %s: cancelled", url);
		if (before_attempt && before_attempt(x, c, &h) < 0)
			return sm_err(err, errlen, "%s", x->sink_err);
		unsigned gen = apply_auth(r, c);
		cc = sm_http_perform(c, x, h);
		tries++;
		if (h != headers)
			curl_slist_free_all(h);
		if (cc == CURLE_OK && x->status == 401) {
			/* A second refusal with the credentials or token we
			 * just obtained (nobody refreshed them since) is final. */
			if (++auth_rounds > 3 || (auth_rounds > 1 && !auth_stale(r, gen)))
				break;
			if (on_unauthorized(r, x, gen, err, errlen) < 0)
				return sm_err_prefix(err, errlen, "GET %s: ", url);
			continue;
		}
		if (x->sink_err[0])
			return sm_err(err, errlen, "GET %s: %s", url, x->sink_err);
		if (x->advanced && cc != CURLE_OK)
			attempt = 0; /* a transfer that made progress resumes afresh */
		if (!sm_http_retryable(cc, x->status) || ++attempt >= r->retries)
			break;
		backoff(r, attempt - 1, cc == CURLE_OK ? x->retry_after : -1);
	}
	if (cc == CURLE_ABORTED_BY_CALLBACK)
		return sm_err(err, errlen, "GET %s: cancelled", url);
	if (cc != CURLE_OK)
		return sm_err(err, errlen, "GET %s: %s (%d %s)", url, curl_easy_strerror(cc),
			      tries, tries == 1 ? "try" : "tries");
	if (x->status != 200 && x->status != 206)
		return status_error(r, url, x, err, errlen);
	return 0;
}

static int check_manifest_digest(const char *target, const struct sm_xfer *x,
				 const char *got, char *err, size_t errlen)
{
	if (sm_digest_valid(target) && strcmp(target, got))
		return sm_err(err, errlen, "manifest digest mismatch: expected %s, got %s",
			      target, got);
	if (!sm_digest_valid(target) && sm_digest_valid(x->docker_digest) &&
	    strcmp(x->docker_digest, got))
		return sm_err(err, errlen, "manifest digest mismatch: registry says %s, "
			      "content is %s", x->docker_digest, got);
	return 0;
}

int sm_registry_manifest(struct sm_registry *r, const char *target, char **body,
			 size_t *len, char *ctype, size_t ctlen,
			 char digest_out[SM_DIGEST_LEN], char *err, size_t errlen)
{
	struct membuf m = { .max = SM_MANIFEST_MAX };
	struct sm_xfer x = { .sink = { mem_begin, mem_write, &m } };
	struct curl_slist *h = curl_slist_append(NULL, "Accept: " SM_MANIFEST_ACCEPT);
	char url[1024];
	CURL *c = curl_easy_init();
	int rc = -1;

	snprintf(url, sizeof url, "%s/v2/%s/manifests/%s", r->base, r->repo, target);
	if (!c || !h)
		sm_err(err, errlen, "out of memory");
	else if (sm_registry_request(r, c, url, h, &x, NULL, err, errlen) == 0) {
		sm_sha256_buf(m.p ? m.p : "", m.len, digest_out);
		rc = check_manifest_digest(target, &x, digest_out, err, errlen);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (rc < 0 || !m.p) {
		free(m.p);
		return rc < 0 ? -1 : sm_err(err, errlen, "GET %s: empty manifest", url);
	}
	snprintf(ctype, ctlen, "%s", x.content_type);
	*body = m.p;
	*len = m.len;
	return 0;
}

/* registry.h - a session with one repository of one registry (OCI
 * distribution API): authentication shared across the pull's threads,
 * retries with backoff, manifest fetches, and blob downloads that resume
 * with Range and verify sha256 while streaming.
 */
#ifndef SM_STORE_REGISTRY_H
#define SM_STORE_REGISTRY_H

#include "http.h"
#include "manifest.h"
#include "ref.h"
#include "store.h"

#include <pthread.h>

struct sm_registry {
	char base[320];          /* "https://host[:port]" */
	char domain[256];
	char repo[256];
	char user[256], pass[256];
	int have_creds;
	const char *ca_file;
	int retries;
	unsigned retry_delay_ms;
	pthread_mutex_t lock;    /* guards token and scheme */
	char *token;             /* bearer token, reused across requests */
	int basic;               /* server asked for Basic auth */
	unsigned generation;     /* bumped when the token changes */
	const volatile int *cancel;
	CURLSH *share;           /* connections, DNS and TLS sessions reused
				    by every request of the session */
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
};

/* On failure r needs no sm_registry_free. */
int sm_registry_init(struct sm_registry *r, const struct sm_ref *ref,
		     const struct sm_pull_opts *o, char *err, size_t errlen);
void sm_registry_free(struct sm_registry *r);

/* Fetches a manifest or index by tag or digest; *body is malloc'd. The
 * digest of the bytes goes to digest_out; a requested digest is checked. */
int sm_registry_manifest(struct sm_registry *r, const char *target, char **body,
			 size_t *len, char *ctype, size_t ctlen,
			 char digest_out[SM_DIGEST_LEN], char *err, size_t errlen);

/* Runs a request on c with auth, retries and backoff. sink receives a
 * 200/206 body. before_attempt (may be NULL) runs before each try (to
 * set Range). Returns 0 on 2xx, else -1 with the URL, status and the
 * registry's message in err. */
int sm_registry_request(struct sm_registry *r, CURL *c, const char *url,
			struct curl_slist *headers, struct sm_xfer *x,
			int (*before_attempt)(struct sm_xfer *x, CURL *c,
					      struct curl_slist **h),
			char *err, size_t errlen);

/* Downloads the blob to partial_path (resuming what is there), verifying
 * size and digest; on a digest mismatch the file is deleted. */
int sm_registry_blob(struct sm_registry *r, const struct sm_desc *d,
		     const char *partial_path, sm_progress_fn progress, void *ud,
		     char *err, size_t errlen);

#endif

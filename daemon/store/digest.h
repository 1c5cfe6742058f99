/* digest.h - sha256 content digests ("sha256:<64 lowercase hex>").
 *
 * A streaming hasher (OpenSSL EVP) used while blobs download or copy, plus
 * helpers to hash a buffer or a whole file and to validate digest strings.
 */
#ifndef SM_STORE_DIGEST_H
#define SM_STORE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SM_DIGEST_LEN 72 /* "sha256:" + 64 hex + NUL, rounded */

struct sm_hash {
	void *ctx; /* EVP_MD_CTX */
};

int sm_hash_init(struct sm_hash *h);
void sm_hash_update(struct sm_hash *h, const void *buf, size_t len);
void sm_hash_final(struct sm_hash *h, char out[SM_DIGEST_LEN]);
void sm_hash_free(struct sm_hash *h);

void sm_sha256_buf(const void *buf, size_t len, char out[SM_DIGEST_LEN]);
/* Hashes path; its byte count goes to *size when size is not NULL. */
int sm_sha256_file(const char *path, char out[SM_DIGEST_LEN], uint64_t *size,
		   char *err, size_t errlen);

bool sm_digest_valid(const char *d);
/* The 64 hex characters after "sha256:" (d must be valid). */
const char *sm_digest_hex(const char *d);

#endif

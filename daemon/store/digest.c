/* digest.c - sha256 hashing with OpenSSL's EVP interface (see digest.h). */
#include "digest.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int sm_hash_init(struct sm_hash *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		h->ctx = NULL;
		return -1;
	}
	h->ctx = c;
	return 0;
}

void sm_hash_update(struct sm_hash *h, const void *buf, size_t len)
{
	EVP_DigestUpdate(h->ctx, buf, len);
}

void sm_hash_final(struct sm_hash *h, char out[SM_DIGEST_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	strcpy(out, "sha256:");
	for (unsigned int i = 0; i < n; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

void sm_hash_free(struct sm_hash *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void sm_sha256_buf(const void *buf, size_t len, char out[SM_DIGEST_LEN])
{
	struct sm_hash h;

	if (sm_hash_init(&h) < 0) {
		out[0] = '\0';
		return;
	}
	sm_hash_update(&h, buf, len);
	sm_hash_final(&h, out);
	sm_hash_free(&h);
}

int sm_sha256_file(const char *path, char out[SM_DIGEST_LEN], uint64_t *size,
		   char *err, size_t errlen)
{
	static __thread char buf[1 << 16];
	struct sm_hash h;
	uint64_t total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return sm_err(err, errlen, "open %s: %s", path, strerror(errno));
	if (sm_hash_init(&h) < 0) {
		close(fd);
		return sm_err(err, errlen, "sha256 init failed");
	}
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		sm_hash_update(&h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	int saved = errno;
	close(fd);
	if (n < 0) {
		sm_hash_free(&h);
		return sm_err(err, errlen, "read %s: %s", path, strerror(saved));
	}
	sm_hash_final(&h, out);
	sm_hash_free(&h);
	if (size)
		*size = total;
	return 0;
}

bool sm_digest_valid(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) || strlen(d) != 71)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

const char *sm_digest_hex(const char *d)
{
	return d + 7;
}

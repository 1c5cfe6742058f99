/* base64.c - the exec stream carries stdin and output chunks as base64
 * (RFC 4648, with padding); the library has no crypto dependency, so the
 * two directions are here. */
#include "client/client_int.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *b64_encode(const void *data, size_t n)
{
	const unsigned char *p = data;
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? alphabet[v & 63] : '=';
	}
	*o = 0;
	return out;
}

/* 0-63 for the alphabet's characters, -1 for any other byte. */
static signed char values[256];
static pthread_once_t values_once = PTHREAD_ONCE_INIT;

static void fill_values(void)
{
	memset(values, -1, sizeof values);
	for (int i = 0; i < 64; i++)
		values[(unsigned char)alphabet[i]] = (signed char)i;
}

int b64_decode(const char *s, unsigned char *out, size_t *n)
{
	return b64_decode_n(s, strlen(s), out, n);
}

/* Decodes len characters of s into out (at least len / 4 * 3 bytes); -1
 * if malformed ('=' only as the last one or two characters). */
int b64_decode_n(const char *s, size_t len, unsigned char *out, size_t *n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0, pad = 0;
	pthread_once(&values_once, fill_values);
	if (len % 4)
		return -1;
	if (len && u[len - 1] == '=')
		pad = len > 1 && u[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len; i += 4) {
		int v0 = values[u[i]], v1 = values[u[i + 1]];
		bool last = i + 4 == len;
		int v2 = last && pad == 2 ? 0 : values[u[i + 2]];
		int v3 = last && pad ? 0 : values[u[i + 3]];
		if ((v0 | v1 | v2 | v3) < 0)
			return -1;
		unsigned w = (unsigned)v0 << 18 | (unsigned)v1 << 12 | (unsigned)v2 << 6 | (unsigned)v3;
		out[k++] = (unsigned char)(w >> 16);
		if (!(last && pad == 2))
			out[k++] = (unsigned char)(w >> 8);
		if (!(last && pad))
			out[k++] = (unsigned char)w;
	}
	*n = k;
	return 0;
}

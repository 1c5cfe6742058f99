/* base64.c - the exec stream carries stdin and output chunks as base64
 * (RFC 4648, with padding); the library has no crypto dependency, so the
 * two directions are here. */
#include "client/client_int.h"

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

static int value_of(char ch)
{
	const char *at = ch ? strchr(alphabet, ch) : NULL;
	return at ? (int)(at - alphabet) : -1;
}

/* Decodes s into out (at least 3/4 of strlen(s) bytes); -1 if malformed. */
int b64_decode(const char *s, unsigned char *out, size_t *n)
{
	size_t len = strlen(s), k = 0;
	if (len % 4)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		for (int j = 0; j < 4; j++) {
			v[j] = s[i + j] == '=' && i + 4 == len && j >= 2 ? 0 : value_of(s[i + j]);
			if (v[j] < 0)
				return -1;
		}
		unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 |
			     (unsigned)v[3];
		out[k++] = (unsigned char)(w >> 16);
		if (s[i + 2] != '=')
			out[k++] = (unsigned char)(w >> 8);
		if (s[i + 3] != '=')
			out[k++] = (unsigned char)w;
	}
	*n = k;
	return 0;
}

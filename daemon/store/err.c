/* err.c - formatting of returned error messages (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sm_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int sm_err_prefix(char *err, size_t errlen, const char *fmt, ...)
{
	char prefix[512], inner[1024];
	va_list ap;

	if (!err || !errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	snprintf(inner, sizeof inner, "%s", err);
	snprintf(err, errlen, "%s%s", prefix, inner);
	return -1;
}

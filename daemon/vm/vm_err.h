/* vm_err.h - error messages with context, returned up the call chain.
 *
 * Functions that can fail take a struct vm_err * and return -1 after
 * vm_errf() wrote a one-line message; callers add context by calling
 * vm_err_prefix() and pass the error on. Only main() prints it.
 */
#ifndef SM_VM_ERR_H
#define SM_VM_ERR_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct vm_err {
	char msg[512];
};

/* Set the message; returns -1 so callers can `return vm_errf(...)`. */
__attribute__((format(printf, 2, 3)))
static inline int vm_errf(struct vm_err *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Like vm_errf, with ": strerror(errno)" appended (errno saved first). */
#define vm_errno(e, ...) ({ int _saved = errno; char _b[400]; \
	snprintf(_b, sizeof(_b), __VA_ARGS__); \
	vm_errf((e), "%s: %s", _b, strerror(_saved)); })

/* Put "prefix: " in front of an existing message; returns -1. */
__attribute__((format(printf, 2, 3)))
static inline int vm_err_prefix(struct vm_err *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	char pre[256], old[sizeof(e->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%.200s: %.300s", pre, old);
	return -1;
}

#endif

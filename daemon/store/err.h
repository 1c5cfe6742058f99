/* err.h - error messages returned through (char *err, size_t errlen).
 *
 * Every store function that can fail takes a caller buffer and fills it with
 * a message that names what failed and why; nothing below store.h prints.
 * sm_err() formats and returns -1 so call sites can `return sm_err(...)`;
 * sm_err_prefix() adds outer context ("pulling x: ") to an inner message.
 */
#ifndef SM_STORE_ERR_H
#define SM_STORE_ERR_H

#include <stddef.h>

int sm_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sm_err_prefix(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif

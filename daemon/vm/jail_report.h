/* jail_report.h - what a jailed process says when its seccomp filter
 * refuses a system call (jail_report.c): one line on stderr naming the
 * call, the same on the worker channel, then death by SIGSYS.
 */
#ifndef SM_JAIL_REPORT_H
#define SM_JAIL_REPORT_H

#include "vm_err.h"

/* Before the filter is loaded: resolve the names, install the SIGSYS
 * handler, remember report_fd (the worker channel, or -1). 0, or -1 with err. */
int jail_report_install(int report_fd, struct vm_err *err);

/* The x86-64 name of system call nr ("unknown" when none); filled by
 * jail_report_install(). */
const char *jail_syscall_name(long nr);

#endif

/* child_exec.h - the child's half of the daemon's fork and exec of a
 * process it supervises: a VM's supermachine-vmm (worker.c) or its passt
 * (passt.c). */
#ifndef SM_VMS_CHILD_EXEC_H
#define SM_VMS_CHILD_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

/* In the child, between fork and exec (only async-signal-safe calls):
 * dies with the daemon (PR_SET_PDEATHSIG, and at once if daemon_pid is
 * already gone), leaves the daemon's session, stdin /dev/null, stdout and
 * stderr logfd, fd 3 fd3, nothing else open, no signal blocked; then
 * execs argv (searched on PATH if path_search). Never returns: exit 127
 * if any of it fails. */
__attribute__((noreturn))
void child_exec(char *const argv[], bool path_search, int logfd, int fd3, pid_t daemon_pid);

#endif

/* spawn.h - fork and exec of a process the daemon supervises: a VM's
 * supermachine-vmm (worker.c) or its passt (passt.c). Each gets one end
 * of a new socketpair as its fd 3 (the VMM's control channel, passt's
 * link to the VM) and a log file as stdout and stderr. */
#ifndef SM_VMS_SPAWN_H
#define SM_VMS_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Start argv (searched on PATH if path_search) with stdin /dev/null,
 * stdout and stderr appended to log_path, fd 3 one end of a socketpair of
 * sock_type (SOCK_STREAM, SOCK_SEQPACKET) and nothing else open; it dies
 * with the daemon and leaves its session. The child's pid, with the other
 * end in *our_fd; or -1 with err ("socketpair: ...", "LOG: ...", "fork:
 * ..."). An exec that fails shows as the child's exit 127. */
pid_t spawn_with_socket(char *const argv[], bool path_search, const char *log_path,
			int sock_type, int *our_fd, char *err, size_t errlen);

#endif

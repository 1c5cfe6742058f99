/* agent_spawn.h - start one exec request's process.
 *
 * Creates the pipes (or a pty), forks, and in the child sets up a new
 * session (so a timeout can kill the whole process group), stdio, cwd,
 * gid/uid, supplementary groups and environment, then looks the command up
 * as docker does (agent_lookup.h) and execve()s it. Failures in the child up to and
 * including execve are reported back through a close-on-exec pipe, so the
 * caller learns "exec foo: No such file or directory" synchronously.
 */
#ifndef SM_AGENT_SPAWN_H
#define SM_AGENT_SPAWN_H

#include "agent_proto.h"

#include <stddef.h>
#include <sys/types.h>

struct spawn_result {
	pid_t pid;
	int out_fd; /* stdout read end, or the pty master */
	int err_fd; /* stderr read end, -1 with a pty */
	int in_fd;  /* stdin write end, a dup of the pty master, or -1 */
	unsigned fail_kind; /* on failure: SM_EXEC_NOT_* when the command itself
			     * could not be found or run (err: docker's words) */
};

/* 0 and *res filled (parent fds non-blocking, close-on-exec), or -errno
 * with a message in err. */
int spawn_process(const struct sm_exec_req *req, struct spawn_result *res,
		  char *err, size_t errlen);

#endif

/* agent_lookup.h - finding an exec request's command the way docker
 * (runc, through Go's exec.LookPath) does, and docker's words when it
 * cannot be found or run.
 *
 * A name with a '/' is taken as it is; any other is searched in the
 * request's PATH (an empty entry is the cwd): the first regular file the
 * caller may execute wins. Failures are one of two kinds, which the agent
 * reports to the host (EXEC_FAILED, protocol 5) and the CLI turns into
 * docker's exit statuses:
 *   SM_EXEC_NOT_FOUND       127  exec: "NAME": executable file not found in $PATH
 *                                exec: "/x/NAME": stat /x/NAME: no such file or directory
 *   SM_EXEC_NOT_EXECUTABLE  126  exec: "NAME": permission denied
 *                                exec: "NAME": is a directory
 *                                exec: "NAME": exec format error
 */
#ifndef SM_AGENT_LOOKUP_H
#define SM_AGENT_LOOKUP_H

#include <stddef.h>

/* The command's path into out: 0, or the failure's kind (SM_EXEC_NOT_*)
 * with docker's message in msg. path_env: PATH's value (NULL: none). */
int command_lookup(const char *name, const char *path_env, char *out, size_t outlen,
		   char *msg, size_t msglen);

/* After execve(path) failed with err: the kind (0 when it is neither, e.g.
 * ENOMEM) and the message. */
int command_exec_failure(const char *name, int err, char *msg, size_t msglen);

/* PATH's value in a NULL-terminated "K=V" array, or docker's default
 * when it has none. */
#define SM_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
const char *env_path(char *const *env);

#endif

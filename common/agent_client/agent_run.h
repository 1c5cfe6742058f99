/* agent_run.h - run one command in the guest as if it ran here.
 *
 * The host half of `supermachine-vmm ... -- CMD ARGS`: connect to the
 * agent through the VM's hybrid vsock socket (waiting while the guest
 * boots), exec CMD with our stdin forwarded and its stdout/stderr written
 * to ours, and turn the result into a shell-style exit status. When our
 * stdout or stderr reader goes away (EPIPE; the caller ignores SIGPIPE),
 * the command gets SIGPIPE, as it would writing to that pipe here. Optionally
 * asks the guest to power off afterwards. Built on agent_client.h; the VMM
 * calls it from a thread while its vCPUs run.
 */
#ifndef SM_AGENT_RUN_H
#define SM_AGENT_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_run_opts {
	const char *vsock_path;     /* the VM's hybrid vsock Unix socket */
	uint32_t port;              /* 0 = SM_AGENT_PORT */
	int connect_timeout_ms;     /* how long the guest may take to boot */
	const char *const *argv;
	const char *const *env;     /* NULL = a default PATH/HOME/TERM */
	const char *cwd;            /* NULL = "/" */
	uint32_t uid, gid;          /* 0 = root */
	uint32_t timeout_ms;        /* 0 = none */
	int stdin_fd;               /* -1 = none (/dev/null in the guest) */
	int stdout_fd, stderr_fd;   /* where the command's output goes */
	bool pty;                   /* run on a guest pty (stdin is a terminal) */
	bool shutdown_after;        /* power the guest off when done */
};

/* Exit status as a shell reports it: the code, 128+signal, or 124 when the
 * timeout killed it. -1 with err if the command could not run at all. */
int agent_run(const struct agent_run_opts *o, char *err, size_t errlen);

/* The same on an existing connection (vsock_path/port are ignored). */
struct agent_client;
int agent_run_on(struct agent_client *c, const struct agent_run_opts *o, char *err,
		 size_t errlen);

#endif

/* run_mode.h - `supermachine-vmm [options] -- CMD ARGS...`: run one command
 * in a fresh microVM as if it ran here.
 *
 * Boots the VM as the other modes do, waits for the guest agent on the
 * VM's hybrid vsock socket, runs CMD through agent_run_on() with our
 * stdin/stdout/stderr, asks the agent to power the guest off and waits for
 * that (bounded), and returns CMD's exit status: its code, or 128+N when
 * signal N killed it. SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to us while
 * CMD runs go to CMD's process group in the guest. Our own failures have
 * statuses of their own (listed in --help too):
 */
#ifndef SM_RUN_MODE_H
#define SM_RUN_MODE_H

#include "options.h"

enum run_status {
	RUN_VM_ENDED = 122,   /* the VM ended, or the agent connection broke, mid-command */
	RUN_NO_AGENT = 123,   /* the agent never answered (--agent-timeout, or the VM died) */
	RUN_SETUP = 125,      /* usage error, or the VM could not be built or booted */
	RUN_NO_EXEC = 127,    /* the agent could not start CMD (not found, not executable) */
};

/* How long the guest gets to power off after the agent acknowledged SHUTDOWN. */
#define RUN_POWEROFF_WAIT_MS 30000

/* Runs o->run_argv; the return value is the process's exit status. */
int run_mode(const struct options *o);

#endif

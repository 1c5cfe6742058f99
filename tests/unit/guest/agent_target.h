/* agent_target.h - where the agent tests find an agent to talk to.
 *
 * The same test programs run against the agent served natively on a Unix
 * socket (unit suite: agent-unix started here) and against the real agent
 * inside a microVM (vm suite: tests/vm/agent starts the VMM and sets
 * SM_AGENT_TARGET=hybrid:SOCKET_PATH:PORT; vsock:CID:PORT reaches a guest
 * directly, e.g. QEMU with vhost-vsock). Helpers run one command and
 * collect its output.
 */
#ifndef SM_AGENT_TARGET_H
#define SM_AGENT_TARGET_H

#include "agent_client.h"

#include <stdbool.h>
#include <stddef.h>

/* Starts agent-unix unless SM_AGENT_TARGET names a target; call once. */
void target_setup(void);
void target_teardown(void);
/* A new connection (fails the test on error). */
struct agent_client *target_connect(void);
/* A new raw stream to the agent, before any HELLO (fails the test on error). */
int target_connect_raw(void);
bool target_is_vm(void);
/* A scratch directory path on the agent's side. */
const char *target_tmp(void);

struct buf {
	char *data;
	size_t len, cap;
};

struct run {
	struct buf out, err;
	struct agent_exec_result res;
	int rc;              /* agent_client_exec's return */
	uint32_t failure;    /* agent_client_exec_failure when rc != 0 */
	char error[512];     /* agent_client_error when rc != 0 */
};

/* Output callback appending to a struct buf (NUL-terminated). */
void buf_collect(void *buf, const void *p, size_t n);

/* Runs argv on a fresh connection; stdin_fd -1 = none. */
void run_cmd(struct run *r, const char *const *argv, int stdin_fd, uint32_t timeout_ms);
void run_free(struct run *r);

#endif

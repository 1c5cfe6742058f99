/* main_proc.h - a VM's main process (run -d): its command run by the
 * daemon, detached from any client, with its stdout and stderr kept in
 * the VM's directory and its exit recorded for wait, logs and inspect.
 *
 * The log, DATA/vms/ID/main.log, is a sequence of frames: an 8-byte
 * header (byte 0: 1 stdout, 2 stderr; bytes 4-7: the payload's length,
 * big-endian; at most MAIN_FRAME_MAX) then the payload. When a frame would
 * take main.log past MAIN_LOG_MAX it is renamed main.log.1 (replacing the
 * older one) and a new main.log begun: the last 4 to 8 MiB are kept.
 *
 * When the main process ends the VM is stopped (and, made with
 * auto_remove, removed), as a container stops with its process.
 */
#ifndef SM_API_MAIN_PROC_H
#define SM_API_MAIN_PROC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/api/server.h"

#define MAIN_LOG_MAX   (4u << 20)
#define MAIN_FRAME_MAX (64u << 10)

struct exec_job;
struct vm_rec;

struct main_state {
	bool running;              /* false: it has ended */
	int exit_code, signal;     /* once ended: as an exec's exit line */
	char exec_id[17];          /* the signal route takes it */
	char error[256];           /* "" unless the agent connection failed */
};

/* DATA/vms/ID/main.log (gen 0) or main.log.1 (gen 1) into buf. */
void main_log_path(const struct vm_rec *vm, int gen, char *buf, size_t len);

/* Starts j (prepared: argv, env, cwd, user, agent connection) as vm's main
 * process on a thread of its own, taking j. -1 with err when vm already
 * has one (errno EEXIST) or nothing could start. */
int main_start(struct api_server *srv, struct exec_job *j, char *err, size_t errlen);

/* false when the VM (by id) has no main process. */
bool main_get(const char *vm_id, struct main_state *out);

/* Waits until the main process of vm_id ends or timeout_ms passes; its
 * state. false when there is none. */
bool main_wait(const char *vm_id, int timeout_ms, struct main_state *out);

/* {"state":"running"|"exited","exec_id":…,"exit_code":…,"signal":…}, or
 * NULL when the VM has no main process. */
json_t *main_json(const char *vm_id);

#endif

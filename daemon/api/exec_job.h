/* exec_job.h - one command running in a VM for the exec routes: the
 * NDJSON form (h_vms_exec.c) and the pty form over an HTTP upgrade
 * (h_vms_exec_tty.c) share its checks, its preparation (argv, env, cwd,
 * user, one agent connection) and the registry of running execs that the
 * signal and resize routes look them up in. */
#ifndef SM_API_EXEC_JOB_H
#define SM_API_EXEC_JOB_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "daemon/api/server.h"
#include "daemon/api/vms_req.h"

struct agent_client;
struct stream;
struct vm_rec;

/* The media type of the exec stream's binary form (docs/api.md). */
#define EXEC_FRAMES_TYPE "application/vnd.supermachine.exec-frames"

struct exec_job {
	struct api_server *srv;
	struct stream *s;          /* NDJSON or frames form */
	bool frames;               /* the frames form (Accept: EXEC_FRAMES_TYPE) */
	int sock;                  /* pty form: the upgraded connection, else -1 */
	void *urh;                 /* pty form: MHD's upgrade handle */
	struct agent_client *c;
	struct vm_rec *vm;
	char id[17];
	const char **argv, **env;
	json_t *body;              /* owns the strings argv/env point into */
	char *cwd;
	char *home, *hostname;     /* "HOME=…", "HOSTNAME=…" added to env, or NULL */
	uint32_t uid, gid, timeout_ms;
	uint32_t groups[SM_USER_MAX_GROUPS]; /* supplementary */
	uint32_t ngroups;
	bool mkcwd;                /* cwd is the VM's workdir: made if missing */
	uint16_t rows, cols;       /* pty form */
	int stdin_fd;
	struct timespec t0;
	pthread_mutex_t mu;
	int refs;
	bool done;                 /* the command has ended */
	struct exec_job *next;     /* the registry */
};

/* The job for an exec request's body (the reference is taken): the
 * fields both forms share checked, the VM of the path running; refs 1.
 * NULL after replying. */
struct exec_job *exec_job_open(struct api_req *r, json_t *body);
void exec_job_unref(struct exec_job *j);

/* argv, env, cwd, the agent connection, the user's ids and the timeout;
 * 0, or -1 after replying. */
int exec_job_prepare(struct api_req *r, struct exec_job *j);

/* stdin (base64 "stdin" of the body) as a memfd in j->stdin_fd; 0, or -1
 * after replying 400/500. */
int exec_job_stdin(struct api_req *r, struct exec_job *j);

/* A fresh id, the start time, and the job in the registry. */
void exec_job_register(struct exec_job *j);
void exec_job_unregister(struct exec_job *j);

/* Calls fn on the running exec `id` of vm under the registry's lock:
 * fn's result, or -2 when there is none. */
int exec_job_with(struct vm_rec *vm, const char *id,
		  int (*fn)(struct exec_job *j, void *arg), void *arg);

double exec_job_seconds(const struct exec_job *j);

/* The error object ({"code","message"}) of an exec that failed: the code
 * "command_not_found" (docker's 127) or "command_not_executable" (126)
 * when the agent said so, else "exec_failed". */
json_t *exec_job_error(struct exec_job *j);

#endif

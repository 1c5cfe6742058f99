/* main_proc.c - the VMs' main processes (see main_proc.h): a registry by
 * VM id, the log writer, and the thread that runs each one. */
#include "common/clock/deadline.h"
#include "daemon/api/main_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "daemon/api/exec_job.h"
#include "daemon/api/log.h"
#include "common/agent_client/agent_client.h"
#include "daemon/vms/vms.h"

#define ERRLEN 1024

struct main_proc {
	char vm_id[80];
	struct main_state st;
	struct main_proc *next;
	/* the runner's own: */
	struct exec_job *j;
	int fd;
	uint64_t size;
	char path[4096], old[4096];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended_cv = PTHREAD_COND_INITIALIZER;
static struct main_proc *procs;   /* kept for the daemon's run: a few bytes a VM */

void main_log_path(const struct vm_rec *vm, int gen, char *buf, size_t len)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", vm_console_path(vm));
	snprintf(buf, len, "%s/main.log%s", dirname(dir), gen ? ".1" : "");
}

static struct main_proc *find_locked(const char *vm_id)
{
	for (struct main_proc *p = procs; p; p = p->next)
		if (!strcmp(p->vm_id, vm_id))
			return p;
	return NULL;
}

static void rotate(struct main_proc *p)
{
	if (rename(p->path, p->old) < 0)
		sm_log("main.log of VM %s: rename: %s", p->vm_id, strerror(errno));
	close(p->fd);
	p->fd = open(p->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	p->size = 0;
}

/* One stream's bytes as frames; a full disk loses output, not the process. */
static void write_frames(struct main_proc *p, int stream, const char *data, size_t n)
{
	while (n > 0 && p->fd >= 0) {
		size_t k = n < MAIN_FRAME_MAX ? n : MAIN_FRAME_MAX;
		unsigned char h[8] = { (unsigned char)stream, 0, 0, 0, (unsigned char)(k >> 24),
				       (unsigned char)(k >> 16), (unsigned char)(k >> 8),
				       (unsigned char)k };
		if (p->size + sizeof h + k > MAIN_LOG_MAX)
			rotate(p);
		struct iovec iov[2] = { { h, sizeof h }, { (void *)data, k } };
		ssize_t w = p->fd >= 0 ? writev(p->fd, iov, 2) : -1;
		if (w != (ssize_t)(sizeof h + k)) {
			sm_log("main.log of VM %s: write: %s", p->vm_id,
			       w < 0 ? strerror(errno) : "short write");
			return;
		}
		p->size += (uint64_t)w;
		data += k;
		n -= k;
	}
}

static void on_stdout(void *ud, const void *d, size_t n) { write_frames(ud, 1, d, n); }
static void on_stderr(void *ud, const void *d, size_t n) { write_frames(ud, 2, d, n); }

static void *run_main(void *arg)
{
	struct main_proc *p = arg;
	struct exec_job *j = p->j;
	struct agent_exec_spec spec = {
		.argv = j->argv, .env = j->env, .cwd = j->cwd, .uid = j->uid, .gid = j->gid,
		.groups = j->groups, .ngroups = j->ngroups, .mkcwd = j->mkcwd, .stdin_fd = -1,
	};
	struct agent_exec_io io = { .on_stdout = on_stdout, .on_stderr = on_stderr, .opaque = p };
	struct agent_exec_result res = { .exit_code = -1 };
	int rc = agent_client_exec(j->c, &spec, &io, &res);
	exec_job_unregister(j);
	if (p->fd >= 0)
		close(p->fd);
	pthread_mutex_lock(&mu);
	p->st.running = false;
	p->st.exit_code = rc == 0 ? res.exit_code : -1;
	p->st.signal = rc == 0 ? res.signal : 0;
	if (rc < 0)
		snprintf(p->st.error, sizeof p->st.error, "%s", agent_client_error(j->c));
	pthread_cond_broadcast(&ended_cv);
	pthread_mutex_unlock(&mu);
	char err[ERRLEN];
	if (vm_state(j->vm) == VM_RUNNING && vms_stop(j->srv->vms, j->vm, err, sizeof err) < 0)
		sm_log("VM %s: stopping after its main process: %s", p->vm_id, err);
	struct api_server *srv = j->srv;
	p->j = NULL;
	exec_job_unref(j);
	server_job_end(srv);
	return NULL;
}

int main_start(struct api_server *srv, struct exec_job *j, char *err, size_t errlen)
{
	pthread_mutex_lock(&mu);
	struct main_proc *p = find_locked(vm_id(j->vm));
	pthread_mutex_unlock(&mu);
	if (p) {
		errno = EEXIST;
		snprintf(err, errlen, "VM %s already has a main process", vm_id(j->vm));
		return -1;
	}
	if (!(p = calloc(1, sizeof *p))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(p->vm_id, sizeof p->vm_id, "%s", vm_id(j->vm));
	main_log_path(j->vm, 0, p->path, sizeof p->path);
	main_log_path(j->vm, 1, p->old, sizeof p->old);
	p->fd = open(p->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	if (p->fd < 0) {
		snprintf(err, errlen, "%s: %s", p->path, strerror(errno));
		free(p);
		return -1;
	}
	p->j = j;
	p->st.running = true;
	exec_job_register(j);
	snprintf(p->st.exec_id, sizeof p->st.exec_id, "%s", j->id);
	pthread_mutex_lock(&mu);
	bool raced = find_locked(p->vm_id) != NULL;
	if (!raced) {
		p->next = procs;
		procs = p;
	}
	pthread_mutex_unlock(&mu);
	pthread_t t;
	server_job_begin(srv);
	if (raced || pthread_create(&t, NULL, run_main, p) != 0) {
		server_job_end(srv);
		exec_job_unregister(j);
		close(p->fd);
		snprintf(err, errlen, raced ? "VM %s already has a main process"
					    : "no thread for the main process", p->vm_id);
		errno = raced ? EEXIST : EAGAIN;
		if (!raced) {   /* it stays listed, ended */
			pthread_mutex_lock(&mu);
			p->st.running = false;
			p->st.exit_code = -1;
			snprintf(p->st.error, sizeof p->st.error, "%s", err);
			pthread_mutex_unlock(&mu);
		} else {
			free(p);
		}
		return -1;
	}
	pthread_detach(t);
	return 0;
}

bool main_get(const char *id, struct main_state *out)
{
	pthread_mutex_lock(&mu);
	struct main_proc *p = find_locked(id);
	if (p)
		*out = p->st;
	pthread_mutex_unlock(&mu);
	return p != NULL;
}

bool main_wait(const char *id, int timeout_ms, struct main_state *out)
{
	struct timespec until = deadline_after_ms(timeout_ms);
	pthread_mutex_lock(&mu);
	struct main_proc *p = find_locked(id);
	while (p && p->st.running)
		if (pthread_cond_timedwait(&ended_cv, &mu, &until) == ETIMEDOUT)
			break;
	if (p)
		*out = p->st;
	pthread_mutex_unlock(&mu);
	return p != NULL;
}

json_t *main_json(const char *id)
{
	struct main_state st;
	if (!main_get(id, &st))
		return NULL;
	if (st.running)
		return json_pack("{s:s,s:s}", "state", "running", "exec_id", st.exec_id);
	return json_pack("{s:s,s:s,s:i,s:i,s:s*}", "state", "exited", "exec_id", st.exec_id,
			 "exit_code", st.exit_code, "signal", st.signal,
			 "error", st.error[0] ? st.error : NULL);
}

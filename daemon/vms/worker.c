/* worker.c - spawn and supervise one supermachine-vmm (see worker.h). */

#include "common/clock/deadline.h"
#include "daemon/vms/worker.h"
#include "daemon/vms/spawn.h"
#include "daemon/vm/worker_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 512 /* a sanity bound: vms_boot.c passes up to ~320 (two per layer) */

struct worker {
	char **argv;               /* full argv for execv */
	char *stderr_path;
	struct worker_hooks hooks;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int phase;                 /* 0 starting, 1 running, 2 exited, -1 failed */
	char err[512];
	pid_t pid;
	int fd;                    /* our end of the channel */
	bool reaped;               /* pid is no longer ours to signal */
	bool self_free;            /* worker_free ran in on_exit: the thread frees */
	char forbidden[64];        /* the system call its jail refused (FORBIDDEN) */
	/* One request at a time (SNAPSHOT, FS_BIND, FS_SEAL): worker_request
	 * waits for the answer of type req_reply. */
	bool req_busy, req_answered;
	uint32_t req_reply;
	int req_rc;
	char req_msg[248];
};

static void set_phase(struct worker *w, int phase)
{
	pthread_mutex_lock(&w->mu);
	w->phase = phase;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static int spawn(struct worker *w)
{
	pid_t pid = spawn_with_socket(w->argv, false, w->stderr_path, SOCK_SEQPACKET, &w->fd,
				      w->err, sizeof w->err);
	if (pid < 0)
		return -1;
	w->pid = pid;
	return 0;
}

/* Reads messages until EXITED or EOF; fills ex. */
static void read_channel(struct worker *w, struct worker_exit *ex)
{
	for (;;) {
		struct worker_msg m;
		ssize_t n = recv(w->fd, &m, sizeof m, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof m)
			return;   /* EOF or garbage: the process status tells the rest */
		m.text[sizeof m.text - 1] = 0;
		if (m.type == WORKER_READY && w->hooks.on_ready)
			w->hooks.on_ready(w->hooks.ud);
		if (m.type == WORKER_FORBIDDEN)
			snprintf(w->forbidden, sizeof w->forbidden, "%.32s (system call %d)", m.text,
				 m.value);
		pthread_mutex_lock(&w->mu);
		if (w->req_busy && m.type == w->req_reply) {
			w->req_answered = true;
			w->req_rc = m.value;
			snprintf(w->req_msg, sizeof w->req_msg, "%s", m.text);
			pthread_cond_broadcast(&w->cv);
		}
		pthread_mutex_unlock(&w->mu);
		if (m.type == WORKER_EXITED) {
			ex->outcome = m.value;
			snprintf(ex->why, sizeof ex->why, "%s", m.text);
			return;
		}
	}
}

/* "killed by SIGSYS: getpid (system call 39), forbidden by its jail" */
static void describe_signal(const struct worker *w, int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);
	int n = abbrev ? snprintf(buf, len, "killed by SIG%s", abbrev)
		       : snprintf(buf, len, "killed by signal %d", sig);
	if (sig != SIGSYS || n < 0 || (size_t)n >= len)
		return;
	if (w->forbidden[0])
		snprintf(buf + n, len - n, ": %s, forbidden by its jail", w->forbidden);
	else
		snprintf(buf + n, len - n, ": a system call forbidden by its jail (made with "
			 "signals blocked, so it could not say which)");
}

/* How the process ended, when that adds to (or replaces) its report. */
static void describe_status(const struct worker *w, int st, struct worker_exit *ex)
{
	char sig[200];
	if (WIFSIGNALED(st))
		describe_signal(w, WTERMSIG(st), sig, sizeof sig);
	if (ex->outcome >= 0) {
		size_t n = strlen(ex->why);
		if (WIFSIGNALED(st) && n < sizeof ex->why)
			snprintf(ex->why + n, sizeof ex->why - n, "; then the worker was %s", sig);
		return;
	}
	if (WIFSIGNALED(st))
		snprintf(ex->why, sizeof ex->why, "worker %s", sig);
	else
		snprintf(ex->why, sizeof ex->why, "worker exited with status %d and no report",
			 WEXITSTATUS(st));
}

static void free_worker(struct worker *w);

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	if (spawn(w) < 0) {
		set_phase(w, -1);
		return NULL;
	}
	set_phase(w, 1);
	struct worker_exit ex = { .outcome = -1 };
	read_channel(w, &ex);
	int st = 0;
	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&w->mu);
	w->reaped = true;
	pthread_mutex_unlock(&w->mu);
	ex.wait_status = st;
	describe_status(w, st, &ex);
	pthread_mutex_lock(&w->mu);
	close(w->fd);
	w->fd = -1;
	pthread_mutex_unlock(&w->mu);
	w->hooks.on_exit(w->hooks.ud, &ex);
	pthread_mutex_lock(&w->mu);
	bool self_free = w->self_free;
	w->phase = 2;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (self_free)
		free_worker(w);   /* nobody else holds w any more */
	return NULL;
}

static char **build_argv(const char *vmm, const char *const *argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	if (n > MAX_ARGS)
		return NULL;
	char **v = calloc(n + 4, sizeof *v);
	if (!v)
		return NULL;
	v[0] = strdup(vmm);
	for (size_t i = 0; i < n; i++)
		v[i + 1] = strdup(argv[i]);
	v[n + 1] = strdup("--control-fd");
	v[n + 2] = strdup("3");
	for (size_t i = 0; i < n + 3; i++)
		if (!v[i]) {
			for (size_t j = 0; j < n + 3; j++)
				free(v[j]);
			free(v);
			return NULL;
		}
	return v;
}

static void free_worker(struct worker *w)
{
	for (size_t i = 0; w->argv && w->argv[i]; i++)
		free(w->argv[i]);
	free(w->argv);
	free(w->stderr_path);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

int worker_start(const char *vmm, const char *const *argv, const char *stderr_path,
		 const struct worker_hooks *hooks, struct worker **out, char *err, size_t errlen)
{
	struct worker *w = calloc(1, sizeof *w);
	if (!w || !(w->argv = build_argv(vmm, argv)) || !(w->stderr_path = strdup(stderr_path))) {
		snprintf(err, errlen, "starting a worker: out of memory or too many arguments");
		if (w)
			free_worker(w);
		return -1;
	}
	w->hooks = *hooks;
	w->fd = -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	int rc = pthread_create(&w->thread, NULL, worker_thread, w);
	if (rc) {
		snprintf(err, errlen, "worker thread: %s", strerror(rc));
		free_worker(w);
		return -1;
	}
	pthread_mutex_lock(&w->mu);
	while (w->phase == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	int phase = w->phase;
	pthread_mutex_unlock(&w->mu);
	if (phase < 0) {
		snprintf(err, errlen, "starting %s: %s", vmm, w->err);
		pthread_join(w->thread, NULL);
		free_worker(w);
		return -1;
	}
	*out = w;
	return 0;
}

pid_t worker_pid(const struct worker *w)
{
	return w->pid;
}

int worker_stop(struct worker *w)
{
	struct worker_msg m = { .type = WORKER_STOP };
	pthread_mutex_lock(&w->mu);
	int rc = w->phase == 1 && w->fd >= 0 &&
		 send(w->fd, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof m ? 0 : -1;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* One packet with up to two fds (SCM_RIGHTS; -1: none). */
static int send_request(int fd, uint32_t type, int32_t value, const int *fds, int nfds)
{
	struct worker_msg m = { .type = type, .value = value };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(3 * sizeof(int))];
	} ctl;
	memset(&ctl, 0, sizeof ctl);
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof m };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > 0) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof m ? 0 : -1;
}

/* Waits (w->mu held) for the answer or the worker's end. */
static int wait_answer(struct worker *w, const struct timespec *until, const char *what,
		       char *msg, size_t len)
{
	while (!w->req_answered && w->phase == 1)
		if (pthread_cond_timedwait(&w->cv, &w->mu, until) == ETIMEDOUT)
			break;
	if (w->req_answered) {
		snprintf(msg, len, "%s", w->req_msg);
		return w->req_rc == 0 ? 0 : -1;
	}
	snprintf(msg, len, w->phase == 1 ? "the VM did not answer its %s in time"
					 : "the VM ended during its %s", what);
	return -1;
}

/* Sends a request and waits for its answer (reply); see worker.h. */
static int worker_request(struct worker *w, uint32_t type, int32_t value, const int *fds,
			  int nfds, uint32_t reply, const char *what, int timeout_ms, char *msg,
			  size_t len)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000 + 1;
	pthread_mutex_lock(&w->mu);
	int rc = -1;
	if (w->req_busy)
		snprintf(msg, len, "another request to this VM (%s) is in progress", what);
	else if (w->phase != 1 || w->fd < 0 || send_request(w->fd, type, value, fds, nfds) < 0)
		snprintf(msg, len, "the VM is not running");
	else {
		w->req_busy = true;
		w->req_answered = false;
		w->req_reply = reply;
		rc = wait_answer(w, &until, what, msg, len);
		w->req_busy = false;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int worker_snapshot(struct worker *w, int state_fd, int mem_fd, int disk_fd, int timeout_ms,
		    char *msg, size_t len)
{
	int fds[3] = { state_fd, mem_fd, disk_fd };
	return worker_request(w, WORKER_SNAPSHOT, 0, fds, disk_fd >= 0 ? 3 : 2,
			      WORKER_SNAPSHOT_DONE, "snapshot", timeout_ms, msg, len);
}

int worker_bind_fs(struct worker *w, int slot, int dirfd, bool readonly, int timeout_ms,
		   char *msg, size_t len)
{
	int32_t v = (slot & WORKER_FS_SLOT_MASK) | (readonly ? WORKER_FS_READONLY : 0);
	return worker_request(w, WORKER_FS_BIND, v, &dirfd, dirfd >= 0 ? 1 : 0,
			      WORKER_FS_BIND_DONE, "folder bind", timeout_ms, msg, len);
}

int worker_seal_fs(struct worker *w, int timeout_ms, char *msg, size_t len)
{
	return worker_request(w, WORKER_FS_SEAL, 0, NULL, 0, WORKER_FS_SEAL_DONE,
			      "shared folders' seal", timeout_ms, msg, len);
}

int worker_net_attach(struct worker *w, int sock_fd, int policy_fd, int timeout_ms, char *msg,
		      size_t len)
{
	int fds[2] = { sock_fd, policy_fd };
	return worker_request(w, WORKER_NET_ATTACH, 0, fds, 2, WORKER_NET_ATTACH_DONE,
			      "network attach", timeout_ms, msg, len);
}

void worker_kill(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	if (w->phase == 1 && !w->reaped)
		kill(w->pid, SIGKILL);   /* not reaped yet: the pid is still ours */
	pthread_mutex_unlock(&w->mu);
}

bool worker_wait(struct worker *w, int timeout_ms)
{
	struct timespec until = deadline_after_ms(timeout_ms);
	pthread_mutex_lock(&w->mu);
	while (w->phase == 1)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT)
			break;
	bool done = w->phase == 2;
	pthread_mutex_unlock(&w->mu);
	return done;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	if (pthread_equal(pthread_self(), w->thread)) {
		/* From on_exit (the VM's last reference went there): the
		 * thread finishes on its own and frees w. */
		pthread_mutex_lock(&w->mu);
		w->self_free = true;
		pthread_mutex_unlock(&w->mu);
		pthread_detach(w->thread);
		return;
	}
	pthread_join(w->thread, NULL);
	free_worker(w);
}

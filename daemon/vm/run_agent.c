/* run_agent.c - run mode's agent thread and signal forwarding (run_mode_int.h).
 *
 * The agent thread connects to the guest agent through the VM's hybrid
 * vsock socket, retrying in short slices so it notices a VM that died while
 * booting (as the daemon's boot_wait_agent does), runs the command with
 * agent_run_on(), then asks the agent to power the guest off and waits for
 * the VM to end, stopping it hard when it does not within
 * RUN_POWEROFF_WAIT_MS. (run_mode.c removed our private socket's
 * directory before the guest ran; r->sock reaches the socket anyway.)
 *
 * A blocking call of agent_client returns when the VM has gone because
 * run_mode.c frees the devices (closing the vsock connections) after it
 * sets vm_ended and before it joins this thread.
 */
#include "run_mode_int.h"

#include "agent_client.h"
#include "agent_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define AGENT_TRY_MS 2000       /* one connect attempt, then look at the VM again */
#define SHUTDOWN_ACK_MS 10000   /* the agent answers SHUTDOWN */
#define PING_MS 5000            /* is the connection alive after a failed exec? */

int64_t run_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool vm_ended(struct run *r)
{
	pthread_mutex_lock(&r->mu);
	bool e = r->vm_ended;
	pthread_mutex_unlock(&r->mu);
	return e;
}

/* Until vm_ended or ms pass; true if the VM ended. */
static bool wait_vm_end(struct run *r, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&r->mu);
	while (!r->vm_ended && pthread_cond_timedwait(&r->cv, &r->mu, &ts) != ETIMEDOUT)
		;
	bool e = r->vm_ended;
	pthread_mutex_unlock(&r->mu);
	return e;
}

static struct agent_client *wait_agent(struct run *r)
{
	int64_t deadline = r->t_start + (int64_t)(r->o->agent_timeout_sec * 1000);
	char why[512] = "no attempt";
	struct agent_client *c = NULL;
	while (!c && !vm_ended(r)) {
		int64_t left = deadline - run_now_ms();
		if (left <= 0)
			break;
		c = agent_client_connect(r->sock, SM_AGENT_PORT,
					 left < AGENT_TRY_MS ? (int)left : AGENT_TRY_MS, why, sizeof(why));
	}
	if (!c && vm_ended(r))
		snprintf(r->msg, sizeof(r->msg), "the VM ended before its agent answered (%s)", why);
	else if (!c)
		snprintf(r->msg, sizeof(r->msg), "the guest agent did not answer within %g s (%s)",
			 r->o->agent_timeout_sec, why);
	return c;
}

static void set_client(struct run *r, struct agent_client *c)
{
	pthread_mutex_lock(&r->mu);
	r->client = c;
	pthread_mutex_unlock(&r->mu);
}

/* Counters for --stats; main frees the devices only after setting vm_ended. */
static void take_counts(struct run *r, int i)
{
	pthread_mutex_lock(&r->mu);
	if (!r->vm_ended) {
		virtio_devices_counts(r->devs, &r->cnt[i]);
		vm_exit_stats(r->vm, r->exits[i]);
		r->counted = i == 1;
	}
	pthread_mutex_unlock(&r->mu);
}

/* CMD's status, or RUN_VM_ENDED / RUN_NO_EXEC with r->msg. */
static int exec_cmd(struct run *r, struct agent_client *c)
{
	int in = fcntl(0, F_GETFD) >= 0 ? 0 : -1;
	struct agent_run_opts ro = {
		.argv = (const char *const *)r->o->run_argv,
		.stdin_fd = in, .stdout_fd = 1, .stderr_fd = 2 };
	char err[512] = "";
	take_counts(r, 0);
	set_client(r, c);
	int st = agent_run_on(c, &ro, err, sizeof(err));
	set_client(r, NULL);
	r->t_done = run_now_ms();
	take_counts(r, 1);
	if (st >= 0)
		return st;
	/* the VM going away closes the connection: vm_ended is set before that */
	if (vm_ended(r) || agent_client_ping(c, PING_MS) < 0) {
		snprintf(r->msg, sizeof(r->msg), "the VM ended or the agent connection broke "
			 "before %s finished (%s)", r->o->run_argv[0], err);
		return RUN_VM_ENDED;
	}
	snprintf(r->msg, sizeof(r->msg), "cannot run %s in the guest: %s", r->o->run_argv[0],
		 err);
	return RUN_NO_EXEC;
}

static void power_off(struct run *r, struct agent_client *c)
{
	if (vm_ended(r))
		return;
	if (agent_client_shutdown(c, SM_SHUTDOWN_POWEROFF, SHUTDOWN_ACK_MS) < 0) {
		snprintf(r->msg, sizeof(r->msg), "the agent refused to power off (%s); stopped the VM",
			 agent_client_error(c));
		vm_request_stop(r->vm, VM_ERROR, r->msg);
	} else if (!wait_vm_end(r, RUN_POWEROFF_WAIT_MS)) {
		snprintf(r->msg, sizeof(r->msg), "the guest did not power off within %d s of "
			 "SHUTDOWN; stopped the VM", RUN_POWEROFF_WAIT_MS / 1000);
		vm_request_stop(r->vm, VM_ERROR, r->msg);
	}
}

void *run_agent_thread(void *arg)
{
	struct run *r = arg;
	struct agent_client *c = wait_agent(r);
	if (!c) {
		r->status = RUN_NO_AGENT;
		vm_request_stop(r->vm, VM_ERROR, r->msg);
		return NULL;
	}
	r->t_agent = run_now_ms();
	r->status = exec_cmd(r, c);
	if (r->status == RUN_VM_ENDED)
		vm_request_stop(r->vm, VM_ERROR, r->msg);
	else
		power_off(r, c);
	agent_client_close(c);
	return NULL;
}

/* ---- signal forwarding ---- */

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static struct {
	int sigfd, quitfd;
	pthread_t thread;
	bool started;
	struct run *r;
} sigs = { -1, -1, .started = false };

static void forward(struct run *r, int signo)
{
	pthread_mutex_lock(&r->mu);
	if (r->client) {
		agent_client_signal(r->client, (uint32_t)signo | SM_SIGNAL_GROUP);
	} else if (!r->vm_ended && !r->interrupted) {
		r->interrupted = signo;
		vm_request_stop(r->vm, VM_ERROR, "interrupted by a signal");
	}
	pthread_mutex_unlock(&r->mu);
}

static void *signal_thread(void *arg)
{
	(void)arg;
	struct pollfd pf[2] = { { .fd = sigs.sigfd, .events = POLLIN },
				{ .fd = sigs.quitfd, .events = POLLIN } };
	for (;;) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (pf[1].revents)
			return NULL;
		struct signalfd_siginfo si;
		if (read(sigs.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			forward(sigs.r, (int)si.ssi_signo);
	}
}

int run_signals_start(struct run *r, struct vm_err *err)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigs.r = r;
	sigs.sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	sigs.quitfd = eventfd(0, EFD_CLOEXEC);
	if (sigs.sigfd < 0 || sigs.quitfd < 0) {
		vm_errno(err, "signal forwarding");
		run_signals_stop();
		return -1;
	}
	int e = pthread_create(&sigs.thread, NULL, signal_thread, NULL);
	if (e) {
		errno = e;
		vm_errno(err, "signal forwarding thread");
		run_signals_stop();
		return -1;
	}
	sigs.started = true;
	return 0;
}

void run_signals_stop(void)
{
	if (sigs.started) {
		uint64_t one = 1;
		if (write(sigs.quitfd, &one, sizeof(one)) == (ssize_t)sizeof(one))
			pthread_join(sigs.thread, NULL);
		sigs.started = false;
	}
	if (sigs.sigfd >= 0)
		close(sigs.sigfd);
	if (sigs.quitfd >= 0)
		close(sigs.quitfd);
	sigs.sigfd = sigs.quitfd = -1;
	sigs.r = NULL;
}

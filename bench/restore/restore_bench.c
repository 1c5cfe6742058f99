/* restore_bench.c - sm-restore-bench: the VM half of bench/restore
 * (bench/restore/run-restore-bench drives it).
 *
 *   sm-restore-bench time [--control] [--sync] [--log FILE] TARGET -- CMD ARGS...
 *       Starts CMD (a VMM) and times, from just before the fork, the first
 *       byte of `echo hi` run through the guest agent. Prints one line:
 *         times ready_us=R hello_us=H sync_us=S echo_us=E
 *       R: the VMM's READY on its control channel (--control: a socketpair
 *          whose end CMD gets as `--control-fd N`; the VM is built, jailed,
 *          and its vCPUs are starting), -1 without --control;
 *       H: the agent answered HELLO; S: it answered SYNC (--sync: fresh
 *          entropy, the host's clock and a hostname, what a restored VM
 *          gets first), -1 without --sync; E: the first byte of `echo hi`'s
 *          output reached us.
 *       Then stops the VM (STOP on the control channel, else SIGTERM) and
 *       waits for CMD to exit.
 *   sm-restore-bench snapshot [--log FILE] TARGET DIR -- CMD ARGS...
 *       Boots CMD (our VMM) with a control channel, waits for the agent's
 *       HELLO (and closes that connection) or for the console's first '~',
 *       and has the VMM save the running VM
 *       into DIR/vm.state and DIR/vm.mem (SNAPSHOT), then stops it.
 *   sm-restore-bench ready [--sync] TARGET
 *       Waits for the agent of a running VM (HELLO, and SYNC with --sync),
 *       then closes the connection; prints `ready_ms=N`.
 *   sm-restore-bench exec-time -- CMD ARGS...
 *       Prints `exec_us=N`: fork, exec and exit of CMD (output to
 *       /dev/null), e.g. `supermachine-vmm --help` for a process's start.
 *
 * TARGET is hybrid:PATH (our VMM's vsock Unix socket, "CONNECT 1024") or
 * vsock:CID (AF_VSOCK, e.g. QEMU's vhost-vsock). Connection attempts are
 * retried every millisecond, the same way for every VMM, so the polling
 * adds at most about a millisecond to any figure.
 * TARGET `console` is a guest without an agent whose init (ticker.c)
 * writes '~' to its console every 10 ms: CMD's stdout (the guest's
 * console: our --console, QEMU's -serial stdio) comes to us through a
 * pipe, and the first '~' on it stands for the agent. `time` then prints
 *         times ready_us=R console_us=C
 * and `snapshot` saves once the first '~' came.
 * A run that cannot be timed exits 1 with the reason on stderr.
 */
#include "agent_client.h"
#include "daemon/vm/worker_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define CONNECT_TIMEOUT_MS 900000 /* cold boots in the emulated host are slow */
#define STEP_TIMEOUT_MS 120000

static pid_t child = -1;
static int console_fd = -1; /* CMD's stdout, for the `console` target */

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "sm-restore-bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	exit(1);
}

/* ---- the control channel: a reader thread keeps each message's time ---- */

#define MAX_MSGS 16

static struct {
	int fd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct worker_msg msg[MAX_MSGS];
	int64_t at[MAX_MSGS];
	int n;
	bool eof;
} ctl = { .fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *ctl_reader(void *arg)
{
	(void)arg;
	for (;;) {
		struct worker_msg m;
		ssize_t n = recv(ctl.fd, &m, sizeof(m), 0);
		if (n < 0 && errno == EINTR)
			continue;
		int64_t t = now_us();
		pthread_mutex_lock(&ctl.mu);
		if (n != (ssize_t)sizeof(m))
			ctl.eof = true;
		else if (ctl.n < MAX_MSGS) {
			m.text[sizeof(m.text) - 1] = 0;
			ctl.msg[ctl.n] = m;
			ctl.at[ctl.n++] = t;
		}
		pthread_cond_broadcast(&ctl.cv);
		pthread_mutex_unlock(&ctl.mu);
		if (n != (ssize_t)sizeof(m))
			return NULL;
	}
}

/* The first message of type after index *from (updated), waiting up to
 * timeout_ms; its time in *at. Dies on EOF, EXITED or timeout. */
static struct worker_msg ctl_wait(uint32_t type, int *from, int timeout_ms, int64_t *at)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	pthread_mutex_lock(&ctl.mu);
	for (;;) {
		for (; *from < ctl.n; (*from)++) {
			struct worker_msg m = ctl.msg[*from];
			if (m.type == type) {
				if (at)
					*at = ctl.at[*from];
				(*from)++;
				pthread_mutex_unlock(&ctl.mu);
				return m;
			}
			if (m.type == WORKER_EXITED || m.type == WORKER_FORBIDDEN) {
				pthread_mutex_unlock(&ctl.mu);
				die("the VMM ended (message %u, value %d): %s", m.type, m.value, m.text);
			}
		}
		if (ctl.eof) {
			pthread_mutex_unlock(&ctl.mu);
			die("the VMM closed its control channel");
		}
		if (pthread_cond_timedwait(&ctl.cv, &ctl.mu, &dl) == ETIMEDOUT) {
			pthread_mutex_unlock(&ctl.mu);
			die("no message %u from the VMM within %d ms", type, timeout_ms);
		}
	}
}

static void ctl_send(uint32_t type, const int *fds, int nfds)
{
	struct worker_msg m = { .type = type };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} cb;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		memset(&cb, 0, sizeof(cb));
		mh.msg_control = cb.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	if (sendmsg(ctl.fd, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(m))
		die("control channel: send: %s", strerror(errno));
}

/* ---- the VMM process ---- */

/* Forks CMD with stdin /dev/null and stdout/stderr to log (or ours); with
 * control, a socketpair end is passed as `--control-fd N` (appended); with
 * console, its stdout is a pipe to console_fd. */
static void spawn(char **cmd, int ncmd, const char *log, bool control, bool console)
{
	int sp[2] = { -1, -1 }, cp[2] = { -1, -1 };
	char fdarg[16];
	char **argv = calloc((size_t)ncmd + 3, sizeof(*argv));
	if (!argv)
		die("out of memory");
	memcpy(argv, cmd, (size_t)ncmd * sizeof(*argv));
	if (control) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp))
			die("socketpair: %s", strerror(errno));
		snprintf(fdarg, sizeof(fdarg), "%d", sp[1]);
		argv[ncmd] = "--control-fd";
		argv[ncmd + 1] = fdarg;
	}
	int lfd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
	if (log && lfd < 0)
		die("%s: %s", log, strerror(errno));
	if (console && pipe2(cp, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		if (lfd >= 0) {
			dup2(lfd, 1);
			dup2(lfd, 2);
		}
		if (cp[1] >= 0)
			dup2(cp[1], 1);
		if (sp[1] >= 0)
			fcntl(sp[1], F_SETFD, 0); /* CMD keeps it */
		execvp(argv[0], argv);
		fprintf(stderr, "sm-restore-bench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (lfd >= 0)
		close(lfd);
	if (console) {
		close(cp[1]);
		console_fd = cp[0];
	}
	free(argv);
	if (control) {
		close(sp[1]);
		ctl.fd = sp[0];
		pthread_t t;
		if (pthread_create(&t, NULL, ctl_reader, NULL))
			die("pthread_create failed");
		pthread_detach(t);
	}
}

static void child_alive(void)
{
	int st;
	if (child > 0 && waitpid(child, &st, WNOHANG) == child) {
		child = -1;
		die("the VMM exited (status %d) before its agent answered",
		    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
}

/* Stops the VM: STOP on the control channel, else SIGTERM; SIGKILL after
 * 60 s. */
static void stop_child(void)
{
	if (ctl.fd >= 0)
		ctl_send(WORKER_STOP, NULL, 0);
	else
		kill(child, SIGTERM);
	if (console_fd >= 0) /* keep the console flowing while it stops */
		fcntl(console_fd, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 60000; i++) {
		if (waitpid(child, NULL, WNOHANG) == child) {
			child = -1;
			return;
		}
		char buf[4096];
		while (console_fd >= 0 && read(console_fd, buf, sizeof(buf)) > 0)
			;
		usleep(1000);
	}
	die("the VMM did not stop within 60 s");
}

/* ---- the agent ---- */

/* One attempt at the raw connection; -1 to retry. */
static int try_connect(const char *target)
{
	int fd;
	if (!strncmp(target, "vsock:", 6)) {
		struct sockaddr_vm sv = { .svm_family = AF_VSOCK,
					  .svm_cid = (unsigned)atoi(target + 6),
					  .svm_port = SM_AGENT_PORT };
		fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("AF_VSOCK socket: %s", strerror(errno));
		/* A request sent while the guest cannot take it yet waits for
		 * the kernel's connect timeout (2 s): keep that short. */
		struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
		setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&sv, sizeof(sv)) == 0)
			return fd;
		close(fd);
		return -1;
	}
	if (strncmp(target, "hybrid:", 7))
		die("TARGET: want hybrid:PATH or vsock:CID, not %s", target);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", target + 7);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	char line[32];
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", SM_AGENT_PORT);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || write(fd, line, (size_t)n) != n)
		goto fail;
	/* "OK <port>\n", read a byte at a time: no frame bytes eaten. */
	for (size_t i = 0; i + 1 < sizeof(line); i++) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, STEP_TIMEOUT_MS) != 1 || read(fd, line + i, 1) != 1)
			goto fail;
		if (line[i] == '\n') {
			line[i + 1] = 0;
			if (strncmp(line, "OK ", 3))
				goto fail;
			return fd;
		}
	}
fail:
	close(fd);
	return -1;
}

/* Connects and does the HELLO handshake, retrying every millisecond. */
static struct agent_client *agent_wait(const char *target)
{
	int64_t deadline = now_us() + (int64_t)CONNECT_TIMEOUT_MS * 1000;
	char err[512] = "no attempt";
	for (;;) {
		int fd = try_connect(target);
		if (fd >= 0) {
			struct agent_client *c = agent_client_attach(fd, STEP_TIMEOUT_MS, err,
								     sizeof(err));
			if (c)
				return c;
		}
		child_alive();
		if (now_us() > deadline)
			die("agent at %s not reachable within %d ms (last: %s)", target,
			    CONNECT_TIMEOUT_MS, err);
		usleep(1000);
	}
}

/* Reads CMD's console until the ticker's '~'; returns when it came. */
static int64_t console_wait(void)
{
	char buf[4096];
	for (;;) {
		struct pollfd pf = { .fd = console_fd, .events = POLLIN };
		int n = poll(&pf, 1, CONNECT_TIMEOUT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("no '~' on the guest's console within %d ms", CONNECT_TIMEOUT_MS);
		ssize_t k = read(console_fd, buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			child_alive();
			die("the guest's console closed before its first '~'");
		}
		if (memchr(buf, '~', (size_t)k))
			return now_us();
	}
}

static bool is_console(const char *target)
{
	return !strcmp(target, "console");
}

static void do_sync(struct agent_client *c)
{
	if (agent_client_sync(c, "restored", STEP_TIMEOUT_MS) < 0)
		die("SYNC: %s", agent_client_error(c));
}

struct echo_out {
	int64_t first;
	char buf[16];
	size_t n;
};

static void on_out(void *o, const void *p, size_t n)
{
	struct echo_out *e = o;
	if (!e->first)
		e->first = now_us();
	size_t k = n < sizeof(e->buf) - 1 - e->n ? n : sizeof(e->buf) - 1 - e->n;
	memcpy(e->buf + e->n, p, k);
	e->n += k;
}

static void on_err(void *o, const void *p, size_t n)
{
	(void)o;
	fwrite(p, 1, n, stderr);
}

/* Runs `echo hi`; returns the time its first output byte arrived. */
static int64_t echo_hi(struct agent_client *c)
{
	static const char *const argv[] = { "echo", "hi", NULL };
	static const char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	struct agent_exec_spec spec = { .argv = argv, .env = env, .stdin_fd = -1 };
	struct echo_out e = { 0 };
	struct agent_exec_io io = { .on_stdout = on_out, .on_stderr = on_err, .opaque = &e };
	struct agent_exec_result res;
	if (agent_client_exec(c, &spec, &io, &res) < 0)
		die("echo hi: %s", agent_client_error(c));
	if (res.exit_code != 0 || strcmp(e.buf, "hi\n"))
		die("echo hi: exit %d, output '%s'", res.exit_code, e.buf);
	return e.first;
}

/* ---- subcommands ---- */

struct args {
	bool control, sync;
	const char *log, *target, *dir;
	char **cmd;
	int ncmd;
};

static void parse(int argc, char **argv, struct args *a, int positional)
{
	int i = 2;
	memset(a, 0, sizeof(*a));
	for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--control"))
			a->control = true;
		else if (!strcmp(argv[i], "--sync"))
			a->sync = true;
		else if (!strcmp(argv[i], "--log") && i + 1 < argc)
			a->log = argv[++i];
		else
			die("unknown option %s", argv[i]);
	}
	if (i >= argc)
		die("no TARGET");
	a->target = argv[i++];
	if (positional > 1) {
		if (i >= argc)
			die("no DIR");
		a->dir = argv[i++];
	}
	if (i < argc && !strcmp(argv[i], "--")) {
		a->cmd = argv + i + 1;
		a->ncmd = argc - i - 1;
	} else if (i < argc) {
		die("unexpected %s", argv[i]);
	}
}

static int cmd_time(struct args *a)
{
	if (!a->ncmd)
		die("time: no CMD");
	int64_t t0 = now_us(), ready = -1, sync = -1;
	spawn(a->cmd, a->ncmd, a->log, a->control, is_console(a->target));
	if (is_console(a->target)) {
		int64_t mark = console_wait() - t0;
		if (a->control) {
			int from = 0;
			ctl_wait(WORKER_READY, &from, STEP_TIMEOUT_MS, &ready);
			ready -= t0;
		}
		stop_child();
		printf("times ready_us=%lld console_us=%lld\n", (long long)ready, (long long)mark);
		return 0;
	}
	struct agent_client *c = agent_wait(a->target);
	int64_t hello = now_us();
	if (a->sync) {
		do_sync(c);
		sync = now_us() - t0;
	}
	int64_t echo = echo_hi(c) - t0;
	agent_client_close(c);
	if (a->control) {
		int from = 0;
		ctl_wait(WORKER_READY, &from, STEP_TIMEOUT_MS, &ready);
		ready -= t0;
	}
	stop_child();
	printf("times ready_us=%lld hello_us=%lld sync_us=%lld echo_us=%lld\n", (long long)ready,
	       (long long)(hello - t0), (long long)sync, (long long)echo);
	return 0;
}

static int open_new(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	return fd;
}

static int cmd_snapshot(struct args *a)
{
	if (!a->ncmd)
		die("snapshot: no CMD");
	spawn(a->cmd, a->ncmd, a->log, true, is_console(a->target));
	if (is_console(a->target)) {
		console_wait();
	} else {
		struct agent_client *c = agent_wait(a->target);
		agent_client_close(c);
	}
	int from = 0;
	ctl_wait(WORKER_READY, &from, STEP_TIMEOUT_MS, NULL);
	int fds[2] = { open_new(a->dir, "vm.state"), open_new(a->dir, "vm.mem") };
	int64_t t0 = now_us();
	ctl_send(WORKER_SNAPSHOT, fds, 2);
	close(fds[0]);
	close(fds[1]);
	struct worker_msg m = ctl_wait(WORKER_SNAPSHOT_DONE, &from, 600000, NULL);
	if (m.value != 0)
		die("SNAPSHOT failed: %s", m.text);
	printf("snapshot saved in %.1f ms: %s\n", (now_us() - t0) / 1000.0, m.text);
	stop_child();
	return 0;
}

static int cmd_ready(struct args *a)
{
	if (a->ncmd || is_console(a->target))
		die("ready: wants an agent's TARGET and no CMD");
	int64_t t0 = now_us();
	struct agent_client *c = agent_wait(a->target);
	if (a->sync)
		do_sync(c);
	agent_client_close(c);
	printf("ready_ms=%.1f\n", (now_us() - t0) / 1000.0);
	return 0;
}

static int cmd_exec_time(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[2], "--"))
		die("exec-time: want -- CMD");
	int64_t t0 = now_us();
	spawn(argv + 3, argc - 3, "/dev/null", false, false);
	int st;
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("exec-time: %s failed", argv[3]);
	printf("exec_us=%lld\n", (long long)(now_us() - t0));
	return 0;
}

int main(int argc, char **argv)
{
	struct args a;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "time")) {
		parse(argc, argv, &a, 1);
		return cmd_time(&a);
	}
	if (argc >= 2 && !strcmp(argv[1], "snapshot")) {
		parse(argc, argv, &a, 2);
		return cmd_snapshot(&a);
	}
	if (argc >= 2 && !strcmp(argv[1], "ready")) {
		parse(argc, argv, &a, 1);
		return cmd_ready(&a);
	}
	if (argc >= 2 && !strcmp(argv[1], "exec-time"))
		return cmd_exec_time(argc, argv);
	fprintf(stderr, "usage: sm-restore-bench time [--control] [--sync] [--log FILE] TARGET -- CMD...\n"
			"       sm-restore-bench snapshot [--log FILE] TARGET DIR -- CMD...\n"
			"       sm-restore-bench ready [--sync] TARGET\n"
			"       sm-restore-bench exec-time -- CMD...\n");
	return 2;
}

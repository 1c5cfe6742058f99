/* agent.c - the guest agent's event loop: listener, fd watches, reaping.
 *
 * One thread, one epoll set (level-triggered). SIGCHLD is taken through a
 * signalfd and every child is reaped with waitpid(-1): the agent may be
 * PID 1, so orphans of exec'ed programs end up here too and are reaped and
 * ignored. Connections, processes and file operations live in
 * agent_conn.c, agent_exec.c and agent_file.c. Every AGENT_STALL_CHECK_MS
 * the loop also looks for connections whose output stopped moving and logs
 * them on the console (conn_check_stall): a host that stopped reading, or
 * a vsock that stopped giving credit, is then visible in the guest's log.
 */
#include "agent_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A watch with no events is kept out of the epoll set entirely, so a
 * paused pipe whose writer is gone cannot report EPOLLHUP in a loop. */
int agent_watch(struct agent *a, struct watch *w, int fd, uint32_t events, watch_fn fn)
{
	w->fn = fn;
	w->fd = fd;
	w->events = 0;
	if (!events)
		return 0;
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -1;
	w->events = events;
	return 0;
}

void agent_watch_set(struct agent *a, struct watch *w, uint32_t events)
{
	if (w->fd < 0 || w->events == events)
		return;
	struct epoll_event ev = { .events = events, .data.ptr = w };
	int op = !events ? EPOLL_CTL_DEL : !w->events ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(a->epfd, op, w->fd, &ev) == 0)
		w->events = events;
}

void agent_unwatch(struct agent *a, struct watch *w)
{
	if (w->fd < 0)
		return;
	if (w->events)
		epoll_ctl(a->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	close(w->fd);
	w->fd = -1;
	w->events = 0;
}

static void on_listener(struct agent *a, struct watch *w, uint32_t events)
{
	int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			fprintf(stderr, "agent: accept: %s\n", strerror(errno));
		return;
	}
	struct conn *c = conn_new(a, fd);
	if (!c) {
		fprintf(stderr, "agent: no memory for a connection\n");
		close(fd);
	}
}

static void on_sigchld(struct agent *a, struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;
	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			break;
		exec_reaped(a, pid, status);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int setup(struct agent *a, int listen_fd)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL)) {
		perror("agent: sigprocmask");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->epfd < 0 || sfd < 0) {
		perror("agent: epoll/signalfd");
		return -1;
	}
	if (agent_watch(a, &a->sigchld, sfd, EPOLLIN, on_sigchld) ||
	    agent_watch(a, &a->listener, listen_fd, EPOLLIN, on_listener)) {
		perror("agent: epoll_ctl");
		return -1;
	}
	return 0;
}

static void teardown(struct agent *a)
{
	while (a->conns)
		conn_free(a->conns);
	agent_unwatch(a, &a->listener);
	agent_unwatch(a, &a->sigchld);
	close(a->epfd);
}

int agent_serve(int listen_fd, const struct agent_hooks *hooks)
{
	struct agent a = { .epfd = -1, .hooks = hooks };
	a.listener.fd = a.sigchld.fd = -1;
	if (setup(&a, listen_fd)) {
		if (a.listener.fd < 0)
			close(listen_fd);
		teardown(&a);
		return -1;
	}
	int64_t next_check = now_ms() + AGENT_STALL_CHECK_MS;
	while (!a.stop) {
		/* One event per wait: a callback may free other watches,
		 * so no event of an older batch is ever used stale. */
		struct epoll_event ev[1];
		int64_t wait = next_check - now_ms();
		int n = epoll_wait(a.epfd, ev, 1, wait > 0 ? (int)wait : 0);
		int64_t now = now_ms();
		if (now >= next_check) {
			for (struct conn *c = a.conns; c; c = c->next)
				conn_check_stall(c);
			next_check = now + AGENT_STALL_CHECK_MS;
		}
		if (n < 0 && errno != EINTR) {
			perror("agent: epoll_wait");
			teardown(&a);
			return -1;
		}
		if (n > 0) {
			struct watch *w = ev[0].data.ptr;
			w->fn(&a, w, ev[0].events);
		}
	}
	teardown(&a);
	return 0;
}

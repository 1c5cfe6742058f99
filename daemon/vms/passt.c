/* passt.c - start, check and stop one VM's passt (see passt.h). */
#include "common/clock/deadline.h"
#include "daemon/vms/passt.h"
#include "daemon/vms/spawn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PASST_FD 3 /* the link's fd number in passt (spawn.h's fd 3) */

struct argv_builder {
	const char **argv;
	int n;
	char *store;
	size_t used, size;
	bool full;
};

/* Append a printf-formatted word. */
__attribute__((format(printf, 2, 3)))
static void word(struct argv_builder *b, const char *fmt, ...)
{
	va_list ap;
	if (b->full || b->n >= PASST_ARGV_MAX - 1) {
		b->full = true;
		return;
	}
	va_start(ap, fmt);
	int len = vsnprintf(b->store + b->used, b->size - b->used, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= b->size - b->used) {
		b->full = true;
		return;
	}
	b->argv[b->n++] = b->store + b->used;
	b->used += (size_t)len + 1;
}

static void port_words(struct argv_builder *b, const struct passt_port *p)
{
	word(b, "%s", p->udp ? "-u" : "-t");
	if (p->host_ip[0])
		word(b, "%s/%u:%u", p->host_ip, p->host_port, p->guest_port);
	else
		word(b, "%u:%u", p->host_port, p->guest_port);
}

int passt_argv(const struct passt_cfg *c, int fd, const char **argv, char *store,
	       size_t store_size, char *err, size_t errlen)
{
	struct argv_builder b = { .argv = argv, .store = store, .size = store_size };
	word(&b, "%s", c->bin ? c->bin : "passt");
	/* foreground, quiet, one client (the VMM) then exit, its log file */
	word(&b, "-f"); word(&b, "-q"); word(&b, "-1");
	word(&b, "-l"); word(&b, "%s", c->log_path);
	word(&b, "--fd"); word(&b, "%d", fd);
	if (c->ifname) { word(&b, "-i"); word(&b, "%s", c->ifname); }
	if (c->addr4[0]) { word(&b, "-a"); word(&b, "%s", c->addr4); }
	if (c->addr4[0] && c->prefix4) { word(&b, "-n"); word(&b, "%u", c->prefix4); }
	if (c->gw4[0]) { word(&b, "-g"); word(&b, "%s", c->gw4); }
	if (c->mtu) { word(&b, "-m"); word(&b, "%u", c->mtu); }
	for (int i = 0; i < c->ndns; i++) { word(&b, "-D"); word(&b, "%s", c->dns[i]); }
	if (c->dns_forward[0]) { word(&b, "--dns-forward"); word(&b, "%s", c->dns_forward); }
	if (c->no_map_gw)
		word(&b, "--no-map-gw");
	for (int i = 0; i < c->nports; i++) {
		if (!c->ports[i].host_port || !c->ports[i].guest_port) {
			snprintf(err, errlen, "published port %d: a port is 0", i + 1);
			return -1;
		}
		port_words(&b, &c->ports[i]);
	}
	if (b.full) {
		snprintf(err, errlen, "passt's command line does not fit");
		return -1;
	}
	argv[b.n] = NULL;
	return 0;
}

/* Bind host_ip:port of the port's protocol and release it: 0 or errno. */
static int try_bind(const struct passt_port *p)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	const char *ip = p->host_ip[0] ? p->host_ip : "0.0.0.0";
	if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(p->host_port);
		len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p->host_port);
		len = sizeof(*in6);
	} else {
		return EINVAL;
	}
	int fd = socket(ss.ss_family, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int one = 1, e = 0;
	if (!p->udp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		e = errno;
	close(fd);
	return e;
}

int passt_ports_free(const struct passt_cfg *c, char *err, size_t errlen)
{
	for (int i = 0; i < c->nports; i++) {
		const struct passt_port *p = &c->ports[i];
		int e = try_bind(p);
		if (!e)
			continue;
		snprintf(err, errlen, "host port %u/%s on %s %s", p->host_port, p->udp ? "udp" : "tcp",
			 p->host_ip[0] ? p->host_ip : "all addresses",
			 e == EADDRINUSE ? "is in use" : e == EINVAL ? "is not an address" : strerror(e));
		return -1;
	}
	return 0;
}

/* The supervising thread: forks passt, says so, waits for its end. */
static void *supervise(void *arg)
{
	struct passt *p = arg;
	const char *argv[PASST_ARGV_MAX];
	char store[4096], why[200];
	int fd = -1;
	pid_t pid = -1;
	if (passt_argv(p->cfg, PASST_FD, argv, store, sizeof(store), p->err, sizeof(p->err)) == 0) {
		pid = spawn_with_socket((char *const *)argv, true, p->cfg->log_path, SOCK_STREAM, &fd,
					why, sizeof(why));
		if (pid < 0)
			snprintf(p->err, sizeof(p->err), "passt: %s", why);
	}
	pthread_mutex_lock(&p->mu);
	p->pid = pid > 0 ? pid : 0;
	p->vmm_fd = fd;
	p->phase = pid > 0 ? 1 : 2;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (pid <= 0)
		return NULL;
	/* Wait without reaping, so while phase is 1 under mu the pid is still
	 * passt's (a zombie at worst) and passt_stop may signal it. */
	siginfo_t si;
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	int st = 0;
	pthread_mutex_lock(&p->mu);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	p->phase = 2;
	p->wait_status = st;
	bool stopped = p->stopping;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->on_exit)
		p->on_exit(p->ud, stopped, st);
	return NULL;
}

int passt_start(const struct passt_cfg *c, struct passt *p, char *err, size_t errlen)
{
	p->pid = 0;
	p->vmm_fd = -1;
	p->started = p->stopping = false;
	p->phase = 0;
	p->wait_status = 0;
	p->cfg = c;
	p->err[0] = 0;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	int e = pthread_create(&p->thread, NULL, supervise, p);
	if (e) {
		snprintf(err, errlen, "passt: a thread to run it: %s", strerror(e));
		goto fail;
	}
	pthread_mutex_lock(&p->mu);
	while (p->phase == 0)
		pthread_cond_wait(&p->cv, &p->mu);
	bool running = p->pid > 0;
	pthread_mutex_unlock(&p->mu);
	p->cfg = NULL;
	if (running) {
		p->started = true;
		return 0;
	}
	pthread_join(p->thread, NULL);
	snprintf(err, errlen, "%s", p->err);
fail:
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	return -1;
}

/* Waits (p->mu held) up to ms for passt's end; true if it ended. */
static bool wait_end_locked(struct passt *p, int ms)
{
	struct timespec until = deadline_after_ms(ms);
	while (p->phase != 2)
		if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT)
			break;
	return p->phase == 2;
}

bool passt_ended(struct passt *p, int wait_ms, int *wait_status)
{
	pthread_mutex_lock(&p->mu);
	bool ended = wait_ms > 0 ? wait_end_locked(p, wait_ms) : p->phase == 2;
	if (ended && wait_status)
		*wait_status = p->wait_status;
	pthread_mutex_unlock(&p->mu);
	return ended;
}

void passt_stop(struct passt *p)
{
	if (p->vmm_fd >= 0)
		close(p->vmm_fd);
	p->vmm_fd = -1;
	if (!p->started)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	if (p->phase != 2) {
		kill(p->pid, SIGTERM);
		if (!wait_end_locked(p, 1000)) {
			kill(p->pid, SIGKILL); /* not reaped yet: the pid is still passt's */
			wait_end_locked(p, 60000);
		}
	}
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	p->started = false;
	p->pid = 0;
}

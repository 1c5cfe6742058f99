/* passt.c - start, check and stop one VM's passt (see passt.h). */
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

int passt_start(const struct passt_cfg *c, struct passt *p, char *err, size_t errlen)
{
	const char *argv[PASST_ARGV_MAX];
	char store[4096], why[256];
	p->pid = 0;
	p->vmm_fd = -1;
	if (passt_argv(c, PASST_FD, argv, store, sizeof(store), err, errlen) < 0)
		return -1;
	pid_t pid = spawn_with_socket((char *const *)argv, true, c->log_path, SOCK_STREAM,
				      &p->vmm_fd, why, sizeof(why));
	if (pid < 0) {
		snprintf(err, errlen, "passt: %s", why);
		return -1;
	}
	p->pid = pid;
	return 0;
}

void passt_stop(struct passt *p)
{
	if (p->vmm_fd >= 0)
		close(p->vmm_fd);
	p->vmm_fd = -1;
	if (p->pid <= 0)
		return;
	kill(p->pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
			p->pid = 0;
			return;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	p->pid = 0;
}

/* vsock_host.c - the host side of hybrid vsock: Unix sockets.
 *
 * The VM's socket (uds_path) accepts host clients that first send one line,
 * "CONNECT <port>\n"; only that line is consumed (peeked, then read up to
 * the newline), so stream bytes a client sends early are not lost. Guest
 * connections to host port P go to "<uds_path>_P". All sockets are
 * non-blocking; the device thread never waits on a host peer.
 */
#include "daemon/vm/virtio/vsock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fill_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a->sun_path, path);
	return 0;
}

int vsock_host_listen(const char *path, struct vm_err *err)
{
	struct sockaddr_un a;
	struct stat st;

	if (fill_addr(&a, path) < 0)
		return vm_errno(err, "vsock socket %s", path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path); /* a stale socket from an earlier run */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vm_errno(err, "vsock socket");
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0) {
		vm_errno(err, "vsock socket %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* "CONNECT <decimal port>" with nothing else; 0 or -1. */
static int parse_connect(const char *line, uint32_t *port)
{
	if (strncmp(line, "CONNECT ", 8) != 0 || line[8] < '0' || line[8] > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long v = strtoul(line + 8, &end, 10);
	if (errno || v > UINT32_MAX || (*end != 0 && strcmp(end, "\r") != 0))
		return -1;
	*port = (uint32_t)v;
	return 0;
}

int vsock_host_read_line(struct vsock_conn *c, uint32_t *port)
{
	char peek[VSOCK_LINE_MAX];
	size_t room = VSOCK_LINE_MAX - 1 - c->line_len;
	ssize_t n = recv(c->fd, peek, room, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1; /* closed before the line was complete */
	char *nl = memchr(peek, '\n', n);
	size_t take = nl ? (size_t)(nl - peek) + 1 : (size_t)n;
	if (recv(c->fd, c->line + c->line_len, take, MSG_DONTWAIT) != (ssize_t)take)
		return -1;
	c->line_len += take;
	if (!nl)
		return c->line_len >= VSOCK_LINE_MAX - 1 ? -1 : 0;
	c->line[c->line_len - 1] = 0; /* drop the newline */
	return parse_connect(c->line, port) < 0 ? -1 : 1;
}

int vsock_host_connect(const char *uds_path, uint32_t port)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	struct sockaddr_un a;

	snprintf(path, sizeof(path), "%s_%u", uds_path, port);
	if (fill_addr(&a, path) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd); /* no listener, refused, or its backlog is full */
		return -1;
	}
	return fd;
}

int vsock_host_send_ok(int fd, uint32_t port)
{
	char msg[32];
	int len = snprintf(msg, sizeof(msg), "OK %u\n", port);
	ssize_t n = send(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return n == len ? 0 : -1;
}

/* vsock_echo.c - stream echo peers for the vsock VM test, guest and host side.
 *
 *   vsock_echo serve-unix PATH            host: echo one connection on a Unix socket
 *   vsock_echo serve-vsock PORT           guest: echo one AF_VSOCK connection
 *   vsock_echo send-vsock CID PORT BYTES  guest: send a pattern, check the echo
 *   vsock_echo send-hybrid UDS PORT BYTES host: same through the VMM's hybrid
 *                                         socket ("CONNECT PORT\n" / "OK n\n"),
 *                                         retrying until the guest listens
 *
 * The sender writes and reads at the same time (poll), so flow control is
 * exercised in both directions at once; it checks every byte of the echo
 * and prints "ok BYTES". Static, so one binary serves host and guest.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 2654435761u >> 13) ^ (uint8_t)(i >> 12);
}

static void die(const char *what)
{
	fprintf(stderr, "vsock_echo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int echo(int fd)
{
	static char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, n - off);
			if (w <= 0)
				die("echo write");
			off += w;
		}
	if (n < 0)
		die("echo read");
	shutdown(fd, SHUT_WR);
	close(fd);
	return 0;
}

static int serve(int lfd)
{
	if (listen(lfd, 1) < 0)
		die("listen");
	printf("listening\n");
	fflush(stdout);
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept");
	return echo(fd);
}

static int serve_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die(path);
	int r = serve(fd);
	unlink(path);
	return r;
}

static int serve_vsock(unsigned port)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				 .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("vsock bind");
	return serve(fd);
}

/* Send total pattern bytes while checking the echo; 0 if all came back. */
static int exchange(int fd, uint64_t total)
{
	static uint8_t out[65536], in[65536];
	uint64_t sent = 0, got = 0;
	struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
	while (got < total) {
		p.events = POLLIN | (sent < total ? POLLOUT : 0);
		if (poll(&p, 1, 60000) <= 0)
			return fprintf(stderr, "vsock_echo: stalled at sent=%llu got=%llu\n",
				       (unsigned long long)sent, (unsigned long long)got), 1;
		if ((p.revents & POLLOUT) && sent < total) {
			size_t n = total - sent < sizeof(out) ? total - sent : sizeof(out);
			for (size_t i = 0; i < n; i++)
				out[i] = pattern(sent + i);
			ssize_t w = send(fd, out, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w < 0 && errno != EAGAIN)
				die("send");
			sent += w > 0 ? w : 0;
			if (sent == total)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			ssize_t n = recv(fd, in, sizeof(in), MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN)
				die("recv");
			if (n == 0)
				break;
			for (ssize_t i = 0; i < n; i++)
				if (in[i] != pattern(got + i))
					return fprintf(stderr, "vsock_echo: byte %llu differs\n",
						       (unsigned long long)(got + i)), 1;
			got += n > 0 ? n : 0;
		}
	}
	if (got != total)
		return fprintf(stderr, "vsock_echo: echo ended after %llu of %llu bytes\n",
			       (unsigned long long)got, (unsigned long long)total), 1;
	printf("ok %llu\n", (unsigned long long)total);
	return 0;
}

static int send_vsock(unsigned cid, unsigned port, uint64_t total)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("vsock connect");
	return exchange(fd, total);
}

/* Connect through the hybrid socket; -1 if the guest refused (not yet listening). */
static int hybrid_connect(const char *uds, unsigned port)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", uds);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die(uds);
	dprintf(fd, "CONNECT %u\n", port);
	char line[32];
	size_t len = 0;
	while (len < sizeof(line) - 1) {
		if (read(fd, line + len, 1) != 1) {
			close(fd);
			return -1;
		}
		if (line[len++] == '\n')
			break;
	}
	line[len] = 0;
	if (strncmp(line, "OK ", 3) != 0) {
		fprintf(stderr, "vsock_echo: bad reply '%s'\n", line);
		exit(1);
	}
	return fd;
}

static int send_hybrid(const char *uds, unsigned port, uint64_t total)
{
	for (int tries = 0; tries < 600; tries++) {
		int fd = hybrid_connect(uds, port);
		if (fd >= 0)
			return exchange(fd, total);
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	}
	fprintf(stderr, "vsock_echo: guest port %u never accepted\n", port);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve-unix"))
		return serve_unix(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "serve-vsock"))
		return serve_vsock((unsigned)atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "send-vsock"))
		return send_vsock((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]),
				  strtoull(argv[4], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "send-hybrid"))
		return send_hybrid(argv[2], (unsigned)atoi(argv[3]), strtoull(argv[4], NULL, 10));
	fprintf(stderr, "usage: vsock_echo serve-unix PATH | serve-vsock PORT |\n"
			"       send-vsock CID PORT BYTES | send-hybrid UDS PORT BYTES\n");
	return 2;
}

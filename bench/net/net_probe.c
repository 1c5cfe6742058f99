/* net_probe.c - bench/net's small TCP tool, on both sides of the link.
 *
 * Static, so the same binary runs in the benchmark's guest (its initramfs,
 * bench/net/make-guest-initramfs) and on the host (in the benchmark's own
 * network namespace). Three modes:
 *
 *   net-probe serve ADDR PORT
 *       The host's request server: for each connection, read one request
 *       (up to NET_PROBE_MSG bytes, ending in '\n'), write a reply of
 *       NET_PROBE_MSG bytes, close. One connection at a time; runs until
 *       killed.
 *   net-probe latency ADDR PORT N
 *       The guest's client: N times connect, send a request, read the reply
 *       to EOF, close; each round trip timed from before connect() to EOF.
 *       Prints one line:
 *         bench: latency n=N median_us=M mean_us=A min_us=L max_us=H
 *       Exit 1 if any round trip fails (said on stderr).
 *   net-probe gate ADDR PORT WORD
 *       The guest's step marker: connect (retried for up to 60 s while
 *       refused), send "WORD\n", read the answer to EOF; exit 0 if it
 *       starts with "go". bench/net/net-bench.py answers it once it has
 *       taken its counters, so the phases between two gates are measured
 *       with nothing else of the benchmark's in them.
 */
/* accept4 needs _GNU_SOURCE: meson.build defines it for the project */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NET_PROBE_MSG 64

static int parse_addr(const char *ip, const char *port, struct sockaddr_in *sa)
{
	char *end;
	long p = strtol(port, &end, 10);
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)p);
	if (*end || p <= 0 || p > 65535 || inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
		fprintf(stderr, "net-probe: bad address %s:%s\n", ip, port);
		return -1;
	}
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until EOF (or cap bytes): the byte count, or -1. */
static ssize_t read_to_eof(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	for (;;) {
		char scratch[256];
		char *dst = got < cap ? buf + got : scratch;
		size_t room = got < cap ? cap - got : sizeof scratch;
		ssize_t n = read(fd, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return (ssize_t)got;
		if (got < cap)
			got += (size_t)n;
	}
}

static void set_timeout(int fd, int secs)
{
	struct timeval tv = { .tv_sec = secs };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* One connection of serve: read the request line, answer, close. */
static void serve_one(int c)
{
	char req[NET_PROBE_MSG], reply[NET_PROBE_MSG];
	size_t got = 0;
	set_timeout(c, 10);
	while (got < sizeof req) {
		ssize_t n = read(c, req + got, sizeof req - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(req, '\n', got))
			break;
	}
	if (got > 0) {
		memset(reply, 'r', sizeof reply);
		reply[sizeof reply - 1] = '\n';
		if (write_all(c, reply, sizeof reply) < 0)
			perror("net-probe serve: write");
	}
	close(c);
}

static int serve(const struct sockaddr_in *sa)
{
	int one = 1, s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(s, (const struct sockaddr *)sa, sizeof *sa) < 0 || listen(s, 64) < 0) {
		perror("net-probe serve: listen");
		return 1;
	}
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("net-probe serve: accept");
			return 1;
		}
		serve_one(c);
	}
}

/* One round trip of latency: its time in ns, or -1. */
static int64_t round_trip(const struct sockaddr_in *sa)
{
	char req[NET_PROBE_MSG], reply[NET_PROBE_MSG];
	memset(req, 'q', sizeof req);
	req[sizeof req - 1] = '\n';
	int64_t t0 = now_ns();
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	set_timeout(s, 20);
	int one = 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	ssize_t got = -1;
	if (connect(s, (const struct sockaddr *)sa, sizeof *sa) == 0 &&
	    write_all(s, req, sizeof req) == 0)
		got = read_to_eof(s, reply, sizeof reply);
	int64_t t = now_ns() - t0;
	int saved = errno;
	close(s);
	errno = saved;
	return got == (ssize_t)sizeof reply ? t : -1;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int latency(const struct sockaddr_in *sa, long n)
{
	int64_t *t = calloc((size_t)n, sizeof *t), sum = 0;
	if (!t)
		return 1;
	for (long i = 0; i < n; i++) {
		t[i] = round_trip(sa);
		if (t[i] < 0) {
			fprintf(stderr, "net-probe latency: round trip %ld of %ld failed: %s\n", i + 1,
				n, strerror(errno));
			return 1;
		}
		sum += t[i];
	}
	qsort(t, (size_t)n, sizeof *t, cmp_i64);
	double median = n % 2 ? (double)t[n / 2] : ((double)t[n / 2 - 1] + (double)t[n / 2]) / 2;
	printf("bench: latency n=%ld median_us=%.1f mean_us=%.1f min_us=%.1f max_us=%.1f\n", n,
	       median / 1000, (double)sum / (double)n / 1000, (double)t[0] / 1000,
	       (double)t[n - 1] / 1000);
	free(t);
	return 0;
}

static int gate(const struct sockaddr_in *sa, const char *word)
{
	int64_t deadline = now_ns() + 60LL * 1000000000;
	for (;;) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			perror("net-probe gate: socket");
			return 1;
		}
		set_timeout(s, 600); /* the host may take a while to answer */
		if (connect(s, (const struct sockaddr *)sa, sizeof *sa) == 0) {
			char line[128], answer[16] = "";
			snprintf(line, sizeof line, "%s\n", word);
			ssize_t got = write_all(s, line, strlen(line)) == 0
				? read_to_eof(s, answer, sizeof answer - 1) : -1;
			close(s);
			if (got >= 2 && strncmp(answer, "go", 2) == 0)
				return 0;
			fprintf(stderr, "net-probe gate %s: answer '%.*s'\n", word,
				got > 0 ? (int)got : 0, answer);
			return 1;
		}
		int e = errno;
		close(s);
		if ((e != ECONNREFUSED && e != ENETUNREACH && e != EHOSTUNREACH) ||
		    now_ns() > deadline) {
			fprintf(stderr, "net-probe gate %s: connect: %s\n", word, strerror(e));
			return 1;
		}
		usleep(200000);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && strcmp(argv[1], "serve") == 0)
		return parse_addr(argv[2], argv[3], &sa) < 0 ? 2 : serve(&sa);
	if (argc == 5 && strcmp(argv[1], "latency") == 0) {
		long n = strtol(argv[4], NULL, 10);
		if (parse_addr(argv[2], argv[3], &sa) < 0 || n <= 0)
			return 2;
		return latency(&sa, n);
	}
	if (argc == 5 && strcmp(argv[1], "gate") == 0)
		return parse_addr(argv[2], argv[3], &sa) < 0 ? 2 : gate(&sa, argv[4]);
	fprintf(stderr, "usage: net-probe serve ADDR PORT | latency ADDR PORT N | "
		"gate ADDR PORT WORD\n");
	return 2;
}

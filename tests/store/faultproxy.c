/* faultproxy.c - a small HTTP/1.1 proxy that sits in front of the real
 * registry and injects faults, so the store tests can exercise retries,
 * resume, digest checks and crashes against real registry behaviour.
 *
 *   faultproxy LISTEN_PORT UPSTREAM_PORT RULES_FILE LOG_FILE
 *
 * One forked child per connection; every request is sent upstream with
 * "Connection: close". RULES_FILE is re-read per connection, lines "KEY N":
 *   fail429 N        the first N requests get 429 (Retry-After: 0)
 *   fail503 N        the first N requests get 503
 *   drop_blob N      the first blob response is cut after N body bytes
 *   tamper_blob N    blob bodies of N bytes or more get their first byte
 *                    flipped (1: every blob)
 *   tamper_manifest 1  manifest bodies get their last byte flipped
 *   throttle N       blob bodies are sent at about N bytes per second
 *   redirect_blobs 1 blob GETs answer 307 to /_r/<same path> (served here)
 * LOG_FILE gets "METHOD PATH range=R status=S" per request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct rules {
	long fail429, fail503, drop_blob, tamper_blob, tamper_manifest, throttle, redirect_blobs;
};

struct shared {
	atomic_long requests_failed;
	atomic_long blob_drops;
};

static struct shared *shm;
static const char *rules_path, *log_path;
static int upstream_port;

static void load_rules(struct rules *r)
{
	char key[64];
	long v;
	FILE *f = fopen(rules_path, "r");

	memset(r, 0, sizeof *r);
	if (!f)
		return;
	while (fscanf(f, "%63s %ld", key, &v) == 2) {
		if (!strcmp(key, "fail429")) r->fail429 = v;
		else if (!strcmp(key, "fail503")) r->fail503 = v;
		else if (!strcmp(key, "drop_blob")) r->drop_blob = v;
		else if (!strcmp(key, "tamper_blob")) r->tamper_blob = v;
		else if (!strcmp(key, "tamper_manifest")) r->tamper_manifest = v;
		else if (!strcmp(key, "throttle")) r->throttle = v;
		else if (!strcmp(key, "redirect_blobs")) r->redirect_blobs = v;
	}
	fclose(f);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads until the blank line; returns head length, body bytes follow. */
static ssize_t read_head(int fd, char *buf, size_t cap, size_t *got)
{
	*got = 0;
	while (*got < cap - 1) {
		ssize_t n = read(fd, buf + *got, cap - 1 - *got);
		if (n <= 0)
			return -1;
		*got += (size_t)n;
		buf[*got] = '\0';
		if (buf[0] == 0x16)
			return -1; /* a TLS handshake: this proxy speaks plain HTTP */
		char *end = strstr(buf, "\r\n\r\n");
		if (end)
			return end + 4 - buf;
	}
	return -1;
}

static void log_line(const char *method, const char *path, const char *range, int status)
{
	FILE *f = fopen(log_path, "a");
	if (f) {
		fprintf(f, "%s %s range=%s status=%d\n", method, path, range, status);
		fclose(f);
	}
}

static void reply(int fd, int status, const char *reason, const char *extra)
{
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n%s"
			 "Connection: close\r\n\r\n", status, reason, extra);
	write_all(fd, buf, (size_t)n);
}

/* Request head rewritten for upstream: no Connection header, our own. */
static int rewrite_request(char *head, size_t hlen, const char *path, char *out, size_t cap)
{
	char *line_end = strstr(head, "\r\n");
	char method[16];
	size_t o;

	sscanf(head, "%15s", method);
	o = (size_t)snprintf(out, cap, "%s %s HTTP/1.1\r\n", method, path);
	for (char *l = line_end + 2; l < head + hlen - 2;) {
		char *e = strstr(l, "\r\n");
		if (!e)
			break;
		if (strncasecmp(l, "Connection:", 11) && o + (size_t)(e - l) + 2 < cap) {
			memcpy(out + o, l, (size_t)(e - l) + 2);
			o += (size_t)(e - l) + 2;
		}
		l = e + 2;
	}
	o += (size_t)snprintf(out + o, cap - o, "Connection: close\r\n\r\n");
	return (int)o;
}

static int connect_upstream(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)upstream_port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		return -1;
	return fd;
}

static void throttle_sleep(long rate, size_t n)
{
	if (rate <= 0)
		return;
	long ns = (long)((double)n / (double)rate * 1e9);
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };
	nanosleep(&ts, NULL);
}

/* Streams the upstream body to the client, applying blob faults. */
static void relay_body(int up, int cl, const char *first, size_t nfirst, int blob,
		       long length, const struct rules *r)
{
	static char buf[1 << 14];
	int drop = blob && r->drop_blob > 0;
	int tamper = blob && r->tamper_blob > 0 && length >= r->tamper_blob;
	long sent = 0;
	const char *p = first;
	ssize_t n = (ssize_t)nfirst;

	for (;;) {
		if (n > 0) {
			char *q = (char *)p;
			if (tamper && sent == 0) {
				q[0] ^= 0x55;
				tamper = 0;
			}
			size_t k = (size_t)n;
			/* Only the first response long enough gets cut. */
			if (drop && sent + n > r->drop_blob &&
			    atomic_fetch_add(&shm->blob_drops, 1) != 0)
				drop = 0;
			if (drop && sent + n > r->drop_blob)
				k = (size_t)(r->drop_blob - sent);
			if (blob)
				throttle_sleep(r->throttle, k);
			if (write_all(cl, q, k) < 0)
				return;
			sent += (long)k;
			if (drop && sent >= r->drop_blob)
				return; /* cut the connection mid-body */
		}
		n = read(up, buf, blob && r->throttle > 0 && r->throttle < (long)sizeof buf
			 ? (size_t)r->throttle / 4 + 1 : sizeof buf);
		if (n <= 0)
			return;
		p = buf;
	}
}

static void handle(int cl)
{
	static char head[1 << 16], out[1 << 16], resp[1 << 16];
	char method[16] = "", path[4096] = "", range[128] = "-";
	size_t got, rgot;
	struct rules r;

	load_rules(&r);
	ssize_t hlen = read_head(cl, head, sizeof head, &got);
	if (hlen < 0 || sscanf(head, "%15s %4095s", method, path) != 2)
		return;
	char *rg = strcasestr(head, "\r\nRange:");
	if (rg)
		sscanf(rg + 8, " %127[^\r]", range);
	int blob = strstr(path, "/blobs/sha256:") != NULL && !strcmp(method, "GET");
	long nth = atomic_fetch_add(&shm->requests_failed, 1);
	if (nth < r.fail429) {
		log_line(method, path, range, 429);
		return reply(cl, 429, "Too Many Requests", "Retry-After: 0\r\n");
	}
	if (nth < r.fail429 + r.fail503) {
		log_line(method, path, range, 503);
		return reply(cl, 503, "Service Unavailable", "");
	}
	if (blob && r.redirect_blobs && strncmp(path, "/_r/", 4)) {
		char loc[4200];
		snprintf(loc, sizeof loc, "Location: /_r%s\r\n", path);
		log_line(method, path, range, 307);
		return reply(cl, 307, "Temporary Redirect", loc);
	}
	const char *up_path = strncmp(path, "/_r/", 4) ? path : path + 3;
	int up = connect_upstream();
	if (up < 0)
		return reply(cl, 502, "Bad Gateway", "");
	int olen = rewrite_request(head, (size_t)hlen, up_path, out, sizeof out);
	if (write_all(up, out, (size_t)olen) < 0 ||
	    write_all(up, head + hlen, got - (size_t)hlen) < 0)
		return;
	ssize_t rlen = read_head(up, resp, sizeof resp, &rgot);
	if (rlen < 0)
		return;
	int status = 0;
	sscanf(resp, "HTTP/%*s %d", &status);
	log_line(method, path, range, status);
	if (write_all(cl, resp, (size_t)rlen) < 0)
		return;
	char *cl_hdr = strcasestr(resp, "\r\nContent-Length:");
	long length = cl_hdr ? strtol(cl_hdr + 17, NULL, 10) : -1;
	if (r.tamper_manifest && strstr(path, "/manifests/") && !strcmp(method, "GET") &&
	    status == 200 && length > 0 && length < (long)sizeof resp - rlen) {
		size_t have = rgot - (size_t)rlen;
		while ((long)have < length) {
			ssize_t n = read(up, resp + rlen + have, (size_t)(length - (long)have));
			if (n <= 0)
				break;
			have += (size_t)n;
		}
		resp[rlen + length - 1] ^= 0x20;
		rgot = (size_t)rlen + have;
	}
	relay_body(up, cl, resp + rlen, rgot - (size_t)rlen,
		   blob && (status == 200 || status == 206), length, &r);
	close(up);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int one = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: faultproxy LISTEN_PORT UPSTREAM_PORT RULES LOG\n");
		return 2;
	}
	upstream_port = atoi(argv[2]);
	rules_path = argv[3];
	log_path = argv[4];
	shm = mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		return 1;
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 64) < 0) {
		perror("faultproxy: bind");
		return 1;
	}
	for (;;) {
		int cl = accept(ls, NULL, NULL);
		if (cl < 0)
			continue;
		if (fork() == 0) {
			close(ls);
			handle(cl);
			shutdown(cl, SHUT_RDWR);
			close(cl);
			_exit(0);
		}
		close(cl);
	}
}

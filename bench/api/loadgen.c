/* loadgen.c - a small HTTP load client for supermachined's Unix socket.
 *
 *   sm-loadgen SOCKET PATH CONCURRENCY SECONDS [COUNT]
 *
 * CONCURRENCY threads each keep one keep-alive connection and send
 * `GET PATH` back to back for SECONDS (or COUNT requests in all, when
 * given), timing each request from the first byte written to the last
 * byte of the body read. Prints one line:
 *   path=… clients=… requests=… errors=… rps=… p50_us=… p99_us=… max_us=…
 * wrk cannot use a Unix socket, hence this.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct worker {
	pthread_t t;
	const char *sock, *path;
	double until;            /* monotonic seconds; 0 = use count */
	long count;
	long *lat_us;
	size_t n, cap;
	long errors;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
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

/* Reads one response; 0 if it was a 200 with its whole body. */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	char *end = NULL;
	while (!end) {
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r <= 0)
			return -1;
		len += (size_t)r;
		buf[len] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (!end && len >= cap - 1)
			return -1;
	}
	int ok = strncmp(buf, "HTTP/1.1 200", 12) == 0;
	char *cl = strcasestr(buf, "\r\ncontent-length:");
	if (!cl || cl > end)
		return -1;   /* the routes measured answer with a length */
	size_t body = strtoul(cl + 17, NULL, 10), have = len - (size_t)(end + 4 - buf);
	while (have < body) {
		ssize_t r = read(fd, buf, cap - 1 < body - have ? cap - 1 : body - have);
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	return ok ? 0 : 1;
}

static void record(struct worker *w, long us)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 4096;
		w->lat_us = realloc(w->lat_us, w->cap * sizeof *w->lat_us);
		if (!w->lat_us)
			abort();
	}
	w->lat_us[w->n++] = us;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	char req[512], buf[65536];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: sm\r\n\r\n", w->path);
	int fd = connect_unix(w->sock);
	for (long i = 0; fd >= 0 && (w->until ? now_s() < w->until : i < w->count); i++) {
		double t0 = now_s();
		int rc = write_all(fd, req, (size_t)n) < 0 ? -1 : read_response(fd, buf, sizeof buf);
		if (rc == 0) {
			record(w, (long)((now_s() - t0) * 1e6));
			continue;
		}
		w->errors++;
		if (rc < 0) {        /* the connection broke: open another */
			close(fd);
			fd = connect_unix(w->sock);
		}
	}
	if (fd < 0)
		w->errors++;
	else
		close(fd);
	return NULL;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: sm-loadgen SOCKET PATH CONCURRENCY SECONDS [COUNT]\n");
		return 2;
	}
	int conc = atoi(argv[3]);
	double secs = atof(argv[4]);
	long count = argc > 5 ? atol(argv[5]) : 0;
	if (conc < 1 || conc > 1024 || (secs <= 0 && count <= 0))
		return 2;
	struct worker *w = calloc((size_t)conc, sizeof *w);
	double start = now_s();
	for (int i = 0; i < conc; i++) {
		w[i] = (struct worker){ .sock = argv[1], .path = argv[2],
					.until = count ? 0 : start + secs,
					.count = count ? count / conc + (i < count % conc) : 0 };
		pthread_create(&w[i].t, NULL, run, &w[i]);
	}
	size_t total = 0;
	long errors = 0;
	for (int i = 0; i < conc; i++) {
		pthread_join(w[i].t, NULL);
		total += w[i].n;
		errors += w[i].errors;
	}
	double elapsed = now_s() - start;
	long *all = malloc((total ? total : 1) * sizeof *all);
	for (int i = 0, k = 0; i < conc; i++) {
		memcpy(all + k, w[i].lat_us, w[i].n * sizeof *all);
		k += (int)w[i].n;
		free(w[i].lat_us);
	}
	qsort(all, total, sizeof *all, cmp_long);
	printf("path=%s clients=%d requests=%zu errors=%ld rps=%.0f p50_us=%ld p99_us=%ld "
	       "max_us=%ld\n", argv[2], conc, total, errors, (double)total / elapsed,
	       total ? all[total / 2] : 0, total ? all[total * 99 / 100] : 0,
	       total ? all[total - 1] : 0);
	free(all);
	free(w);
	return errors ? 1 : 0;
}

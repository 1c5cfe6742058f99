/* exec_bench.c - sm-exec-bench SOCKET [MIB]: exec latency and vsock
 * throughput against a booted VM's guest agent (bench/exec/run-exec-bench).
 *
 * Connects through the VM's hybrid vsock socket (waiting while it boots),
 * then prints, one figure per line:
 *   - ms from the agent answering (the VM is booted) to the first byte of
 *     `echo hello`'s output on the host, for the first exec, and the median
 *     over 10 more;
 *   - MIB MiB from the guest (`head -c` of /dev/zero to stdout, busybox's
 *     small copy buffer; then `dd bs=64k`) and to the guest (our stdin into
 *     `cat >/dev/null`), each in MiB/s, and the same
 *     bytes through a pipe between two threads on this host, with the ratio
 *     vsock/pipe.
 * Then asks the agent to power the guest off and, once it has, ends with
 * one `result: NAME VALUE` line per figure compared across runs:
 * exec_first_ms, exec_warm_ms, exec_vsock_out_over_pipe (`head -c` stdout
 * over the host pipe), exec_vsock_in_over_pipe (stdin over the host pipe). A figure that
 * cannot be measured exits 1 before any result line.
 */
#include "agent_client.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64u << 10)
#define ECHO_RUNS 10

/* The figures of the result lines. */
struct figures {
	double first_ms, warm_ms, out_over_pipe, in_over_pipe;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "sm-exec-bench: %s: %s\n", what, why);
	exit(1);
}

struct sink {
	double first;   /* time of the first stdout byte, 0 = none yet */
	uint64_t bytes;
};

static void on_out(void *o, const void *p, size_t n)
{
	struct sink *s = o;
	(void)p;
	if (!s->first)
		s->first = now_s();
	s->bytes += n;
}

static void on_err(void *o, const void *p, size_t n)
{
	(void)o;
	fwrite(p, 1, n, stderr);
}

/* Runs argv with stdin from fd (-1: none); s gets the stdout figures. */
static void run(struct agent_client *c, const char *const *argv, int fd, struct sink *s)
{
	static const char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	struct agent_exec_spec spec = { .argv = argv, .env = env, .stdin_fd = fd };
	struct agent_exec_io io = { .on_stdout = on_out, .on_stderr = on_err, .opaque = s };
	struct agent_exec_result res;
	memset(s, 0, sizeof(*s));
	if (agent_client_exec(c, &spec, &io, &res) < 0)
		die(argv[0], agent_client_error(c));
	if (res.exit_code != 0)
		die(argv[0], "failed in the guest");
}

struct writer {
	int fd;
	uint64_t bytes;
};

/* Writes w->bytes zero bytes to w->fd in CHUNK writes, then closes it. */
static void *write_zeros(void *arg)
{
	struct writer *w = arg;
	static char buf[CHUNK];
	for (uint64_t left = w->bytes; left;) {
		ssize_t n = write(w->fd, buf, left < CHUNK ? left : CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("pipe writer", strerror(errno));
		left -= (uint64_t)n;
	}
	close(w->fd);
	return NULL;
}

/* Starts a writer of bytes into a new pipe; returns the read end. */
static int zero_pipe(uint64_t bytes, pthread_t *t, struct writer *w)
{
	int p[2];
	if (pipe(p))
		die("pipe", strerror(errno));
	w->fd = p[1];
	w->bytes = bytes;
	if (pthread_create(t, NULL, write_zeros, w))
		die("pthread_create", "failed");
	return p[0];
}

/* MiB/s of the same bytes through a host pipe between two threads. */
static double pipe_rate(uint64_t bytes)
{
	pthread_t t;
	struct writer w;
	static char buf[CHUNK];
	double t0 = now_s();
	int fd = zero_pipe(bytes, &t, &w);
	uint64_t got = 0;
	for (ssize_t n; (n = read(fd, buf, sizeof(buf))) != 0;) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("pipe reader", strerror(errno));
		got += (uint64_t)n;
	}
	double dt = now_s() - t0;
	pthread_join(t, NULL);
	close(fd);
	if (got != bytes)
		die("pipe", "short read");
	return (double)bytes / (1 << 20) / dt;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Runs `echo hello`; returns ms from t0 to the first byte of its output. */
static double echo_ms(struct agent_client *c, double t0)
{
	static const char *const argv[] = { "echo", "hello", NULL };
	struct sink s;
	run(c, argv, -1, &s);
	if (!s.first)
		die("echo", "no output");
	return (s.first - t0) * 1000;
}

static void echo_latency(struct agent_client *c, double t_agent, struct figures *f)
{
	double ms[ECHO_RUNS];
	f->first_ms = echo_ms(c, t_agent);
	printf("first exec: agent answered -> first byte of `echo hello`: %.1f ms\n", f->first_ms);
	for (int i = 0; i < ECHO_RUNS; i++)
		ms[i] = echo_ms(c, now_s());
	qsort(ms, ECHO_RUNS, sizeof(ms[0]), cmp_double);
	f->warm_ms = (ms[ECHO_RUNS / 2 - 1] + ms[ECHO_RUNS / 2]) / 2;
	printf("warm exec: request -> first byte of `echo hello`: median %.1f ms "
	       "(min %.1f, max %.1f, %d runs)\n", f->warm_ms, ms[0], ms[ECHO_RUNS - 1], ECHO_RUNS);
}

static void throughput(struct agent_client *c, unsigned mib, struct figures *f)
{
	uint64_t bytes = (uint64_t)mib << 20;
	char count[32];
	snprintf(count, sizeof(count), "%llu", (unsigned long long)bytes);
	char blocks[32];
	snprintf(blocks, sizeof(blocks), "count=%u", mib * 16);
	const char *const out_argv[] = { "head", "-c", count, "/dev/zero", NULL };
	const char *const dd_argv[] = { "dd", "if=/dev/zero", "bs=64k", blocks, NULL };
	const char *const in_argv[] = { "sh", "-c", "cat >/dev/null", NULL };
	struct sink s;
	double t0 = now_s();
	run(c, out_argv, -1, &s);
	double out_rate = (double)bytes / (1 << 20) / (now_s() - t0);
	if (s.bytes != bytes)
		die("head", "short output");
	t0 = now_s();
	run(c, dd_argv, -1, &s);
	double dd_rate = (double)bytes / (1 << 20) / (now_s() - t0);
	if (s.bytes != bytes)
		die("dd", "short output");
	pthread_t t;
	struct writer w;
	t0 = now_s();
	int fd = zero_pipe(bytes, &t, &w);
	run(c, in_argv, fd, &s);
	double in_rate = (double)bytes / (1 << 20) / (now_s() - t0);
	pthread_join(t, NULL);
	close(fd);
	double pipe = pipe_rate(bytes);
	printf("%u MiB guest -> host (stdout of head -c): %.1f MiB/s\n", mib, out_rate);
	printf("%u MiB guest -> host (dd bs=64k):         %.1f MiB/s\n", mib, dd_rate);
	printf("%u MiB host -> guest (stdin of cat):      %.1f MiB/s\n", mib, in_rate);
	printf("%u MiB through a pipe on the host:        %.1f MiB/s\n", mib, pipe);
	printf("ratio vsock/pipe: guest->host %.4f (dd bs=64k %.4f), host->guest %.4f\n",
	       out_rate / pipe, dd_rate / pipe, in_rate / pipe);
	f->out_over_pipe = out_rate / pipe;
	f->in_over_pipe = in_rate / pipe;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: sm-exec-bench VSOCK_SOCKET [MIB]\n");
		return 2;
	}
	unsigned mib = argc == 3 ? (unsigned)atoi(argv[2]) : 64;
	if (mib == 0 || mib > 4096)
		die("MIB", "want 1..4096");
	char err[512];
	struct agent_client *c = agent_client_connect(argv[1], SM_AGENT_PORT, 900000, err,
						      sizeof(err));
	if (!c)
		die("connect", err);
	struct figures f;
	double t_agent = now_s();
	echo_latency(c, t_agent, &f);
	throughput(c, mib, &f);
	if (agent_client_shutdown(c, SM_SHUTDOWN_POWEROFF, 30000) < 0)
		die("shutdown", agent_client_error(c));
	agent_client_close(c);
	/* Plain numbers only: a figure that is not finite and positive was not
	 * measured. */
	const double all[] = { f.first_ms, f.warm_ms, f.out_over_pipe, f.in_over_pipe };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!isfinite(all[i]) || all[i] <= 0)
			die("figures", "a figure is not a positive number");
	printf("result: exec_first_ms %.3f\n", f.first_ms);
	printf("result: exec_warm_ms %.3f\n", f.warm_ms);
	printf("result: exec_vsock_out_over_pipe %.6f\n", f.out_over_pipe);
	printf("result: exec_vsock_in_over_pipe %.6f\n", f.in_over_pipe);
	return 0;
}

/* test_agent_exec.c - process semantics of the agent through agent_client.
 *
 * Runs against agent-unix natively (unit suite) or the agent in a microVM
 * (vm suite, SM_AGENT_TARGET set by tests/vm/agent/run-agent-tests): exit
 * codes, signals, separate stdout/stderr, 50 MiB of output (16 MiB in a
 * VM), 64 MiB to a reader that stalls, 10 MiB of stdin, timeouts, signals to a running
 * process, a pty, cwd/env/uid, a missing cwd made, supplementary groups,
 * commands that cannot start (docker's messages), 8 concurrent execs, file write/read
 * round trips (8 MiB read back repeatedly), and a client killed in the
 * middle of a stream.
 */
#include "agent_target.h"

#include <check.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../check_main.h"

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

START_TEST(echo_hello)
{
	struct run r;
	run_cmd(&r, ARGV("echo", "hello"), -1, 0);
	ck_assert_msg(r.rc == 0, "%s", r.error);
	ck_assert_str_eq(r.out.data, "hello\n");
	ck_assert_str_eq(r.err.data, "");
	ck_assert_int_eq(r.res.exit_code, 0);
	ck_assert_int_eq(r.res.signal, 0);
	ck_assert(!r.res.timed_out);
	run_free(&r);
}
END_TEST

START_TEST(exit_code_7)
{
	struct run r;
	run_cmd(&r, ARGV("sh", "-c", "exit 7"), -1, 0);
	ck_assert_msg(r.rc == 0, "%s", r.error);
	ck_assert_int_eq(r.res.exit_code, 7);
	ck_assert_int_eq(r.res.signal, 0);
	run_free(&r);
}
END_TEST

START_TEST(killed_by_sigkill)
{
	struct run r;
	run_cmd(&r, ARGV("sh", "-c", "kill -9 $$"), -1, 0);
	ck_assert_msg(r.rc == 0, "%s", r.error);
	ck_assert_int_eq(r.res.signal, SIGKILL);
	ck_assert_int_eq(r.res.exit_code, -1);
	run_free(&r);
}
END_TEST

START_TEST(stdout_stderr_separate)
{
	struct run r;
	run_cmd(&r, ARGV("sh", "-c", "echo out1; echo err1 >&2; echo out2; echo err2 >&2"), -1, 0);
	ck_assert_msg(r.rc == 0, "%s", r.error);
	ck_assert_str_eq(r.out.data, "out1\nout2\n");
	ck_assert_str_eq(r.err.data, "err1\nerr2\n");
	run_free(&r);
}
END_TEST

/* A command that cannot start: EXEC_FAILED with its kind and docker's
 * message (agent_lookup.h). */
static void expect_failure(const char *cmd, uint32_t kind, const char *msg)
{
	struct run r;
	run_cmd(&r, ARGV(cmd), -1, 0);
	ck_assert_int_eq(r.rc, -1);
	ck_assert_str_eq(r.error, msg);
	ck_assert_uint_eq(r.failure, kind);
	run_free(&r);
}

START_TEST(missing_command_fails)
{
	expect_failure("/no/such/program", SM_EXEC_NOT_FOUND,
		       "exec: \"/no/such/program\": stat /no/such/program: no such file or directory");
	expect_failure("no-such-command", SM_EXEC_NOT_FOUND,
		       "exec: \"no-such-command\": executable file not found in $PATH");
	expect_failure("/proc/self/status", SM_EXEC_NOT_EXECUTABLE,
		       "exec: \"/proc/self/status\": permission denied");
	expect_failure("/proc", SM_EXEC_NOT_EXECUTABLE, "exec: \"/proc\": is a directory");
}
END_TEST

/* Output far beyond every buffer on the way (the agent's OUT_HIGH, the
 * vsock credit): 50 MiB natively, 16 MiB in a VM. Inside the emulated KVM
 * host, guest interrupt delivery (QEMU TCG's nested SVM) now and then
 * fails under long interrupt-heavy streams - a triple fault, or a vCPU
 * that stops taking interrupts - so the VM run streams less; the
 * backpressure paths it checks are the same. */
static size_t big_stream_bytes(void)
{
	return target_is_vm() ? 16u << 20 : 50u << 20;
}

/* big_stream_bytes() of "0123456789abcdef\n" lines; compared by checksum. */
START_TEST(stdout_big_stream)
{
	const size_t total = big_stream_bytes();
	char *expect = malloc(total), want[65], got[65];
	for (size_t i = 0; i < total; i++)
		expect[i] = "0123456789abcdef\n"[i % 17];
	sha256_hex(expect, total, want);
	free(expect);
	struct run r;
	char cmd[80];
	snprintf(cmd, sizeof cmd, "yes 0123456789abcdef | head -c %zu", total);
	run_cmd(&r, ARGV("sh", "-c", cmd), -1, 0);
	ck_assert_msg(r.rc == 0, "%s", r.error);
	ck_assert_int_eq(r.res.exit_code, 0);
	ck_assert_uint_eq(r.out.len, total);
	sha256_hex(r.out.data, r.out.len, got);
	ck_assert_str_eq(got, want);
	run_free(&r);
}
END_TEST

/* A reader that stalls every 2 MiB. Each stall lets the agent's output
 * queue pass OUT_HIGH, so it pauses the process's pipe; the burst of
 * reading that follows then often drains that queue to empty in a single
 * EPOLLOUT flush -- the case where the agent once lost the wakeup that
 * re-arms the pipe, and the exec hung (guest/agent_conn.c conn_pump). */
struct slow_reader {
	size_t total, next_stall;
};

static void on_slow_stdout(void *opaque, const void *p, size_t n)
{
	struct slow_reader *s = opaque;
	(void)p;
	s->total += n;
	if (s->total >= s->next_stall) {
		s->next_stall += 2u << 20;
		nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000000 }, NULL);
	}
}

static void ignore_output(void *opaque, const void *p, size_t n)
{
	(void)opaque;
	(void)p;
	(void)n;
}

/* Runs `yes ... | head -c bytes` in the guest, its stdout to on_stdout. */
static int exec_yes_stream(struct agent_client *c, size_t bytes,
			   void (*on_stdout)(void *, const void *, size_t), void *opaque,
			   struct agent_exec_result *res)
{
	static const char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	char cmd[80];
	snprintf(cmd, sizeof cmd, "yes 0123456789abcdef | head -c %zu", bytes);
	struct agent_exec_spec spec = { .argv = ARGV("sh", "-c", cmd), .env = env,
					.stdin_fd = -1 };
	struct agent_exec_io io = { .on_stdout = on_stdout, .on_stderr = ignore_output,
				    .opaque = opaque };
	return agent_client_exec(c, &spec, &io, res);
}

START_TEST(stdout_slow_reader)
{
	const size_t total = 64u << 20;
	struct slow_reader s = { .next_stall = 2u << 20 };
	struct agent_client *c = target_connect();
	struct agent_exec_result res;
	int rc = exec_yes_stream(c, total, on_slow_stdout, &s, &res);
	ck_assert_msg(rc == 0, "%s", agent_client_error(c));
	ck_assert_int_eq(res.exit_code, 0);
	ck_assert_uint_eq(s.total, total);
	agent_client_close(c);
}
END_TEST

/* A client that dies in the middle of a large stream (here: it stops
 * reading after 1 MiB, so the agent's queue and the transport fill, then it
 * is SIGKILLed) must not take the agent with it: later connections and
 * streams work. In the VM this is the vsock device's dead-peer path. */
struct stopper {
	int ready_fd;
	size_t total;
};

static void on_stop_stdout(void *opaque, const void *p, size_t n)
{
	struct stopper *st = opaque;
	(void)p;
	st->total += n;
	if (st->total < (1u << 20))
		return;
	char one = 1;
	if (write(st->ready_fd, &one, 1) != 1)
		_exit(2);
	for (;;)
		pause(); /* stop reading; the parent kills us */
}

static void stream_then_stop(int ready_fd)
{
	struct stopper st = { .ready_fd = ready_fd };
	struct agent_client *c = target_connect();
	struct agent_exec_result res;
	exec_yes_stream(c, big_stream_bytes(), on_stop_stdout, &st, &res);
	_exit(3); /* the stream ended before 1 MiB: the parent sees EOF */
}

START_TEST(client_killed_mid_stream)
{
	int pfd[2];
	char one;
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		stream_then_stop(pfd[1]);
	}
	close(pfd[1]);
	ck_assert_msg(read(pfd[0], &one, 1) == 1, "the client never got 1 MiB of output");
	close(pfd[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	struct run r;
	run_cmd(&r, ARGV("echo", "after"), -1, 0);
	ck_assert_msg(r.rc == 0, "exec after the killed client: %s", r.error);
	ck_assert_str_eq(r.out.data, "after\n");
	run_free(&r);
	run_cmd(&r, ARGV("sh", "-c", "yes 0123456789abcdef | head -c 4194304"), -1, 0);
	ck_assert_msg(r.rc == 0, "stream after the killed client: %s", r.error);
	ck_assert_uint_eq(r.out.len, 4u << 20);
	run_free(&r);
}
END_TEST

struct feeder {
	int fd;
	const char *p;
	size_t n;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	for (size_t off = 0; off < f->n;) {
		ssize_t w = write(f->fd, f->p + off, f->n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(f->fd);
	return NULL;
}

START_TEST(stdin_10mib_sha256)
{
	const size_t total = 10u << 20;
	char *data = malloc(total), want[65];
	srand(42);
	for (size_t i = 0; i < total; i++)
		data[i] = (char)rand();
	sha256_hex(data, total, want);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct feeder f = { .fd = p[1], .p = data, .n = total };
	pthread_t t;
	pthread_create(&t, NULL, feed, &f);
	struct run r;
	run_cmd(&r, ARGV("sha256sum"), p[0], 0);
	pthread_join(t, NULL);
	close(p[0]);
	ck_assert_msg(r.rc == 0, "%s", r.error);
	ck_assert_int_eq(r.res.exit_code, 0);
	ck_assert_msg(!strncmp(r.out.data, want, 64), "got %s want %s", r.out.data, want);
	run_free(&r);
	free(data);
}
END_TEST

START_TEST(timeout_kills_sleep)
{
	struct timespec a, b;
	struct run r;
	clock_gettime(CLOCK_MONOTONIC, &a);
	run_cmd(&r, ARGV("sh", "-c", "sleep 100; echo not-killed"), -1, 1000);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_msg(r.rc == 0, "%s", r.error);
	ck_assert(r.res.timed_out);
	ck_assert_int_eq(r.res.signal, SIGKILL);
	ck_assert_str_eq(r.out.data, "");
	ck_assert_int_lt(b.tv_sec - a.tv_sec, 30);
	run_free(&r);
}
END_TEST

struct sig_ctx {
	struct agent_client *c;
	struct buf out;
	int started;
};

static void sig_started(void *o, uint32_t pid)
{
	struct sig_ctx *s = o;
	s->started = 1;
	agent_client_signal(s->c, SIGTERM);
}

START_TEST(signal_running_process)
{
	struct sig_ctx s = { .c = target_connect() };
	struct agent_exec_spec spec = { .argv = ARGV("sleep", "100"), .stdin_fd = -1 };
	struct agent_exec_io io = { .on_started = sig_started, .opaque = &s };
	struct agent_exec_result res;
	int rc = agent_client_exec(s.c, &spec, &io, &res);
	ck_assert_msg(rc == 0, "%s", agent_client_error(s.c));
	ck_assert(s.started);
	ck_assert_int_eq(res.signal, SIGTERM);
	ck_assert(!res.timed_out);
	agent_client_close(s.c);
}
END_TEST

START_TEST(cwd_env_uid)
{
	struct agent_client *c = target_connect();
	struct buf out = { 0 };
	const char *const env[] = { "FOO=bar baz", "PATH=/usr/bin:/bin", NULL };
	struct agent_exec_spec spec = {
		.argv = ARGV("sh", "-c", "pwd; echo \"$FOO\"; id -u; id -g"),
		.env = env, .cwd = "/tmp", .uid = 65534, .gid = 65534, .stdin_fd = -1 };
	if (getuid() != 0 && !target_is_vm()) /* natively only root can switch */
		spec.uid = getuid(), spec.gid = getgid();
	struct agent_exec_io io = { .on_stdout = buf_collect, .opaque = &out };
	struct agent_exec_result res;
	char expect[128];
	ck_assert_msg(agent_client_exec(c, &spec, &io, &res) == 0, "%s", agent_client_error(c));
	snprintf(expect, sizeof(expect), "/tmp\nbar baz\n%u\n%u\n", spec.uid, spec.gid);
	ck_assert_str_eq(out.data ? out.data : "", expect);
	free(out.data);
	agent_client_close(c);
}
END_TEST

/* SM_EXEC_MKCWD makes a missing cwd (docker's WORKDIR); supplementary
 * groups (root only: natively a user cannot set them). */
START_TEST(mkcwd_and_groups)
{
	struct agent_client *c = target_connect();
	struct buf out = { 0 };
	char cwd[64], expect[160];
	bool root = getuid() == 0 || target_is_vm();
	const uint32_t groups[] = { 4, 27 };
	snprintf(cwd, sizeof(cwd), "/tmp/sm-mkcwd-%d/a/b", (int)getpid());
	const char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	struct agent_exec_spec spec = {
		.argv = ARGV("sh", "-c", "pwd; id -G"), .env = env, .cwd = cwd, .mkcwd = true,
		.uid = root ? 65534 : getuid(), .gid = root ? 65534 : getgid(),
		.groups = root ? groups : NULL, .ngroups = root ? 2 : 0, .stdin_fd = -1 };
	struct agent_exec_io io = { .on_stdout = buf_collect, .opaque = &out };
	struct agent_exec_result res;
	ck_assert_msg(agent_client_exec(c, &spec, &io, &res) == 0, "%s", agent_client_error(c));
	if (root)
		snprintf(expect, sizeof(expect), "%s\n65534 4 27\n", cwd);
	else
		snprintf(expect, sizeof(expect), "%s\n", cwd);
	ck_assert_msg(!strncmp(out.data ? out.data : "", expect, strlen(expect)), "got %s",
		      out.data ? out.data : "");
	free(out.data);
	agent_client_close(c);
}
END_TEST

START_TEST(pty_window_size)
{
	struct agent_client *c = target_connect();
	struct buf out = { 0 };
	struct agent_exec_spec spec = { .argv = ARGV("sh", "-c", "stty size; test -t 0 && echo tty"),
					.pty = true, .rows = 33, .cols = 101, .stdin_fd = -1 };
	struct agent_exec_io io = { .on_stdout = buf_collect, .opaque = &out };
	struct agent_exec_result res;
	ck_assert_msg(agent_client_exec(c, &spec, &io, &res) == 0, "%s", agent_client_error(c));
	ck_assert_int_eq(res.exit_code, 0);
	ck_assert_msg(out.data && strstr(out.data, "33 101") && strstr(out.data, "tty"),
		      "pty output: %s", out.data ? out.data : "(none)");
	free(out.data);
	agent_client_close(c);
}
END_TEST

struct conc {
	int n;
	struct run r;
};

static void *conc_run(void *arg)
{
	struct conc *k = arg;
	char script[64];
	snprintf(script, sizeof(script), "sleep 0.3; echo exec-%d; exit %d", k->n, k->n);
	run_cmd(&k->r, ARGV("sh", "-c", script), -1, 0);
	return NULL;
}

START_TEST(eight_concurrent_execs)
{
	struct conc k[8];
	pthread_t t[8];
	for (int i = 0; i < 8; i++) {
		k[i].n = i;
		pthread_create(&t[i], NULL, conc_run, &k[i]);
	}
	for (int i = 0; i < 8; i++) {
		char want[32];
		pthread_join(t[i], NULL);
		snprintf(want, sizeof(want), "exec-%d\n", i);
		ck_assert_msg(k[i].r.rc == 0, "%s", k[i].r.error);
		ck_assert_str_eq(k[i].r.out.data, want);
		ck_assert_int_eq(k[i].r.res.exit_code, i);
		run_free(&k[i].r);
	}
}
END_TEST

START_TEST(file_round_trip)
{
	struct agent_client *c = target_connect();
	const size_t n = (3u << 20) + 123;
	char path[300], *data = malloc(n);
	void *back;
	size_t len;
	uint32_t mode;
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7 + i / 251);
	snprintf(path, sizeof(path), "%s/roundtrip.bin", target_tmp());
	ck_assert_msg(agent_client_write_file(c, path, 0640, data, n, 30000) == 0, "%s",
		      agent_client_error(c));
	ck_assert_msg(agent_client_read_file(c, path, 16u << 20, &back, &len, &mode, 30000) == 0,
		      "%s", agent_client_error(c));
	ck_assert_uint_eq(len, n);
	ck_assert_int_eq(memcmp(back, data, n), 0);
	ck_assert_uint_eq(mode, 0640);
	free(back);
	ck_assert_int_eq(agent_client_read_file(c, "/no/such/file", 100, &back, &len, NULL, 5000), -1);
	ck_assert_msg(strstr(agent_client_error(c), "No such file"), "%s", agent_client_error(c));
	ck_assert_int_eq(agent_client_ping(c, 5000), 0); /* still usable */
	unlink(path);
	free(data);
	agent_client_close(c);
}
END_TEST

/* 8 MiB read back 4 times: each READ passes OUT_HIGH about 8 times, and a
 * flush that drained the queue to empty once left file_pump without a
 * wakeup (a regular file has no epoll event; see agent_conn.c). */
START_TEST(file_read_large_repeated)
{
	struct agent_client *c = target_connect();
	const size_t n = 8u << 20;
	char path[300], *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 13 + i / 509);
	snprintf(path, sizeof(path), "%s/large.bin", target_tmp());
	ck_assert_msg(agent_client_write_file(c, path, 0600, data, n, 30000) == 0, "%s",
		      agent_client_error(c));
	for (int i = 0; i < 4; i++) {
		void *back;
		size_t len;
		ck_assert_msg(agent_client_read_file(c, path, 16u << 20, &back, &len, NULL,
						     30000) == 0,
			      "read %d: %s", i, agent_client_error(c));
		ck_assert_uint_eq(len, n);
		ck_assert_int_eq(memcmp(back, data, n), 0);
		free(back);
	}
	unlink(path);
	free(data);
	agent_client_close(c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("agent_exec");
	TCase *t = tcase_create("exec");
	tcase_set_timeout(t, 150);
	tcase_add_test(t, echo_hello);
	tcase_add_test(t, exit_code_7);
	tcase_add_test(t, killed_by_sigkill);
	tcase_add_test(t, stdout_stderr_separate);
	tcase_add_test(t, missing_command_fails);
	tcase_add_test(t, stdout_big_stream);
	tcase_add_test(t, stdin_10mib_sha256);
	tcase_add_test(t, timeout_kills_sleep);
	tcase_add_test(t, signal_running_process);
	tcase_add_test(t, cwd_env_uid);
	tcase_add_test(t, mkcwd_and_groups);
	tcase_add_test(t, pty_window_size);
	tcase_add_test(t, eight_concurrent_execs);
	tcase_add_test(t, file_round_trip);
	tcase_add_test(t, client_killed_mid_stream);
	suite_add_tcase(s, t);
	/* Regression tests for the output-backpressure wakeups: many round
	 * trips through a full queue. Run natively only (the VM tests select
	 * the case "exec"): under nested TCG they outlast any sane timeout. */
	TCase *stress = tcase_create("backpressure");
	tcase_set_timeout(stress, 150);
	tcase_add_test(stress, stdout_slow_reader);
	tcase_add_test(stress, file_read_large_repeated);
	suite_add_tcase(s, stress);
	return s;
}

int main(void)
{
	target_setup();
	int rc = check_run(suite(), CK_FORK_GETENV);
	target_teardown();
	return rc;
}

/* agent_target.c - start/reach the agent under test (see agent_target.h). */
#include "agent_target.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/vm_sockets.h>
#include <sys/wait.h>
#include <unistd.h>

static char sock_path[108];
static char tmp_dir[64];
static pid_t server = -1;
static char hybrid_path[108];
static unsigned hybrid_port;
static unsigned vsock_cid; /* vsock:CID:PORT, e.g. a QEMU vhost-vsock guest */

bool target_is_vm(void)
{
	return hybrid_path[0] != 0 || vsock_cid != 0;
}

const char *target_tmp(void)
{
	return tmp_dir;
}

static void start_unix_agent(void)
{
	const char *bin = getenv("SM_AGENT_UNIX");
	int pfd[2];
	char line[32] = "";
	if (!bin)
		bin = "./agent-unix";
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/sm-agent-test.XXXXXX");
	if (!mkdtemp(tmp_dir) || pipe(pfd))
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", tmp_dir);
	server = fork();
	if (server == 0) {
		dup2(pfd[1], 1);
		execl(bin, bin, sock_path, (char *)NULL);
		perror(bin);
		_exit(127);
	}
	close(pfd[1]);
	ssize_t n = read(pfd[0], line, sizeof(line) - 1);
	close(pfd[0]);
	if (n <= 0 || strncmp(line, "listening", 9) != 0) {
		fprintf(stderr, "agent-unix (%s) did not start\n", bin);
		exit(1);
	}
}

void target_setup(void)
{
	const char *t = getenv("SM_AGENT_TARGET");
	if (t && sscanf(t, "vsock:%u:%u", &vsock_cid, &hybrid_port) == 2) {
		snprintf(tmp_dir, sizeof(tmp_dir), "/tmp");
		return;
	}
	if (t && !strncmp(t, "hybrid:", 7)) {
		const char *colon = strrchr(t + 7, ':');
		if (!colon || (size_t)(colon - (t + 7)) >= sizeof(hybrid_path))
			abort();
		memcpy(hybrid_path, t + 7, (size_t)(colon - (t + 7)));
		hybrid_port = (unsigned)atoi(colon + 1);
		snprintf(tmp_dir, sizeof(tmp_dir), "/tmp");
		return;
	}
	start_unix_agent();
}

void target_teardown(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		unlink(sock_path);
		rmdir(tmp_dir);
	}
}

static int connect_vsock(void)
{
	struct sockaddr_vm sv = { .svm_family = AF_VSOCK, .svm_cid = vsock_cid,
				  .svm_port = hybrid_port };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sv, sizeof(sv)) == 0, "vsock %u:%u: %s",
		      vsock_cid, hybrid_port, strerror(errno));
	return fd;
}

int target_connect_raw(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (vsock_cid)
		return connect_vsock();
	strcpy(sa.sun_path, target_is_vm() ? hybrid_path : sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect %s: %s",
		      sa.sun_path, strerror(errno));
	if (hybrid_path[0]) {
		char line[64];
		int n = snprintf(line, sizeof(line), "CONNECT %u\n", hybrid_port);
		ck_assert_int_eq(write(fd, line, (size_t)n), n);
		size_t k = 0;
		while (k < sizeof(line) - 1 && read(fd, line + k, 1) == 1 && line[k++] != '\n')
			;
		line[k] = 0;
		ck_assert_msg(!strncmp(line, "OK ", 3), "hybrid reply: %s", line);
	}
	return fd;
}

struct agent_client *target_connect(void)
{
	char err[512];
	struct agent_client *c;
	if (hybrid_path[0])
		c = agent_client_connect(hybrid_path, hybrid_port, 20000, err, sizeof(err));
	else
		c = agent_client_attach(target_connect_raw(), 5000, err, sizeof(err));
	ck_assert_msg(c != NULL, "connect to agent: %s", err);
	return c;
}

void buf_collect(void *buf, const void *p, size_t n)
{
	struct buf *b = buf;
	if (!b->data || b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		ck_assert_ptr_nonnull(d);
		b->data = d;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

static void buf_add(struct buf *b, const void *p, size_t n)
{
	buf_collect(b, p, n);
}

static void on_out(void *o, const void *p, size_t n)
{
	buf_add(&((struct run *)o)->out, p, n);
}

static void on_err(void *o, const void *p, size_t n)
{
	buf_add(&((struct run *)o)->err, p, n);
}

void run_cmd(struct run *r, const char *const *argv, int stdin_fd, uint32_t timeout_ms)
{
	static const char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	memset(r, 0, sizeof(*r));
	buf_add(&r->out, "", 0);
	buf_add(&r->err, "", 0);
	struct agent_client *c = target_connect();
	struct agent_exec_spec spec = { .argv = argv, .env = env, .stdin_fd = stdin_fd,
					.timeout_ms = timeout_ms };
	struct agent_exec_io io = { .on_stdout = on_out, .on_stderr = on_err, .opaque = r };
	r->rc = agent_client_exec(c, &spec, &io, &r->res);
	if (r->rc)
		snprintf(r->error, sizeof(r->error), "%s", agent_client_error(c));
	r->failure = r->rc ? agent_client_exec_failure(c) : 0;
	agent_client_close(c);
}

void run_free(struct run *r)
{
	free(r->out.data);
	free(r->err.data);
}

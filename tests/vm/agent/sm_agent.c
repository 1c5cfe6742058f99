/* sm_agent.c - a command-line client of the guest agent, for tests and people.
 *
 *   sm-agent TARGET ping
 *   sm-agent TARGET exec [--timeout-ms N] [--no-stdin] [--pty] [--cwd D]
 *                        [--uid U] [--gid G] -- CMD ARGS...
 *   sm-agent TARGET put LOCAL REMOTE [MODE]   (mode in octal, default 644)
 *   sm-agent TARGET get REMOTE                (to stdout)
 *   sm-agent TARGET shutdown
 *   sm-agent TARGET sync [--hostname H] [--offset-s N]
 *                        (what a restore sends: fresh entropy and this
 *                        host's clock, plus N seconds for tests)
 *   sm-agent TARGET mount TAG PATH [ro]
 *                        (MOUNT_FS: the agent mounts virtio-fs TAG at PATH,
 *                        created with its parents; exit 1 with the agent's
 *                        error, e.g. EBUSY when TAG is mounted there)
 *
 * TARGET is a VMM's hybrid vsock socket path (optionally PATH:PORT, port
 * defaults to the agent's), unix:PATH for an agent served directly on a
 * Unix socket (tests/unit/guest/agent-unix), or vsock:CID:PORT for a guest
 * reached with AF_VSOCK (QEMU's vhost-vsock, the reference VMM in tests). exec exits with the command's
 * status (128+signal, 124 on timeout), like `supermachine-vmm -- CMD`.
 * Waits up to SM_AGENT_CONNECT_MS (default 60000) for the guest to listen.
 */
#include "agent_client.h"
#include "agent_run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static int connect_ms(void)
{
	const char *s = getenv("SM_AGENT_CONNECT_MS");
	return s ? atoi(s) : 60000;
}

/* AF_VSOCK connect, retried while the guest is not listening yet. */
static int connect_vsock(unsigned cid, unsigned port)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct sockaddr_vm sv = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
		int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sv, sizeof(sv)) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 > connect_ms()) {
			perror("sm-agent: vsock connect");
			exit(1);
		}
		usleep(100000);
	}
}

static struct agent_client *open_target(const char *target)
{
	char err[512], path[108];
	struct agent_client *c;
	unsigned cid, vport;
	if (sscanf(target, "vsock:%u:%u", &cid, &vport) == 2) {
		c = agent_client_attach(connect_vsock(cid, vport), connect_ms(), err, sizeof(err));
	} else if (!strncmp(target, "unix:", 5)) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", target + 5);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			perror(target);
			exit(1);
		}
		c = agent_client_attach(fd, connect_ms(), err, sizeof(err));
	} else {
		unsigned port = SM_AGENT_PORT;
		snprintf(path, sizeof(path), "%s", target);
		char *colon = strrchr(path, ':');
		if (colon) {
			*colon = 0;
			port = (unsigned)atoi(colon + 1);
		}
		c = agent_client_connect(path, port, connect_ms(), err, sizeof(err));
	}
	if (!c) {
		fprintf(stderr, "sm-agent: %s\n", err);
		exit(1);
	}
	return c;
}

static int do_exec(struct agent_client *c, int argc, char **argv)
{
	struct agent_run_opts o = { .stdin_fd = 0, .stdout_fd = 1, .stderr_fd = 2 };
	int i;
	for (i = 0; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--no-stdin"))
			o.stdin_fd = -1;
		else if (!strcmp(argv[i], "--pty"))
			o.pty = true;
		else if (i + 1 < argc && !strcmp(argv[i], "--timeout-ms"))
			o.timeout_ms = (uint32_t)atoi(argv[++i]);
		else if (i + 1 < argc && !strcmp(argv[i], "--cwd"))
			o.cwd = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--uid"))
			o.uid = (uint32_t)atoi(argv[++i]);
		else if (i + 1 < argc && !strcmp(argv[i], "--gid"))
			o.gid = (uint32_t)atoi(argv[++i]);
		else
			break;
	}
	if (i + 1 >= argc || strcmp(argv[i], "--")) {
		fprintf(stderr, "sm-agent exec: expected [options] -- CMD ARGS...\n");
		return 2;
	}
	o.argv = (const char *const *)argv + i + 1;
	char err[512];
	int st = agent_run_on(c, &o, err, sizeof(err));
	if (st < 0)
		fprintf(stderr, "sm-agent: %s\n", err);
	return st < 0 ? 1 : st;
}

static int do_put(struct agent_client *c, int argc, char **argv)
{
	if (argc < 2)
		return 2;
	FILE *f = fopen(argv[0], "rb");
	if (!f) {
		perror(argv[0]);
		return 1;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	do {
		if (cap - len < 65536)
			buf = realloc(buf, cap = cap * 2 + 65536);
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	uint32_t mode = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 8) : 0644;
	int rc = agent_client_write_file(c, argv[1], mode, buf, len, 600000);
	free(buf);
	if (rc)
		fprintf(stderr, "sm-agent: %s\n", agent_client_error(c));
	return rc ? 1 : 0;
}

static int do_get(struct agent_client *c, int argc, char **argv)
{
	void *data;
	size_t len;
	if (argc < 1)
		return 2;
	if (agent_client_read_file(c, argv[0], (size_t)1 << 32, &data, &len, NULL, 600000)) {
		fprintf(stderr, "sm-agent: %s\n", agent_client_error(c));
		return 1;
	}
	int ok = fwrite(data, 1, len, stdout) == len;
	free(data);
	return ok ? 0 : 1;
}

static int do_sync(struct agent_client *c, int argc, char **argv)
{
	const char *hostname = NULL;
	long long offset = 0;
	struct sm_sync_req req;
	for (int i = 0; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--hostname"))
			hostname = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--offset-s"))
			offset = atoll(argv[++i]);
		else
			return 2;
	}
	if (agent_sync_req_fresh(&req, hostname)) {
		perror("sm-agent: sync request");
		return 1;
	}
	req.sec = (uint64_t)((long long)req.sec + offset);
	if (agent_client_sync_req(c, &req, 30000)) {
		fprintf(stderr, "sm-agent: %s\n", agent_client_error(c));
		return 1;
	}
	return 0;
}

static int do_mount(struct agent_client *c, int argc, char **argv)
{
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "ro")))
		return 2;
	if (agent_client_mount_fs(c, argv[0], argv[1], argc == 3, 60000)) {
		fprintf(stderr, "sm-agent: %s (%s)\n", agent_client_error(c), strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: sm-agent TARGET ping|exec|put|get|shutdown|sync|mount ...\n");
		return 2;
	}
	struct agent_client *c = open_target(argv[1]);
	const char *cmd = argv[2];
	int rc = 2;
	if (!strcmp(cmd, "ping"))
		rc = agent_client_ping(c, 30000) ? 1 : 0;
	else if (!strcmp(cmd, "shutdown"))
		rc = agent_client_shutdown(c, SM_SHUTDOWN_POWEROFF, 30000) ? 1 : 0;
	else if (!strcmp(cmd, "exec"))
		rc = do_exec(c, argc - 3, argv + 3);
	else if (!strcmp(cmd, "put"))
		rc = do_put(c, argc - 3, argv + 3);
	else if (!strcmp(cmd, "get"))
		rc = do_get(c, argc - 3, argv + 3);
	else if (!strcmp(cmd, "sync"))
		rc = do_sync(c, argc - 3, argv + 3);
	else if (!strcmp(cmd, "mount"))
		rc = do_mount(c, argc - 3, argv + 3);
	if (rc == 1 && (!strcmp(cmd, "ping") || !strcmp(cmd, "shutdown")))
		fprintf(stderr, "sm-agent: %s\n", agent_client_error(c));
	if (rc == 2)
		fprintf(stderr, "sm-agent: bad usage of '%s'\n", cmd);
	agent_client_close(c);
	return rc;
}

/* agent_unix.c - the guest agent served on an AF_UNIX socket, for host tests.
 *
 *   agent-unix SOCKET_PATH
 *
 * Runs exactly the agent code guest/init runs (agent_serve), but listening
 * on a Unix socket instead of vsock, so the agent's process semantics are
 * testable natively under the sanitizers. Prints "listening" on stdout
 * once the socket accepts connections; exits 0 after a SHUTDOWN request.
 *
 * SYNC never touches this host's clock, RNG or hostname: the hook appends
 * what it was asked ("SEC.NSEC HOSTNAME ENTROPY-HEX") to SOCKET_PATH.sync,
 * and refuses (EPERM) the hostname "refuse", for tests of the error path.
 * MOUNT_FS mounts nothing: the hook appends "TAG PATH FLAGS" to
 * SOCKET_PATH.mount and answers EBUSY for the tag "busy". FS_EVENTS
 * raises nothing: the hook appends "ROOT KIND FLAGS PATH [PATH2]" per
 * record to SOCKET_PATH.fsev and answers ENOTSUP for the root "/nokernel"
 * (as a guest kernel without /proc/sm-fsnotify). NET_CONFIG sets no
 * interface: the hook appends "IFNAME MTU FLAGS PREFIX4 NDNS SEARCH" to
 * SOCKET_PATH.net and answers ENODEV for the interface "eth9".
 */
#include "agent.h"
#include "agent_proto.h"

#include <errno.h>

#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* SOCKET_PATH.suffix for appending, or NULL with err (errno kept). */
static FILE *open_log(void *opaque, const char *suffix, char *err, size_t errlen)
{
	char path[128];
	snprintf(path, sizeof(path), "%s.%s", (const char *)opaque, suffix);
	FILE *f = fopen(path, "a");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
	}
	return f;
}

static int fake_sync(void *opaque, const struct sm_sync_req *req, char *err, size_t errlen)
{
	if (!strcmp(req->hostname, "refuse")) {
		snprintf(err, errlen, "sethostname: refused by agent-unix");
		return EPERM;
	}
	FILE *f = open_log(opaque, "sync", err, errlen);
	if (!f)
		return errno;
	fprintf(f, "%llu.%09u %s ", (unsigned long long)req->sec, req->nsec,
		req->hostname[0] ? req->hostname : "-");
	for (int i = 0; i < SM_SYNC_ENTROPY; i++)
		fprintf(f, "%02x", req->entropy[i]);
	fprintf(f, "\n");
	fclose(f);
	return 0;
}

static int fake_mount_fs(void *opaque, const struct sm_mount_req *req, char *err, size_t errlen)
{
	if (!strcmp(req->tag, "busy")) {
		snprintf(err, errlen, "mount %s: busy is already mounted there", req->path);
		return EBUSY;
	}
	FILE *f = open_log(opaque, "mount", err, errlen);
	if (!f)
		return errno;
	fprintf(f, "%s %s %u\n", req->tag, req->path, req->flags);
	fclose(f);
	return 0;
}

static int fake_fs_events(void *opaque, const struct sm_fsev_req *req, char *err, size_t errlen)
{
	if (!strcmp(req->root, "/nokernel")) {
		snprintf(err, errlen, "/proc/sm-fsnotify: No such file or directory");
		return ENOTSUP;
	}
	FILE *f = open_log(opaque, "fsev", err, errlen);
	if (!f)
		return errno;
	for (uint32_t i = 0; i < req->n; i++)
		fprintf(f, "%s %u %u %s%s%s\n", req->root, req->ev[i].kind, req->ev[i].flags,
			req->ev[i].path, req->ev[i].path2[0] ? " " : "", req->ev[i].path2);
	fclose(f);
	return 0;
}

static int fake_net_config(void *opaque, const struct sm_net_req *req, char *err, size_t errlen)
{
	if (!strcmp(req->ifname, "eth9")) {
		snprintf(err, errlen, "no interface eth9: No such device");
		return ENODEV;
	}
	FILE *f = open_log(opaque, "net", err, errlen);
	if (!f)
		return errno;
	fprintf(f, "%s %u %#x %02x:%02x:%02x:%02x:%02x:%02x %u %u %s\n", req->ifname, req->mtu,
		req->flags, req->mac[0], req->mac[1], req->mac[2], req->mac[3], req->mac[4],
		req->mac[5], req->prefix4, req->ndns, req->search[0] ? req->search : "-");
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: agent-unix SOCKET_PATH\n");
		return 2;
	}
	/* Be the reaper of exec'ed programs' orphans, as PID 1 is in the VM. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64)) {
		perror("agent-unix: listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	struct agent_hooks hooks = { .sync = fake_sync, .mount_fs = fake_mount_fs,
				     .fs_events = fake_fs_events, .net_config = fake_net_config,
				     .opaque = argv[1], .cpus = 1, .mem_kib = 1 };
	int rc = agent_serve(fd, &hooks);
	unlink(argv[1]);
	return rc ? 1 : 0;
}

/* agent_unix.c - the guest agent served on an AF_UNIX socket, for host tests.
 *
 *   agent-unix SOCKET_PATH
 *
 * Runs exactly the agent code guest/init runs (agent_serve), but listening
 * on a Unix socket instead of vsock, so the agent's process semantics are
 * testable natively under the sanitizers. Prints "listening" on stdout
 * once the socket accepts connections; exits 0 after a SHUTDOWN request.
 */
#include "agent.h"

#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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
	struct agent_hooks hooks = { .cpus = 1, .mem_kib = 1 };
	int rc = agent_serve(fd, &hooks);
	unlink(argv[1]);
	return rc ? 1 : 0;
}

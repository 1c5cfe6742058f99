/* jailed_peer.c - a worker process for test_worker.c: it speaks the VMM's
 * side of the worker channel (daemon/vm/worker_proto.h) on fd 3, inside
 * the VMM's real jail (daemon/vm/jail.h), and ends the way argv[1] says:
 *   forbidden   READY, then a system call the jail refuses (execve)
 *   poweroff    READY, EXITED (outcome 0, "guest powered off"), exit 0
 *   wait        READY, then wait to be killed
 * worker_start() appends "--control-fd 3".
 */
#include "daemon/vm/jail.h"
#include "daemon/vm/worker_proto.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONTROL_FD 3

static void send_msg(uint32_t type, int32_t value, const char *text)
{
	struct worker_msg m = { .type = type, .value = value };
	snprintf(m.text, sizeof(m.text), "%s", text);
	if (send(CONTROL_FD, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m))
		_exit(90);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core); /* the forbidden case dies by SIGSYS */
	struct vm_err err = { "" };
	if (vm_jail_enter(CONTROL_FD, NULL, &err) < 0) {
		fprintf(stderr, "jailed_peer: %s\n", err.msg);
		return 91;
	}
	send_msg(WORKER_READY, (int32_t)getpid(), "");
	if (strcmp(argv[1], "forbidden") == 0) {
		char *none[] = { "true", NULL };
		execve("/bin/true", none, none);
		return 92; /* not reached: the jail ends us */
	}
	if (strcmp(argv[1], "poweroff") == 0) {
		send_msg(WORKER_EXITED, 0, "guest powered off (ACPI S5)");
		return 0;
	}
	char b;
	while (read(CONTROL_FD, &b, 1) != 0)
		;
	return 0;
}

/* spawn.c - fork and exec of a supervised process (spawn.h). */
#include "daemon/vms/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* In the child, between fork and exec: only async-signal-safe calls. */
__attribute__((noreturn))
static void child_exec(char *const argv[], bool path_search, int logfd, int fd3,
		       pid_t daemon_pid)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != daemon_pid)
		_exit(127);   /* the daemon is already gone */
	setsid();         /* a terminal's Ctrl-C is not the child's */
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0 ||
	    dup2(fd3, 3) < 0)
		_exit(127);
	syscall(SYS_close_range, 4, ~0U, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (path_search)
		execvp(argv[0], argv);
	else
		execv(argv[0], argv);
	_exit(127);
}

pid_t spawn_with_socket(char *const argv[], bool path_search, const char *log_path,
			int sock_type, int *our_fd, char *err, size_t errlen)
{
	int sv[2];
	if (socketpair(AF_UNIX, sock_type | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (logfd < 0) {
		snprintf(err, errlen, "%s: %s", log_path, strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	pid_t me = getpid();
	pid_t pid = fork();
	if (pid == 0)
		child_exec(argv, path_search, logfd, sv[1], me);
	int saved = errno;
	close(sv[1]);
	close(logfd);
	if (pid < 0) {
		close(sv[0]);
		snprintf(err, errlen, "fork: %s", strerror(saved));
		return -1;
	}
	*our_fd = sv[0];
	return pid;
}

/* child_exec.c - the child's half of fork and exec (child_exec.h). */
#include "daemon/vms/child_exec.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

void child_exec(char *const argv[], bool path_search, int logfd, int fd3, pid_t daemon_pid)
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

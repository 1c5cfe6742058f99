/* agent_spawn.c - fork/exec of one request with pipes or a pty.
 * See agent_spawn.h. */
#include "agent_spawn.h"
#include "agent_lookup.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

/* Child-to-parent failure report; kind: SM_EXEC_NOT_* when the command
 * itself could not be found or run (what is then docker's message). */
struct child_fail {
	int err;
	unsigned kind;
	char what[240];
};

/* fds[0..2] become the child's stdin/stdout/stderr. */
struct child_io {
	int fds[3];
	int ctty; /* pty slave to make the controlling terminal, or -1 */
	int report;
};

static void child_report(int report, const struct child_fail *f)
{
	ssize_t n = write(report, f, sizeof(*f));
	(void)n;
	_exit(f->kind == SM_EXEC_NOT_EXECUTABLE ? 126 : 127);
}

static void child_die(int report, int err, const char *what, const char *arg)
{
	struct child_fail f = { .err = err };
	snprintf(f.what, sizeof(f.what), "%s %s", what, arg ? arg : "");
	child_report(report, &f);
}

/* The command could not be found or run: docker's message. */
static void child_cmd_failed(int report, int err, int kind, const char *msg)
{
	struct child_fail f = { .err = err, .kind = (unsigned)kind };
	snprintf(f.what, sizeof(f.what), "%s", msg);
	if (!kind)
		snprintf(f.what, sizeof(f.what), "exec %.200s", msg);
	child_report(report, &f);
}

static void child_stdio(const struct child_io *io)
{
	for (int i = 0; i < 3; i++) {
		int fd = io->fds[i];
		if (fd == i) {
			if (fcntl(fd, F_SETFD, 0) < 0)
				child_die(io->report, errno, "fcntl", NULL);
		} else if (dup2(fd, i) < 0) {
			child_die(io->report, errno, "dup2", NULL);
		}
	}
}

static void child_ids(const struct sm_exec_req *req, int report)
{
	if (getuid() == req->uid && getgid() == req->gid && !req->ngroups)
		return;
	gid_t groups[SM_EXEC_MAX_GROUPS];
	for (uint32_t i = 0; i < req->ngroups && i < SM_EXEC_MAX_GROUPS; i++)
		groups[i] = req->groups[i];
	if (setgroups(req->ngroups, groups) && errno != EPERM)
		child_die(report, errno, "setgroups", NULL);
	if (setgid(req->gid))
		child_die(report, errno, "setgid", NULL);
	if (setuid(req->uid))
		child_die(report, errno, "setuid", NULL);
}

/* mkdir -p, 0755 (WORKDIR, as docker creates it). */
static int mkdir_p(const char *path)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
		return errno = ENAMETOOLONG, -1;
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			return -1;
		if (!(*s = c))
			return 0;
	}
}

/* argv[0] looked up as docker does (agent_lookup.h), then execve. */
static __attribute__((noreturn)) void child_exec(const struct sm_exec_req *req, int report)
{
	char path[PATH_MAX], msg[sizeof(((struct child_fail *)0)->what)];
	int kind = command_lookup(req->argv[0], env_path(req->env), path, sizeof path, msg,
				  sizeof msg);
	if (kind)
		child_cmd_failed(report, kind == SM_EXEC_NOT_FOUND ? ENOENT : EACCES, kind, msg);
	execve(path, req->argv, req->env);
	int err = errno;
	kind = command_exec_failure(req->argv[0], err, msg, sizeof msg);
	child_cmd_failed(report, err, kind, kind ? msg : req->argv[0]);
	_exit(127);
}

static __attribute__((noreturn)) void child_run(const struct sm_exec_req *req,
						const struct child_io *io)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (setsid() < 0)
		child_die(io->report, errno, "setsid", NULL);
	if (io->ctty >= 0 && ioctl(io->ctty, TIOCSCTTY, 0) < 0)
		child_die(io->report, errno, "TIOCSCTTY", NULL);
	child_stdio(io);
	const char *cwd = req->cwd && req->cwd[0] ? req->cwd : "/";
	if ((req->flags & SM_EXEC_MKCWD) && mkdir_p(cwd))
		child_die(io->report, errno, "mkdir", cwd);
	if (chdir(cwd))
		child_die(io->report, errno, "chdir", cwd);
	child_ids(req, io->report);
	child_exec(req, io->report);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int open_pty(const struct sm_exec_req *req, int *master, int *slave)
{
	char name[64];
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0 || grantpt(*master) || unlockpt(*master) ||
	    ptsname_r(*master, name, sizeof(name)))
		return -1;
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		return -1;
	struct winsize ws = { .ws_row = req->rows ? req->rows : 24,
			      .ws_col = req->cols ? req->cols : 80 };
	return ioctl(*master, TIOCSWINSZ, &ws);
}

/* Best effort: the kernel's limit for unprivileged users is 1 MiB. */
#define EXEC_PIPE_SIZE (1 << 20)

/* Parent and child ends of the stdio channels. */
struct chans {
	int in[2], out[2], err[2], master, slave, devnull;
};

static int make_chans(const struct sm_exec_req *req, struct chans *ch,
		      const char **step)
{
	if (req->flags & SM_EXEC_PTY) {
		*step = "open pty";
		return open_pty(req, &ch->master, &ch->slave);
	}
	*step = "pipe";
	if (pipe2(ch->out, O_CLOEXEC) || pipe2(ch->err, O_CLOEXEC))
		return -1;
	/* Big output moves in fewer wakeups of the command and the agent. */
	fcntl(ch->out[0], F_SETPIPE_SZ, EXEC_PIPE_SIZE);
	if (req->flags & SM_EXEC_STDIN) {
		if (pipe2(ch->in, O_CLOEXEC))
			return -1;
		fcntl(ch->in[0], F_SETPIPE_SZ, EXEC_PIPE_SIZE);
		return 0;
	}
	*step = "open /dev/null";
	ch->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return ch->devnull < 0 ? -1 : 0;
}

static void close_chans(struct chans *ch)
{
	int *all[] = { &ch->in[0], &ch->in[1], &ch->out[0], &ch->out[1], &ch->err[0],
		       &ch->err[1], &ch->master, &ch->slave, &ch->devnull };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		close_fd(all[i]);
}

static void child_io_of(const struct chans *ch, int report, struct child_io *io)
{
	io->report = report;
	io->ctty = ch->slave;
	if (ch->slave >= 0) {
		io->fds[0] = io->fds[1] = io->fds[2] = ch->slave;
		return;
	}
	io->fds[0] = ch->in[0] >= 0 ? ch->in[0] : ch->devnull;
	io->fds[1] = ch->out[1];
	io->fds[2] = ch->err[1];
}

/* Takes the parent's ends out of ch into res. */
static int parent_fds(struct chans *ch, struct spawn_result *res)
{
	if (ch->master >= 0) {
		res->out_fd = ch->master;
		res->in_fd = fcntl(ch->master, F_DUPFD_CLOEXEC, 0);
		res->err_fd = -1;
		ch->master = -1;
		if (res->in_fd < 0)
			return -1;
	} else {
		res->out_fd = ch->out[0];
		res->err_fd = ch->err[0];
		res->in_fd = ch->in[1];
		ch->out[0] = ch->err[0] = ch->in[1] = -1;
	}
	int fds[] = { res->out_fd, res->err_fd, res->in_fd };
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0 && fcntl(fds[i], F_SETFL, O_NONBLOCK) < 0)
			return -1;
	return 0;
}

/* Reads the child's failure report; 0 if exec succeeded (EOF). */
static int wait_exec(int report, pid_t pid, char *err, size_t errlen, unsigned *kind)
{
	struct child_fail f;
	ssize_t n;
	do
		n = read(report, &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(f))
		return 0;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	f.what[sizeof(f.what) - 1] = 0;
	*kind = f.kind;
	if (f.kind)
		snprintf(err, errlen, "%s", f.what);
	else
		snprintf(err, errlen, "%s: %s", f.what, strerror(f.err));
	return -(f.err ? f.err : EIO);
}

int spawn_process(const struct sm_exec_req *req, struct spawn_result *res,
		  char *err, size_t errlen)
{
	struct chans ch = { { -1, -1 }, { -1, -1 }, { -1, -1 }, -1, -1, -1 };
	int report[2] = { -1, -1 }, rc;
	const char *step;
	res->pid = -1;
	res->out_fd = res->err_fd = res->in_fd = -1;
	res->fail_kind = 0;
	if (make_chans(req, &ch, &step) || (step = "pipe", pipe2(report, O_CLOEXEC)) ||
	    (step = "fork", (res->pid = fork()) < 0)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", step, strerror(errno));
		goto out;
	}
	if (res->pid == 0) {
		struct child_io io;
		close(report[0]);
		child_io_of(&ch, report[1], &io);
		child_run(req, &io);
	}
	close_fd(&report[1]);
	rc = wait_exec(report[0], res->pid, err, errlen, &res->fail_kind);
	if (rc == 0 && parent_fds(&ch, res)) {
		rc = -errno;
		snprintf(err, errlen, "stdio setup: %s", strerror(errno));
		kill(res->pid, SIGKILL);
	}
out:
	close_chans(&ch);
	close_fd(&report[0]);
	close_fd(&report[1]);
	if (rc) {
		close_fd(&res->out_fd);
		close_fd(&res->err_fd);
		close_fd(&res->in_fd);
	}
	return rc;
}

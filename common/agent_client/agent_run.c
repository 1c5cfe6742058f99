/* agent_run.c - run one command in the guest like a local one (agent_run.h). */
#include "agent_run.h"

#include "agent_client.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* One exec's output relay. A reader that goes away (EPIPE: the caller
 * ignores SIGPIPE) gets the command a SIGPIPE, as a closed pipe would
 * here; later output is dropped. */
struct relay {
	const struct agent_run_opts *o;
	struct agent_client *c;
	bool reader_gone;
};

static void relay_write(struct relay *r, int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0 && !r->reader_gone) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r->reader_gone = true;
			if (errno == EPIPE)
				agent_client_signal(r->c, SIGPIPE);
			return;
		}
		c += w;
		n -= (size_t)w;
	}
}

static void on_stdout(void *o, const void *p, size_t n)
{
	struct relay *r = o;
	relay_write(r, r->o->stdout_fd, p, n);
}

static void on_stderr(void *o, const void *p, size_t n)
{
	struct relay *r = o;
	relay_write(r, r->o->stderr_fd, p, n);
}

static int exit_status(const struct agent_exec_result *r)
{
	if (r->timed_out)
		return 124;
	return r->signal ? 128 + r->signal : r->exit_code;
}

int agent_run(const struct agent_run_opts *o, char *err, size_t errlen)
{
	struct agent_client *c = agent_client_connect(o->vsock_path,
						      o->port ? o->port : SM_AGENT_PORT,
						      o->connect_timeout_ms, err, errlen);
	if (!c)
		return -1;
	int status = agent_run_on(c, o, err, errlen);
	agent_client_close(c);
	return status;
}

int agent_run_on(struct agent_client *c, const struct agent_run_opts *o, char *err,
		 size_t errlen)
{
	static const char *const default_env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "TERM=xterm", NULL };
	struct winsize ws = { 0 };
	if (o->pty && o->stdin_fd >= 0)
		ioctl(o->stdin_fd, TIOCGWINSZ, &ws);
	struct agent_exec_spec spec = {
		.argv = o->argv, .env = o->env ? o->env : default_env, .cwd = o->cwd,
		.uid = o->uid, .gid = o->gid,
		.timeout_ms = o->timeout_ms, .pty = o->pty, .rows = ws.ws_row,
		.cols = ws.ws_col, .stdin_fd = o->stdin_fd };
	struct relay relay = { .o = o, .c = c };
	struct agent_exec_io io = { .on_stdout = on_stdout, .on_stderr = on_stderr,
				    .opaque = &relay };
	struct agent_exec_result res;
	int status = -1;
	if (agent_client_exec(c, &spec, &io, &res) == 0)
		status = exit_status(&res);
	else
		snprintf(err, errlen, "%s", agent_client_error(c));
	if (o->shutdown_after && agent_client_shutdown(c, SM_SHUTDOWN_POWEROFF, 10000) &&
	    status >= 0)
		snprintf(err, errlen, "command done, but %s", agent_client_error(c));
	return status;
}

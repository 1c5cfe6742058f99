/* credhelper.c - Docker credential helpers (`credsStore`, `credHelpers` in
 * config.json): runs `docker-credential-<name> get` with the server on
 * stdin and reads {"Username": ..., "Secret": ...} from its stdout, as the
 * docker CLI does. The helper's stdin is a socket written with
 * MSG_NOSIGNAL, so a helper that exits early cannot SIGPIPE the daemon.
 */
#include "auth.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t spawn(const char *prog, int in, int out)
{
	pid_t pid = fork();

	if (pid == 0) {
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		execlp(prog, prog, "get", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Runs prog; its output (NUL-terminated) in buf; returns its exit status
 * (0-255, 128 when killed) or -1 with err set. */
static int run_helper(const char *prog, const char *server, char *buf, size_t len,
		      char *err, size_t errlen)
{
	int in[2], out[2];
	size_t got = 0;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
		return sm_err(err, errlen, "socketpair: %s", strerror(errno));
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return sm_err(err, errlen, "pipe: %s", strerror(errno));
	}
	pid_t pid = spawn(prog, in[1], out[1]);
	close(in[1]);
	close(out[1]);
	if (pid > 0 && send(in[0], server, strlen(server), MSG_NOSIGNAL) >= 0)
		shutdown(in[0], SHUT_WR);
	while (pid > 0 && got + 1 < len && (n = read(out[0], buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(in[0]);
	close(out[0]);
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return sm_err(err, errlen, "running %s: %s", prog, strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int sm_cred_helper_get(const char *helper, const char *server, char *user, size_t ulen,
		       char *pass, size_t plen, char *err, size_t errlen)
{
	char prog[256], out[1 << 14];

	if (!*helper || strchr(helper, '/'))
		return sm_err(err, errlen, "invalid credential helper name \"%s\"", helper);
	snprintf(prog, sizeof prog, "docker-credential-%s", helper);
	int st = run_helper(prog, server, out, sizeof out, err, errlen);
	if (st < 0)
		return -1;
	if (st == 127)
		return sm_err(err, errlen, "%s not found in PATH", prog);
	if (st != 0) {
		if (strstr(out, "credentials not found"))
			return 0;
		return sm_err(err, errlen, "%s get: exit %d: %.*s", prog, st,
			      (int)strcspn(out, "\n"), out);
	}
	json_t *root = json_loads(out, 0, NULL);
	const char *u = json_string_value(json_object_get(root, "Username"));
	const char *s = json_string_value(json_object_get(root, "Secret"));
	if (!u || !s) {
		json_decref(root);
		return sm_err(err, errlen, "%s get: no Username/Secret in its answer", prog);
	}
	snprintf(user, ulen, "%s", u);
	snprintf(pass, plen, "%s", s);
	json_decref(root);
	return 1;
}

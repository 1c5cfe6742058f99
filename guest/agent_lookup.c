/* agent_lookup.c - an exec's command found as docker finds it; see
 * agent_lookup.h. Messages follow Go's error texts (lower-case errno
 * strings), since that is what docker users read. */
#include "agent_lookup.h"
#include "agent_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Go's text for an errno: strerror with a lower-case first letter. */
static void errno_text(int err, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(err));
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
}

/* 0 when file is a regular file the caller may execute, else an errno
 * (EISDIR for a folder). */
static int executable(const char *file)
{
	struct stat st;
	if (stat(file, &st))
		return errno;
	if (S_ISDIR(st.st_mode))
		return EISDIR;
	if (faccessat(AT_FDCWD, file, X_OK, AT_EACCESS))
		return errno;
	return 0;
}

const char *env_path(char *const *env)
{
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], "PATH=", 5))
			return env[i] + 5;
	return SM_DEFAULT_PATH;
}

static int not_executable(const char *name, int err, char *msg, size_t msglen)
{
	char why[128];
	errno_text(err, why, sizeof why);
	snprintf(msg, msglen, "exec: \"%s\": %s", name, why);
	return SM_EXEC_NOT_EXECUTABLE;
}

static int with_slash(const char *name, char *out, size_t outlen, char *msg, size_t msglen)
{
	int err = executable(name);
	if (!err)
		return snprintf(out, outlen, "%s", name) < (int)outlen ? 0
			: not_executable(name, ENAMETOOLONG, msg, msglen);
	if (err == ENOENT || err == ENOTDIR) {
		char why[128];
		errno_text(err, why, sizeof why);
		snprintf(msg, msglen, "exec: \"%s\": stat %s: %s", name, name, why);
		return SM_EXEC_NOT_FOUND;
	}
	return not_executable(name, err, msg, msglen);
}

int command_lookup(const char *name, const char *path_env, char *out, size_t outlen,
		   char *msg, size_t msglen)
{
	if (strchr(name, '/'))
		return with_slash(name, out, outlen, msg, msglen);
	for (const char *p = path_env; p && *name; ) {
		size_t n = strcspn(p, ":");
		int len = n ? snprintf(out, outlen, "%.*s/%s", (int)n, p, name)
			    : snprintf(out, outlen, "./%s", name);
		if (len > 0 && (size_t)len < outlen && executable(out) == 0)
			return 0;
		if (!p[n])
			break;
		p += n + 1;
	}
	snprintf(msg, msglen, "exec: \"%s\": executable file not found in $PATH", name);
	return SM_EXEC_NOT_FOUND;
}

int command_exec_failure(const char *name, int err, char *msg, size_t msglen)
{
	char why[128];
	errno_text(err, why, sizeof why);
	snprintf(msg, msglen, "exec: \"%s\": %s", name, why);
	if (err == ENOENT || err == ENOTDIR)   /* e.g. its #! interpreter is missing */
		return SM_EXEC_NOT_FOUND;
	if (err == EACCES || err == ENOEXEC || err == EISDIR || err == EPERM)
		return SM_EXEC_NOT_EXECUTABLE;
	return 0;
}

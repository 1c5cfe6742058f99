/* listen.c - create or inherit the API socket (see listen.h). */
#include "daemon/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef __APPLE__
#include <launch.h>
#endif

#define SD_LISTEN_FDS_START 3

static int lerr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int lerr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void listener_init(struct sm_listener *l)
{
	memset(l, 0, sizeof *l);
	l->fd = -1;
	l->lock_fd = -1;
}

static int parse_env_uint(const char *name, unsigned long *out)
{
	const char *s = getenv(name);
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return (errno || *end) ? -1 : 0;
}

#ifdef __APPLE__
/* launchd (launchd/dev.supermachine.supermachined.plist): the socket named
 * "Listeners" in the plist's Sockets. ESRCH: not started by launchd. */
static int listener_from_launchd(struct sm_listener *l, char *err, size_t errlen)
{
	int *fds = NULL;
	size_t n = 0;
	int rc = launch_activate_socket("Listeners", &fds, &n);
	if (rc == ESRCH || rc == ENOENT)
		return 0;
	if (rc != 0 || n == 0)
		return lerr(err, errlen, "launch_activate_socket: %s", strerror(rc ? rc : ENOENT));
	for (size_t i = 1; i < n; i++)
		close(fds[i]);
	l->fd = fds[0];
	l->activated = true;
	free(fds);
	return 1;
}
#endif

int listener_from_systemd(struct sm_listener *l, char *err, size_t errlen)
{
	unsigned long pid, n;
	listener_init(l);
#ifdef __APPLE__
	return listener_from_launchd(l, err, errlen);
#endif
	if (parse_env_uint("LISTEN_PID", &pid) || pid != (unsigned long)getpid())
		return 0;
	if (parse_env_uint("LISTEN_FDS", &n) || n == 0)
		return lerr(err, errlen, "LISTEN_PID is ours but LISTEN_FDS is \"%s\"",
			    getenv("LISTEN_FDS") ? getenv("LISTEN_FDS") : "");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	int fd = SD_LISTEN_FDS_START, listening = 0;
	socklen_t len = sizeof listening;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
		return lerr(err, errlen, "socket activation: fd 3 is not a listening socket");
	for (unsigned long i = 1; i < n; i++)  /* only the first is used */
		close(SD_LISTEN_FDS_START + (int)i);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	l->fd = fd;
	l->activated = true;
	return 1;
}

static int mkdir_parents(const char *path, char *err, size_t errlen)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return lerr(err, errlen, "creating %s: %s", buf, strerror(errno));
		*p = '/';
	}
	return 0;
}

/* 1: somebody accepts on path, 0: stale or absent, -1: error. */
static int socket_is_live(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : lerr(err, errlen, "%s: %s", sa->sun_path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return lerr(err, errlen, "%s exists and is not a socket; not replacing it",
			    sa->sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return lerr(err, errlen, "socket: %s", strerror(errno));
	int rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	int e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN)
		return 1;
	if (e == ECONNREFUSED)
		return 0;
	return lerr(err, errlen, "probing %s: %s", sa->sun_path, strerror(e));
}

static int take_lock(struct sm_listener *l, const char *path, char *err, size_t errlen)
{
	char lock[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	snprintf(lock, sizeof lock, "%s.lock", path);
	l->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->lock_fd < 0)
		return lerr(err, errlen, "opening %s: %s", lock, strerror(errno));
	if (flock(l->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return lerr(err, errlen, errno == EWOULDBLOCK
			    ? "another supermachined holds %s; not taking its socket"
			    : "locking %s: %s", lock, strerror(errno));
	return 0;
}

static void set_group(const char *path)
{
	struct group gr, *res = NULL;
	char buf[4096];
	if (getgrnam_r("supermachine", &gr, buf, sizeof buf, &res) == 0 && res)
		if (chown(path, (uid_t)-1, res->gr_gid) < 0)
			fprintf(stderr, "supermachined: chgrp supermachine %s: %s\n", path,
				strerror(errno));
}

static int bind_socket(struct sm_listener *l, const struct sockaddr_un *sa,
		       char *err, size_t errlen)
{
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return lerr(err, errlen, "socket: %s", strerror(errno));
	mode_t old = umask(0177);
	int rc = bind(l->fd, (const struct sockaddr *)sa, sizeof *sa);
	int e = errno;
	umask(old);
	if (rc < 0)
		return lerr(err, errlen, "binding %s: %s", sa->sun_path, strerror(e));
	if (!(l->path = strdup(sa->sun_path)))
		return lerr(err, errlen, "out of memory");
	if (chmod(sa->sun_path, 0660) < 0)
		return lerr(err, errlen, "chmod %s: %s", sa->sun_path, strerror(errno));
	set_group(sa->sun_path);
	if (listen(l->fd, 128) < 0)
		return lerr(err, errlen, "listen on %s: %s", sa->sun_path, strerror(errno));
	return 0;
}

int listener_create(struct sm_listener *l, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	listener_init(l);
	if (strlen(path) >= sizeof sa.sun_path)
		return lerr(err, errlen, "socket path too long (max %zu bytes): %s",
			    sizeof sa.sun_path - 1, path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int rc = mkdir_parents(path, err, errlen);
	if (rc == 0)
		rc = take_lock(l, path, err, errlen);
	if (rc == 0) {
		int live = socket_is_live(&sa, err, errlen);
		if (live > 0)
			rc = lerr(err, errlen, "a live supermachined is already listening on %s; "
				  "not taking its socket", path);
		else if (live < 0)
			rc = -1;
		else if (unlink(path) == 0)
			l->replaced_stale = true;
	}
	if (rc == 0)
		rc = bind_socket(l, &sa, err, errlen);
	if (rc < 0)
		listener_close(l); /* unlinks path only if our bind made it */
	return rc;
}

void listener_close(struct sm_listener *l)
{
	if (l->path) {
		unlink(l->path);
		free(l->path);
		l->path = NULL;
	}
	if (l->fd >= 0)
		close(l->fd);
	if (l->lock_fd >= 0)
		close(l->lock_fd);
	l->fd = l->lock_fd = -1;
}

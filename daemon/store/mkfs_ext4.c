/* mkfs_ext4.c - sparse file + mke2fs (see mkfs_ext4.h). */
#include "mkfs_ext4.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* mke2fs lives in /usr/sbin, which a user's PATH may lack. */
static const char *mke2fs_path(void)
{
	static const char *const where[] = { "/usr/sbin/mke2fs", "/sbin/mke2fs" };
	for (size_t i = 0; i < sizeof where / sizeof where[0]; i++)
		if (access(where[i], X_OK) == 0)
			return where[i];
	return "mke2fs";
}

static int make_sparse(const char *path, uint64_t size_mib, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return sm_err(err, errlen, "create %s: %s", path, strerror(errno));
	if (ftruncate(fd, (off_t)(size_mib << 20)) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return sm_err(err, errlen, "size %s to %llu MiB: %s", path,
			      (unsigned long long)size_mib, strerror(e));
	}
	close(fd);
	return 0;
}

/* Runs argv with stderr (and stdout) into a pipe; 0 when it exits 0, else
 * -1 with its last output in err. */
static int run_capture(char *const argv[], char *err, size_t errlen)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sm_err(err, errlen, "pipe: %s", strerror(errno));
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc) {
		close(p[0]);
		return sm_err(err, errlen, "cannot run %s: %s (install e2fsprogs)", argv[0],
			      strerror(rc));
	}
	char out[512], drain[512];
	size_t n = 0;
	ssize_t r;
	for (;;) {   /* keeps the first line or so; drains the rest */
		bool full = n == sizeof out - 1;
		r = read(p[0], full ? drain : out + n, full ? sizeof drain : sizeof out - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (!full)
			n += (size_t)r;
	}
	close(p[0]);
	out[n] = 0;
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	out[strcspn(out, "\n")] = 0;
	return sm_err(err, errlen, "%s failed (%s %d)%s%s", argv[0],
		      WIFEXITED(st) ? "exit" : "signal",
		      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), n ? ": " : "", out);
}

int sm_mkfs_ext4(const char *path, uint64_t size_mib, bool journal, const char *label,
		 char *err, size_t errlen)
{
	if (make_sparse(path, size_mib, err, errlen) < 0)
		return -1;
	char *argv[16];
	int a = 0;
	argv[a++] = (char *)mke2fs_path();
	argv[a++] = "-q";
	argv[a++] = "-F";
	argv[a++] = "-t";
	argv[a++] = "ext4";
	argv[a++] = "-m";
	argv[a++] = "0";
	argv[a++] = "-E";
	argv[a++] = "lazy_itable_init=1,lazy_journal_init=1,root_owner=0:0";
	if (!journal) {
		argv[a++] = "-O";
		argv[a++] = "^has_journal";
	}
	if (label) {
		argv[a++] = "-L";
		argv[a++] = (char *)label;
	}
	argv[a++] = (char *)path;
	argv[a] = NULL;
	if (run_capture(argv, err, errlen) < 0) {
		unlink(path);
		return sm_err_prefix(err, errlen, "formatting %s: ", path);
	}
	return 0;
}

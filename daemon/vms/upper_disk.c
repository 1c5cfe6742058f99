/* upper_disk.c - the writable layers' templates and copies (upper_disk.h). */
#include "daemon/vms/upper_disk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXT4_MAGIC 0xEF53
#define SB_OFFSET 1024
#define MKE2FS_ERR_MAX 512

extern char **environ;

/* One template at a time: two VMs of a new size make it once. */
static pthread_mutex_t template_mu = PTHREAD_MUTEX_INITIALIZER;

/* A file of mib MiB starting with an ext4 superblock whose block count
 * says the same size. */
static bool template_ok(const char *path, unsigned mib)
{
	unsigned char sb[1024];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = fstat(fd, &st) == 0 && (uint64_t)st.st_size == (uint64_t)mib << 20 &&
		  pread(fd, sb, sizeof sb, SB_OFFSET) == (ssize_t)sizeof sb;
	close(fd);
	if (!ok || (sb[56] | sb[57] << 8) != EXT4_MAGIC)
		return false;
	uint64_t blocks = (uint32_t)(sb[4] | sb[5] << 8 | sb[6] << 16 | (uint32_t)sb[7] << 24);
	unsigned log = sb[24] | sb[25] << 8;   /* s_log_block_size: 1024 << log */
	return log <= 6 && blocks << (10 + log) == (uint64_t)mib << 20;
}

/* mke2fs, from PATH or the sbin folders (not always in a daemon's PATH). */
static const char *mke2fs_path(void)
{
	static const char *const dirs[] = { "/usr/sbin/mke2fs", "/sbin/mke2fs",
					    "/usr/local/sbin/mke2fs" };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		if (access(dirs[i], X_OK) == 0)
			return dirs[i];
	return "mke2fs";   /* posix_spawnp looks in PATH */
}

/* Runs mke2fs on the file path (already mib MiB): 0, or -1 with its
 * message in err. */
static int run_mke2fs(const char *path, char *err, size_t errlen)
{
	const char *argv[] = { mke2fs_path(), "-F", "-q", "-t", "ext4", "-O", "^has_journal",
			       "-m", "0", "-E", "lazy_itable_init=1", "-L", "sm-upper", path, NULL };
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return snprintf(err, errlen, "pipe: %s", strerror(errno)), -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		snprintf(err, errlen, "running %s (e2fsprogs): %s", argv[0], strerror(rc));
		return -1;
	}
	char out[MKE2FS_ERR_MAX] = "";
	size_t used = 0;
	ssize_t n;
	while ((n = read(pfd[0], out + used, sizeof out - 1 - used)) > 0 ||
	       (n < 0 && errno == EINTR))
		used += n > 0 ? (size_t)n : 0;
	close(pfd[0]);
	out[used] = 0;
	out[strcspn(out, "\n")] = 0;
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(err, errlen, "%s %s failed (%s %d)%s%s", argv[0], path,
		 WIFEXITED(status) ? "exit status" : "signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out[0] ? ": " : "",
		 out);
	return -1;
}

/* Makes the template at path through path.tmp: 0, or -1 with err. */
static int make_template(const char *path, unsigned mib, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return snprintf(err, errlen, "creating %s: %s", tmp, strerror(errno)), -1;
	int rc = ftruncate(fd, (off_t)((uint64_t)mib << 20));
	if (rc < 0)
		snprintf(err, errlen, "sizing %s to %u MiB: %s", tmp, mib, strerror(errno));
	close(fd);
	if (rc == 0)
		rc = run_mke2fs(tmp, err, errlen);
	if (rc == 0 && !template_ok(tmp, mib)) {
		snprintf(err, errlen, "%s: mke2fs left no ext4 file system of %u MiB", tmp, mib);
		rc = -1;
	}
	if (rc == 0 && (fd = open(tmp, O_RDONLY | O_CLOEXEC)) >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	if (rc == 0 && rename(tmp, path) < 0) {
		snprintf(err, errlen, "renaming %s to %s: %s", tmp, path, strerror(errno));
		rc = -1;
	}
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int upper_template(const char *dir, unsigned mib, char *path, size_t pathlen, char *err,
		   size_t errlen)
{
	char why[2 * PATH_MAX + MKE2FS_ERR_MAX + 256];
	if (mib < UPPER_MIN_MIB) {
		snprintf(err, errlen, "a writable layer of %u MiB: the least is %u MiB", mib,
			 UPPER_MIN_MIB);
		return -1;
	}
	int n = snprintf(path, pathlen, "%s/ext4-%uM.img", dir, mib);
	if (n < 0 || (size_t)n >= pathlen) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	pthread_mutex_lock(&template_mu);
	int rc = 0;
	if (!template_ok(path, mib)) {
		if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
			snprintf(why, sizeof why, "mkdir %s: %s", dir, strerror(errno));
			rc = -1;
		} else {
			rc = make_template(path, mib, why, sizeof why);
		}
		if (rc < 0)
			snprintf(err, errlen, "the writable layer's template of %u MiB: %s", mib, why);
	}
	pthread_mutex_unlock(&template_mu);
	return rc;
}

int upper_disk_create(const char *dir, unsigned mib, const char *dst, struct fc_stats *st,
		      char *err, size_t errlen)
{
	char tpl[PATH_MAX];
	if (upper_template(dir, mib, tpl, sizeof tpl, err, errlen) < 0)
		return -1;
	return fc_copy_path(tpl, dst, 0640, st, err, errlen);
}

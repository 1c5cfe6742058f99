/* upper_disk.c - the writable layers' templates and copies (upper_disk.h). */
#include "daemon/vms/upper_disk.h"
#include "daemon/store/mkfs_ext4.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXT4_MAGIC 0xEF53
#define SB_OFFSET 1024
#define MKE2FS_ERR_MAX 512

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

/* Makes the template at path through path.tmp: 0, or -1 with err. */
static int make_template(const char *path, unsigned mib, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	unlink(tmp);
	/* No journal: the layer goes with its VM. */
	int fd, rc = sm_mkfs_ext4(tmp, mib, false, "sm-upper", err, errlen);
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

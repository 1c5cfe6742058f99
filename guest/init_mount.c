/* init_mount.c - apply a MOUNT_FS request: a host folder shared over
 * virtio-fs, mounted by the agent itself (agent_proto.h).
 *
 * Images need not ship mount(8), so the agent does it: the request was
 * validated by the decoder (absolute path, no "." or ".."), then
 *   mkdir -p  every missing component of the path, mode 0755
 *   busy      the path (resolved) already a mount point of a virtiofs
 *             with the same tag: EBUSY (/proc/self/mountinfo)
 *   mount     mount(tag, path, "virtiofs", MS_NOSUID | MS_NODEV
 *             [| MS_RDONLY], NULL)
 * Returns 0 or the failing step's errno, with a message naming the path.
 */
#include "agent_proto.h"
#include "init_steps.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

int sys_make_dirs(const char *path, char *at, size_t atlen)
{
	char buf[SM_MOUNT_PATH_MAX];
	struct stat st;
	size_t n = strlen(path);
	if (n >= sizeof(buf))
		return ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		if (buf[i - 1] == '/')
			continue; /* repeated or trailing slash */
		char c = buf[i];
		buf[i] = 0;
		int e = 0;
		if (mkdir(buf, 0755) == 0)
			e = chmod(buf, 0755) ? errno : 0; /* whatever the umask */
		else if (errno != EEXIST)
			e = errno;
		else if (stat(buf, &st))
			e = errno;
		else if (!S_ISDIR(st.st_mode))
			e = ENOTDIR;
		if (e) {
			snprintf(at, atlen, "%s", buf);
			return e;
		}
		buf[i] = c;
	}
	return 0;
}

/* A mountinfo field with its \ooo escapes decoded, in place. */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

/* Is dir (resolved) a mount point of virtiofs `tag`? */
static bool mounted_here(const char *dir, const char *tag)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		char *save = NULL, *mnt = NULL, *fstype = NULL, *src = NULL;
		int field = 0;
		bool after_dash = false;
		line[strcspn(line, "\n")] = 0;
		for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save), field++) {
			if (field == 4)
				mnt = t;
			else if (!after_dash && field > 5 && !strcmp(t, "-"))
				after_dash = true;
			else if (after_dash && !fstype)
				fstype = t;
			else if (after_dash && !src)
				src = t;
		}
		if (!mnt || !fstype || !src || strcmp(fstype, "virtiofs"))
			continue;
		unescape(mnt);
		unescape(src);
		found = !strcmp(mnt, dir) && !strcmp(src, tag);
	}
	free(line);
	fclose(f);
	return found;
}

int sys_mount_fs(const struct sm_mount_req *req, char *err, size_t errlen)
{
	char at[SM_MOUNT_PATH_MAX], real[PATH_MAX];
	int e = sys_make_dirs(req->path, at, sizeof(at));
	if (e) {
		snprintf(err, errlen, "mount %s: mkdir %s: %s", req->path, at, strerror(e));
		return e;
	}
	if (!realpath(req->path, real)) {
		e = errno;
		snprintf(err, errlen, "mount %s: %s", req->path, strerror(e));
		return e;
	}
	if (mounted_here(real, req->tag)) {
		snprintf(err, errlen, "mount %s: %s is already mounted there", req->path, req->tag);
		return EBUSY;
	}
	unsigned long fl = MS_NOSUID | MS_NODEV;
	if (req->flags & SM_MOUNT_READONLY)
		fl |= MS_RDONLY;
	if (mount(req->tag, real, "virtiofs", fl, NULL) < 0) {
		e = errno;
		snprintf(err, errlen, "mount %s: virtiofs %s: %s", req->path, req->tag, strerror(e));
		return e;
	}
	return 0;
}

/* init_fsev.c - apply FS_EVENTS: host changes in a shared folder, made
 * visible in the guest (agent_proto.h).
 *
 * Each record becomes one write to /proc/sm-fsnotify, our guest kernel's
 * interface (guest/kernel/sm_fsnotify.c: "K T PATH[\0PATH2]"), which drops
 * the guest's cached entry, attributes and pages for the path and raises
 * the inotify events a local change would have raised. A record whose path
 * is gone again (ENOENT, ENOTDIR) is skipped: a later record says what
 * became of it. A kernel without that file (not our build) cannot do it:
 * ENOTSUP, and the host stops sending; the guest then sees host changes
 * only after the FUSE entry and attribute timeouts.
 */
#include "agent_proto.h"
#include "init_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FSNOTIFY_PROC "/proc/sm-fsnotify"

static const char kind_letter[] = {
	[SM_FSEV_CREATE] = 'c', [SM_FSEV_MODIFY] = 'm', [SM_FSEV_ATTRIB] = 'a',
	[SM_FSEV_DELETE] = 'd', [SM_FSEV_RENAME] = 'r', [SM_FSEV_RESCAN] = 's',
};

/* root + "/" + rel (or root alone for ""); lengths were checked. */
static size_t join(char *out, const char *root, const char *rel)
{
	size_t n = strlen(root);
	memcpy(out, root, n);
	while (n > 1 && out[n - 1] == '/')
		n--;
	if (rel[0]) {
		out[n++] = '/';
		size_t r = strlen(rel);
		memcpy(out + n, rel, r);
		n += r;
	}
	return n;
}

/* One record to the kernel: 0, or its errno. */
static int apply_one(int fd, const char *root, const struct sm_fsev *ev)
{
	static char rec[3 + 2 * SM_MOUNT_PATH_MAX + 2];
	rec[0] = kind_letter[ev->kind];
	rec[1] = (ev->flags & SM_FSEV_DIR) ? 'd' : '-';
	rec[2] = ' ';
	size_t n = 3 + join(rec + 3, root, ev->path);
	if (ev->kind == SM_FSEV_RENAME) {
		rec[n++] = 0;
		n += join(rec + n, root, ev->path2);
	}
	return write(fd, rec, n) == (ssize_t)n ? 0 : errno;
}

int sys_fs_events(const struct sm_fsev_req *req, char *err, size_t errlen)
{
	static int fd = -1;
	if (fd < 0)
		fd = open(FSNOTIFY_PROC, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s (the guest kernel cannot raise host changes; "
			 "supermachine's own kernel can)", FSNOTIFY_PROC, strerror(e));
		return e == ENOENT ? ENOTSUP : e;
	}
	for (uint32_t i = 0; i < req->n; i++) {
		int e = apply_one(fd, req->root, &req->ev[i]);
		if (e && e != ENOENT && e != ENOTDIR && e != ESTALE) {
			snprintf(err, errlen, "%s: %s %s%s%s: %s", FSNOTIFY_PROC,
				 req->root, req->ev[i].path, req->ev[i].path2[0] ? " -> " : "",
				 req->ev[i].path2, strerror(e));
			return e;
		}
	}
	return 0;
}

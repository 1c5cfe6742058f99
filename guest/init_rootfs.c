/* init_rootfs.c - the image's root: read-only disks + a writable upper, overlaid.
 *
 * Layout while still in the initramfs:
 *   /sm/lower  the disk (erofs, else ext4), read-only; or, with sm.layers=N,
 *   /sm/l/0..N-1 the layers: partitions /dev/vda1..vdaN of the one layers
 *              disk (lowest first; devtmpfs names those past 15 too), given
 *              to overlayfs topmost first (lowerdir=/sm/l/N-1:...:/sm/l/0:
 *              127 layers take about 1.2 KiB of mount(2)'s 4 KiB of options)
 *   /sm/rw     the writable layer holding upper/ and work/: with
 *              sm.upper=vdX the VM's own ext4 disk /dev/vdX (its size is
 *              the VM's storage: a full disk is ENOSPC in the guest), else
 *              a tmpfs in guest RAM (the VMM's run mode, older snapshots).
 *              A restored VM finds upper/ and work/ there already.
 *   /sm/root   overlay(lower, upper) -> becomes "/"
 * /proc, /sys and /dev are moved into the new root, which then replaces the
 * initramfs with MS_MOVE + chroot (pivot_root cannot leave an initramfs).
 * Just before that, the initramfs's files (init, modules: a few MiB of RAM)
 * are deleted, never descending into another filesystem.
 */
#include "init_steps.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* lowerdir of INIT_MAX_LAYERS dirs "/sm/l/N" (at most 10 bytes each with
 * the colon), well inside mount(2)'s one page of options. */
#define LOWERDIR_MAX 2048

static int fail(char *err, size_t errlen, const char *what, const char *arg)
{
	snprintf(err, errlen, "%s %s: %s", what, arg, strerror(errno));
	return -1;
}

static int mount_lower(const char *dev, const char *dir, char *err, size_t errlen)
{
	static const char *const types[] = { "erofs", "ext4" };
	mkdir("/sm", 0755);
	mkdir(dir, 0755);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (mount(dev, dir, types[i], MS_RDONLY, NULL) == 0)
			return 0;
	return fail(err, errlen, "mount (erofs or ext4, read-only)", dev);
}

/* Mounts the lower dirs; lowerdir gets overlayfs's list, topmost first. */
static int mount_lowers(const char *dev, unsigned layers, char *lowerdir, size_t len,
			char *err, size_t errlen)
{
	if (!layers) {
		snprintf(lowerdir, len, "/sm/lower");
		return mount_lower(dev, "/sm/lower", err, errlen);
	}
	size_t used = 0;
	mkdir("/sm", 0755);
	mkdir("/sm/l", 0755);
	for (unsigned i = 0; i < layers; i++) {
		char part[48], dir[32];
		snprintf(part, sizeof(part), "%s%u", dev, i + 1);
		snprintf(dir, sizeof(dir), "/sm/l/%u", i);
		if (mount_lower(part, dir, err, errlen))
			return -1;
	}
	for (unsigned i = layers; i-- > 0;) {
		int n = snprintf(lowerdir + used, len - used, "%s/sm/l/%u", used ? ":" : "", i);
		if (n < 0 || (size_t)n >= len - used) {
			snprintf(err, errlen, "%u layers: the overlay's lowerdir is too long", layers);
			return -1;
		}
		used += (size_t)n;
	}
	return 0;
}

/* /sm/rw: the ext4 on /dev/<upper>, or a tmpfs. */
static int mount_rw(const char *upper, char *err, size_t errlen)
{
	char dev[32];
	if (!upper[0]) {
		if (mount("tmpfs", "/sm/rw", "tmpfs", 0, "mode=0755"))
			return fail(err, errlen, "mount tmpfs on", "/sm/rw");
		return 0;
	}
	snprintf(dev, sizeof(dev), "/dev/%s", upper);
	/* noatime: reads never write; the inode tables are zeroed already
	 * (a sparse template), nothing for a lazy init thread to do */
	if (mount(dev, "/sm/rw", "ext4", MS_NOATIME, "noinit_itable"))
		return fail(err, errlen, "mount ext4 (the writable layer)", dev);
	return 0;
}

static int mount_overlay(const char *lowerdir, const char *upper, char *err, size_t errlen)
{
	char opts[LOWERDIR_MAX + 128];
	mkdir("/sm/rw", 0755);
	mkdir("/sm/root", 0755);
	if (mount_rw(upper, err, errlen))
		return -1;
	if ((mkdir("/sm/rw/upper", 0755) && errno != EEXIST) ||
	    (mkdir("/sm/rw/work", 0755) && errno != EEXIST))
		return fail(err, errlen, "mkdir", "/sm/rw/upper|work");
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=/sm/rw/upper,workdir=/sm/rw/work",
		 lowerdir);
	if (mount("overlay", "/sm/root", "overlay", 0, opts))
		return fail(err, errlen, "mount overlay on", "/sm/root");
	return 0;
}

static int move_into(const char *from, const char *to, char *err, size_t errlen)
{
	mkdir(to, 0755);
	if (mount(from, to, NULL, MS_MOVE, NULL))
		return fail(err, errlen, "move mount", from);
	return 0;
}

/* Deletes everything under dirfd that lives on device dev. */
static void delete_tree(int dirfd, dev_t dev)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;
	if (!d) {
		close(dirfd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) || st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						 O_CLOEXEC);
			if (sub >= 0)
				delete_tree(sub, dev);
			unlinkat(dirfd, e->d_name, AT_REMOVEDIR); /* fails for mount points */
		} else {
			unlinkat(dirfd, e->d_name, 0);
		}
	}
	closedir(d);
}

static void free_initramfs(void)
{
	struct stat st;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st)) {
		close(fd);
		return;
	}
	delete_tree(fd, st.st_dev);
}

int rootfs_switch(const char *dev, unsigned layers, const char *upper, char *err,
		  size_t errlen)
{
	char lowerdir[LOWERDIR_MAX];
	if (mount_lowers(dev, layers, lowerdir, sizeof(lowerdir), err, errlen) ||
	    mount_overlay(lowerdir, upper, err, errlen) ||
	    move_into("/dev", "/sm/root/dev", err, errlen) ||
	    move_into("/proc", "/sm/root/proc", err, errlen) ||
	    move_into("/sys", "/sm/root/sys", err, errlen))
		return -1;
	mkdir("/sm/root/tmp", 01777);
	free_initramfs();
	if (chdir("/sm/root"))
		return fail(err, errlen, "chdir", "/sm/root");
	if (mount(".", "/", NULL, MS_MOVE, NULL))
		return fail(err, errlen, "move mount", "/sm/root to /");
	if (chroot(".") || chdir("/"))
		return fail(err, errlen, "chroot", "/sm/root");
	return 0;
}

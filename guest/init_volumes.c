/* init_volumes.c - named volumes: the daemon attaches each as one more
 * virtio-blk disk (ext4) and says on the kernel command line where it
 * goes, "sm.vol=vdc:rw:/data" (daemon/vms/vms_volumes.c). Once the root is
 * switched, each is mounted at its path, created (0755) when missing, with
 * nosuid and nodev, read-only for :ro. A volume that cannot be mounted
 * stops the boot (init.c powers off; the console says why): a program
 * must never write into the overlay thinking it is the volume.
 *
 * At a clean power off (the agent's SHUTDOWN) each read-write volume is
 * unmounted, so it is left clean: ext4 cannot mount a disk whose journal
 * needs replaying from a read-only device, which is what a later :ro
 * attach gets. A VM that dies otherwise leaves the journal to the next
 * read-write mount.
 */
#include "init_cmdline.h"
#include "init_steps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>

int volumes_mount(const struct init_opts *o, char *err, size_t errlen)
{
	int rc = 0;
	for (uint32_t i = 0; i < o->n_vols; i++) {
		const struct init_volume *v = &o->vols[i];
		char dev[32], at[INIT_VOLUME_PATH_MAX];
		snprintf(dev, sizeof(dev), "/dev/%s", v->dev);
		int e = sys_make_dirs(v->path, at, sizeof(at));
		unsigned long flags = MS_NOSUID | MS_NODEV | (v->readonly ? MS_RDONLY : 0);
		if (e)
			snprintf(err, errlen, "volume %s: mkdir %s: %s", v->path, at, strerror(e));
		else if (mount(dev, v->path, "ext4", flags, NULL))
			snprintf(err, errlen, "volume %s: mount %s (ext4%s): %s", v->path, dev,
				 v->readonly ? ", read-only" : "", strerror(e = errno));
		if (e)
			rc = -1;
	}
	return rc;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

void volumes_unmount(const struct init_opts *o)
{
	for (uint32_t i = 0; i < o->n_vols; i++) {
		const struct init_volume *v = &o->vols[i];
		if (v->readonly)
			continue;
		int tries = 100;   /* 2 s for the killed processes to let go */
		while (umount2(v->path, 0) < 0 && errno == EBUSY && --tries > 0)
			nap_ms(20);
		if (tries == 0 &&
		    mount(NULL, v->path, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
			fprintf(stderr, "supermachine-init: volume %s: cannot unmount or remount "
				"read-only: %s\n", v->path, strerror(errno));
	}
}

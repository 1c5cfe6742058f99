/* init_volumes.c - named volumes: the daemon attaches each as one more
 * virtio-blk disk (ext4) and says on the kernel command line where it
 * goes, "sm.vol=vdc:rw:/data" (daemon/vms/vms_volumes.c). Once the root is
 * switched, each is mounted at its path, created (0755) when missing, with
 * nosuid and nodev, read-only for :ro. A volume that cannot be mounted is
 * printed on the console; the VM still boots (the daemon's checks happen
 * before, so this is a broken disk).
 */
#include "init_cmdline.h"
#include "init_steps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

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

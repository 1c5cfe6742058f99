/* vms_upper.c - a VM's writable layer disk (upper_disk.h) before it starts:
 * a booted VM's is a copy of the template of its size; a VM restored from
 * a snapshot (a bake, a fork's, a user's) gets a copy of the snapshot's
 * upper.img, the disk as it was when the VM was paused for the save, so
 * each restored VM writes on its own copy. A snapshot from before these
 * disks has none (storage 0): its VMs keep the tmpfs upper in their RAM.
 */
#include "daemon/vms/vms_int.h"

#include <stdio.h>
#include <time.h>

#define SLOW_COPY_MS 200   /* copies slower than this are logged */

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

unsigned vms_storage_mib(struct vms *v, const struct vm_spec *spec)
{
	return spec->storage_mib ? spec->storage_mib : v->cfg.default_storage_mib;
}

unsigned snap_storage_mib(struct vms *v, const char *name)
{
	pthread_mutex_lock(&v->mu);
	struct vm_snap *s = snap_find_locked(v, name);
	unsigned mib = s ? s->storage_mib : 0;
	pthread_mutex_unlock(&v->mu);
	return mib;
}

int upper_prepare(struct vms *v, struct vm_rec *r, char *err, size_t errlen)
{
	struct fc_stats st;
	char src[PATH_MAX + 16], why[PATH_MAX * 2 + 256];
	if (!r->storage_mib)
		return 0;
	long t0 = mono_ms();
	int rc;
	if (r->restore_dir) {
		snprintf(src, sizeof src, "%s/" UPPER_DISK_NAME, r->restore_dir);
		rc = fc_copy_path(src, r->upper, 0640, &st, why, sizeof why);
	} else {
		snprintf(src, sizeof src, "the template");
		rc = upper_disk_create(v->templates_dir, r->storage_mib, r->upper, &st, why,
				       sizeof why);
	}
	if (rc < 0) {
		snprintf(err, errlen, "the VM's writable layer (%u MiB): %s", r->storage_mib, why);
		return -1;
	}
	long ms = mono_ms() - t0;
	if (ms >= SLOW_COPY_MS)
		fprintf(stderr, "supermachined: VM %s: writable layer from %s by %s (%llu KiB of "
			"data) took %ld ms\n", r->id, src, fc_how_name(st.how),
			(unsigned long long)(st.data_bytes >> 10), ms);
	return 0;
}

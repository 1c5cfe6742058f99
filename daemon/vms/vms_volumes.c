/* vms_volumes.c - a VM's named volumes: who holds which, and how they
 * reach the guest.
 *
 * A volume (daemon/store/volumes.h) is attached to the VMM as one more
 * read-write (or read-only) virtio-blk disk after the image's and the
 * writable layer's, and the guest's init mounts it at its path: the kernel
 * command line says "sm.vol=vdX:rw:/path" per volume (guest/init_rootfs.c).
 * Paths were checked by the API: absolute, normalized, without spaces,
 * commas or colons, so they fit a command line word.
 *
 * Conflicts are decided under vms->mu when the VM joins the list: a
 * volume is attached read-write to one live VM (starting, running or
 * stopping) at a time, or read-only to any number. A VM holds its volumes
 * until it is removed, so `volume rm` waits for that (vms_volume_user).
 */
#include "daemon/vms/vms_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int volumes_copy(struct vm_rec *r, const struct vm_volume *vols, size_t n)
{
	for (size_t i = 0; i < n && i < VM_MAX_VOLUMES; i++) {
		struct vm_volume *d = &r->volumes[r->n_volumes++];
		d->name = strdup(vols[i].name);
		d->disk = strdup(vols[i].disk ? vols[i].disk : "");
		d->guest_path = strdup(vols[i].guest_path);
		d->readonly = vols[i].readonly;
		if (!d->name || !d->disk || !d->guest_path)
			return -1;
	}
	return 0;
}

void volumes_free(struct vm_rec *r)
{
	for (size_t i = 0; i < r->n_volumes; i++) {
		free((char *)r->volumes[i].name);
		free((char *)r->volumes[i].disk);
		free((char *)r->volumes[i].guest_path);
	}
	r->n_volumes = 0;
}

json_t *volumes_json(const struct vm_rec *r)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < r->n_volumes; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:b}", "name", r->volumes[i].name,
			"path", r->volumes[i].guest_path, "readonly", r->volumes[i].readonly));
	return arr ? arr : json_array();
}

/* A previous run's record holds its volumes too (until it is removed). */
void volumes_from_json(struct vm_rec *r, json_t *arr)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		struct vm_volume vol = {
			.name = json_string_value(json_object_get(e, "name")),
			.guest_path = json_string_value(json_object_get(e, "path")),
			.readonly = json_is_true(json_object_get(e, "readonly")),
		};
		if (vol.name && vol.guest_path && r->n_volumes < VM_MAX_VOLUMES &&
		    volumes_copy(r, &vol, 1) < 0)
			break;
	}
}

static const struct vm_volume *find(const struct vm_rec *r, const char *name)
{
	for (size_t i = 0; i < r->n_volumes; i++)
		if (!strcmp(r->volumes[i].name, name))
			return &r->volumes[i];
	return NULL;
}

int volumes_check_locked(struct vms *v, const struct vm_rec *r, char *err, size_t errlen)
{
	for (size_t i = 0; i < r->n_volumes; i++) {
		const struct vm_volume *mine = &r->volumes[i];
		for (size_t j = 0; j < v->n; j++) {
			const struct vm_rec *o = v->recs[j];
			const struct vm_volume *theirs = find(o, mine->name);
			if (!theirs || o->state > VM_STOPPING || (mine->readonly && theirs->readonly))
				continue;
			snprintf(err, errlen, "volume %s is attached %s to VM %.12s; a volume is "
				 "attached read-write to one running VM at a time (or read-only "
				 "to any number)", mine->name,
				 theirs->readonly ? "read-only" : "read-write", o->id);
			return -1;
		}
	}
	return 0;
}

bool vms_volume_user(struct vms *v, const char *name, char *id, size_t len)
{
	bool found = false;
	pthread_mutex_lock(&v->mu);
	for (size_t j = 0; j < v->n && !found; j++)
		if (find(v->recs[j], name)) {
			snprintf(id, len, "%s", v->recs[j]->id);
			found = true;
		}
	pthread_mutex_unlock(&v->mu);
	return found;
}

void volumes_vmm_args(const struct vm_rec *r, char bufs[][PATH_MAX + 4], const char **argv,
		      size_t *a)
{
	for (size_t i = 0; i < r->n_volumes; i++) {
		snprintf(bufs[i], PATH_MAX + 4, "%s%s", r->volumes[i].disk,
			 r->volumes[i].readonly ? ",ro" : "");
		argv[(*a)++] = "--disk";
		argv[(*a)++] = bufs[i];
	}
}

void volumes_cmdline(const struct vm_rec *r, unsigned first_disk, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < r->n_volumes && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, " sm.vol=vd%c:%s:%s",
					 'a' + (int)(first_disk + i),
					 r->volumes[i].readonly ? "ro" : "rw",
					 r->volumes[i].guest_path);
}

/* devices.c - build a VM's virtio devices from the command line (devices.h). */
#include "daemon/vm/virtio/devices.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int virtio_opts_add_disk(struct virtio_opts *o, const char *arg, struct vm_err *err)
{
	if (o->ndisks >= VIRTIO_MAX_DISKS)
		return vm_errf(err, "--disk: at most %d disks", VIRTIO_MAX_DISKS);
	struct virtio_disk_opt *d = &o->disk[o->ndisks];
	size_t len = strlen(arg);
	d->readonly = false;
	if (len > 3 && strcmp(arg + len - 3, ",ro") == 0) {
		d->readonly = true;
		len -= 3;
	} else if (len > 3 && strcmp(arg + len - 3, ",rw") == 0) {
		len -= 3;
	}
	if (len == 0 || len >= sizeof(d->path))
		return vm_errf(err, "--disk %s: want PATH[,ro]", arg);
	memcpy(d->path, arg, len);
	d->path[len] = 0;
	o->ndisks++;
	return 0;
}

int virtio_opts_set_cid(struct virtio_opts *o, const char *arg, struct vm_err *err)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || v < 3 || v > UINT32_MAX - 1)
		return vm_errf(err, "--cid %s: want 3..4294967294", arg);
	o->cid = v;
	return 0;
}

int virtio_devices_attach(struct vm *vm, const struct virtio_opts *o, struct virtio_devices *d,
			  struct vm_err *err)
{
	memset(d, 0, sizeof(*d));
	for (int i = 0; i < o->ndisks; i++) {
		d->blk[i] = virtio_blk_create(vm, o->disk[i].path, o->disk[i].readonly, err);
		if (!d->blk[i])
			goto fail;
		d->nblk++;
	}
	if (!(d->rng = virtio_rng_create(vm, err)))
		goto fail;
	if (o->vsock_path) {
		d->vsock = virtio_vsock_create(vm, o->cid ? o->cid : VIRTIO_DEFAULT_CID,
					       o->vsock_path, err);
		if (!d->vsock)
			goto fail;
	}
	return 0;
fail:
	virtio_devices_free(vm, d);
	return -1;
}

void virtio_devices_free(struct vm *vm, struct virtio_devices *d)
{
	for (int i = 0; i < d->nblk; i++)
		virtio_blk_free(vm, d->blk[i]);
	virtio_rng_free(vm, d->rng);
	virtio_vsock_free(vm, d->vsock);
	memset(d, 0, sizeof(*d));
}

/* Call fn for every device's transport, disks first, with its kind and a
 * word for the log ("(ro)"/"(rw)" for disks). */
typedef void (*transport_fn)(struct virtio_mmio *t, int kind, const char *what, void *opaque);

static void each_transport(const struct virtio_devices *d, transport_fn fn, void *opaque)
{
	for (int i = 0; i < d->nblk; i++)
		fn(&d->blk[i]->t, VIRTIO_KIND_BLK, d->blk[i]->disk.readonly ? "(ro)" : "(rw)",
		   opaque);
	if (d->rng)
		fn(&d->rng->t, VIRTIO_KIND_RNG, "", opaque);
	if (d->vsock)
		fn(&d->vsock->t, VIRTIO_KIND_VSOCK, "", opaque);
}

static void print_stats(struct virtio_mmio *t, int kind, const char *what, void *opaque)
{
	virtio_print_stats(t, what);
}

void virtio_devices_stats(const struct virtio_devices *d)
{
	each_transport(d, print_stats, NULL);
}

static void dump(struct virtio_mmio *t, int kind, const char *what, void *opaque)
{
	virtio_mmio_dump(t, what);
}

void virtio_devices_dump(const struct virtio_devices *d)
{
	each_transport(d, dump, NULL);
}

static void add_counts(struct virtio_mmio *t, int kind, const char *what, void *opaque)
{
	struct virtio_counts *c = opaque;
	uint64_t n, i;
	virtio_mmio_counts(t, &n, &i);
	c->notify[kind] += n;
	c->irq[kind] += i;
}

void virtio_devices_counts(const struct virtio_devices *d, struct virtio_counts *c)
{
	memset(c, 0, sizeof(*c));
	each_transport(d, add_counts, c);
}

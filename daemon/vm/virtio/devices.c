/* devices.c - build a VM's virtio devices from the command line (devices.h). */
#include "daemon/vm/virtio/devices.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/net/net_mac.h"
#include "daemon/vm/snapshot/snap_buf.h"

/* Splits "PATH[,ro|,rw]" into path (cap bytes) and readonly; false if
 * the path is empty or too long. */
static bool split_mode(const char *arg, char *path, size_t cap, bool *readonly)
{
	size_t len = strlen(arg);
	*readonly = false;
	if (len > 3 && strcmp(arg + len - 3, ",ro") == 0) {
		*readonly = true;
		len -= 3;
	} else if (len > 3 && strcmp(arg + len - 3, ",rw") == 0) {
		len -= 3;
	}
	if (len == 0 || len >= cap)
		return false;
	memcpy(path, arg, len);
	path[len] = 0;
	return true;
}

int virtio_opts_add_layer(struct virtio_opts *o, const char *arg, struct vm_err *err)
{
	if (o->nlayers >= BLK_MAX_LAYERS)
		return vm_errf(err, "--layer: at most %d layers", BLK_MAX_LAYERS);
	if (!arg[0])
		return vm_errf(err, "--layer: want PATH");
	o->layer[o->nlayers++] = arg;
	return 0;
}

int virtio_opts_add_disk(struct virtio_opts *o, const char *arg, struct vm_err *err)
{
	if (o->ndisks >= VIRTIO_MAX_DISKS)
		return vm_errf(err, "--disk: at most %d disks", VIRTIO_MAX_DISKS);
	struct virtio_disk_opt *d = &o->disk[o->ndisks];
	if (!split_mode(arg, d->path, sizeof(d->path), &d->readonly))
		return vm_errf(err, "--disk %s: want PATH[,ro]", arg);
	o->ndisks++;
	return 0;
}

int virtio_opts_add_fs(struct virtio_opts *o, const char *arg, struct vm_err *err)
{
	if (o->nfs >= VIRTIO_MAX_FS)
		return vm_errf(err, "--fs: at most %d shared folders", VIRTIO_MAX_FS);
	struct virtio_fs_opt *f = &o->fs[o->nfs];
	const char *eq = strchr(arg, '=');
	size_t tlen = eq ? (size_t)(eq - arg) : strlen(arg);
	if (tlen == 0 || tlen > FS_TAG_MAX)
		return vm_errf(err, "--fs %s: want TAG[=FOLDER[,ro]], TAG 1-%d bytes", arg,
			       FS_TAG_MAX);
	memset(f, 0, sizeof(*f));
	memcpy(f->tag, arg, tlen);
	for (int i = 0; i < o->nfs; i++)
		if (!strcmp(o->fs[i].tag, f->tag))
			return vm_errf(err, "--fs %s: tag %s given twice", arg, f->tag);
	if (eq && !split_mode(eq + 1, f->path, sizeof(f->path), &f->readonly))
		return vm_errf(err, "--fs %s: want TAG[=FOLDER[,ro]]", arg);
	o->nfs++;
	return 0;
}

int virtio_opts_add_fs_allow(struct virtio_opts *o, const char *arg, struct vm_err *err)
{
	if (o->nallow >= VIRTIO_MAX_FS_ALLOW)
		return vm_errf(err, "--fs-allow: at most %d folders", VIRTIO_MAX_FS_ALLOW);
	struct virtio_fs_opt *f = &o->allow[o->nallow];
	memset(f, 0, sizeof(*f));
	if (!split_mode(arg, f->path, sizeof(f->path), &f->readonly))
		return vm_errf(err, "--fs-allow %s: want FOLDER[,ro]", arg);
	o->nallow++;
	return 0;
}

void virtio_opts_folders(const struct virtio_opts *o, struct jail_folders *f)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < o->nfs && f->n < JAIL_MAX_FOLDERS; i++) {
		if (!o->fs[i].path[0])
			continue;
		f->path[f->n] = o->fs[i].path;
		f->readonly[f->n++] = o->fs[i].readonly;
	}
	for (int i = 0; i < o->nallow && f->n < JAIL_MAX_FOLDERS; i++) {
		f->path[f->n] = o->allow[i].path;
		f->readonly[f->n++] = o->allow[i].readonly;
	}
}

int virtio_opts_set_net(struct virtio_opts *o, const char *arg, struct vm_err *err)
{
	char why[160];
	if (o->net)
		return vm_errf(err, "--net %s: given twice (a VM has one network device)", arg);
	if (net_mac_parse(arg, o->net_mac, why, sizeof why) < 0)
		return vm_errf(err, "--net: %s", why);
	o->net = true;
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
	if (o->nlayers) {
		d->blk[0] = virtio_blk_create_layers(vm, o->layer, o->nlayers, err);
		if (!d->blk[0])
			goto fail;
		d->nblk++;
	}
	for (int i = 0; i < o->ndisks; i++) {
		d->blk[d->nblk] = virtio_blk_create(vm, o->disk[i].path, o->disk[i].readonly, err);
		if (!d->blk[d->nblk])
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
	for (int i = 0; i < o->nfs; i++) {
		const struct virtio_fs_opt *f = &o->fs[i];
		d->fs[i] = virtio_fs_create(vm, f->tag, f->path[0] ? f->path : NULL, f->readonly,
					    err);
		if (!d->fs[i])
			goto fail;
		d->nfs++;
	}
	if (o->net && !(d->net = virtio_net_create(vm, o->net_mac, err)))
		goto fail;
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
	for (int i = 0; i < d->nfs; i++)
		virtio_fs_free(vm, d->fs[i]);
	virtio_net_free(vm, d->net);
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
	for (int i = 0; i < d->nfs; i++)
		fn(&d->fs[i]->t, VIRTIO_KIND_FS, d->fs[i]->tag, opaque);
	if (d->net)
		fn(&d->net->t, VIRTIO_KIND_NET, "", opaque);
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

static void lock_one(struct virtio_mmio *t, int kind, const char *what, void *opaque)
{
	pthread_mutex_lock(&t->lock);
}

static void unlock_one(struct virtio_mmio *t, int kind, const char *what, void *opaque)
{
	pthread_mutex_unlock(&t->lock);
}

void virtio_devices_lock(struct virtio_devices *d)
{
	each_transport(d, lock_one, NULL);
}

void virtio_devices_unlock(struct virtio_devices *d)
{
	each_transport(d, unlock_one, NULL);
}

/* ---- snapshots: section "VDEV" version 1 ----
 * u32 count, u32 virtio device id per device in attach order (disks, rng,
 * vsock, fs, net), then each device's own section in that order. A VM
 * without net lists and writes exactly what it did before net existed. */
#define DEVS_TAG     SNAP_TAG('V', 'D', 'E', 'V')
#define DEVS_VERSION 1
#define MAX_DEVS     (VIRTIO_MAX_DISKS + 1 + 2 + VIRTIO_MAX_FS + 1)

static int device_ids(const struct virtio_devices *d, uint32_t ids[MAX_DEVS])
{
	int n = 0;
	for (int i = 0; i < d->nblk; i++)
		ids[n++] = VIRTIO_ID_BLOCK;
	if (d->rng)
		ids[n++] = VIRTIO_ID_RNG;
	if (d->vsock)
		ids[n++] = VIRTIO_ID_VSOCK;
	for (int i = 0; i < d->nfs; i++)
		ids[n++] = VIRTIO_ID_FS;
	if (d->net)
		ids[n++] = VIRTIO_ID_NET;
	return n;
}

int virtio_devices_save(struct virtio_devices *d, struct snap_writer *w, struct vm_err *err)
{
	uint32_t ids[MAX_DEVS];
	int n = device_ids(d, ids);
	size_t h = snap_begin(w, DEVS_TAG, DEVS_VERSION);
	snap_put_u32(w, (uint32_t)n);
	for (int i = 0; i < n; i++)
		snap_put_u32(w, ids[i]);
	for (int i = 0; i < d->nblk; i++)
		virtio_blk_save(d->blk[i], w);
	if (d->rng)
		virtio_rng_save(d->rng, w);
	if (d->vsock)
		virtio_vsock_save(d->vsock, w);
	for (int i = 0; i < d->nfs; i++)
		virtio_fs_save(d->fs[i], w);
	if (d->net)
		virtio_net_save(d->net, w);
	snap_end(w, h);
	return w->oom ? vm_errf(err, "virtio devices: out of memory for the snapshot") : 0;
}

static const char *kind_name(uint32_t id)
{
	switch (id) {
	case VIRTIO_ID_BLOCK: return "blk";
	case VIRTIO_ID_RNG: return "rng";
	case VIRTIO_ID_VSOCK: return "vsock";
	case VIRTIO_ID_FS: return "fs";
	case VIRTIO_ID_NET: return "net";
	}
	return NULL;
}

/* "blk, blk, rng, vsock, fs, net" */
static void list_text(const uint32_t *ids, int n, char *out, size_t cap)
{
	size_t len = 0;
	out[0] = 0;
	for (int i = 0; i < n && len < cap; i++) {
		uint32_t id = ids[i];
		const char *name = kind_name(id);
		int k = name ? snprintf(out + len, cap - len, "%s%s", i ? ", " : "", name)
			     : snprintf(out + len, cap - len, "%sid %u", i ? ", " : "", id);
		len += k > 0 ? (size_t)k : 0;
	}
}

/* When the lists differ only by a last net device: which way. */
static const char *net_hint(const uint32_t *got, uint32_t n, const uint32_t *want, int nwant)
{
	if (n == (uint32_t)nwant + 1 && got[n - 1] == VIRTIO_ID_NET &&
	    !memcmp(got, want, (size_t)nwant * sizeof(got[0])))
		return ": the snapshot was made with --net, restore it with --net MAC";
	if (nwant > 0 && n + 1 == (uint32_t)nwant && want[n] == VIRTIO_ID_NET &&
	    !memcmp(got, want, n * sizeof(got[0])))
		return ": the snapshot was made without --net, restore it without";
	return "";
}

/* The saved list must be this VM's: same kinds in the same order. */
static bool check_list(const struct virtio_devices *d, struct snap_reader *r)
{
	uint32_t want[MAX_DEVS], got[MAX_DEVS], n;
	int nwant = device_ids(d, want);
	if (!snap_get_u32(r, &n))
		return false;
	if (n > MAX_DEVS)
		return snap_fail(r, "%u devices listed (at most %d)", n, MAX_DEVS);
	for (uint32_t i = 0; i < n; i++)
		if (!snap_get_u32(r, &got[i]))
			return false;
	if (n == (uint32_t)nwant && !memcmp(got, want, n * sizeof(got[0])))
		return true;
	char a[128], b[128];
	list_text(got, (int)n, a, sizeof(a));
	list_text(want, nwant, b, sizeof(b));
	return snap_fail(r, "the snapshot has devices [%s], this VM [%s]%s", a, b,
			 net_hint(got, n, want, nwant));
}

static int fail(struct snap_reader *r, const struct snap_reader *sub, const char *what,
		struct vm_err *err)
{
	snap_merge(r, sub, what);
	return vm_errf(err, "virtio devices: %s", r->err);
}

int virtio_devices_restore(struct virtio_devices *d, struct snap_reader *r, struct vm_err *err)
{
	struct snap_reader sub;
	char what[48];
	if (!snap_open(r, DEVS_TAG, DEVS_VERSION, &sub, NULL))
		return vm_errf(err, "virtio devices: %s", r->err);
	if (!check_list(d, &sub))
		return fail(r, &sub, "device list", err);
	for (int i = 0; i < d->nblk; i++) {
		snprintf(what, sizeof(what), "disk %d", i);
		if (!virtio_blk_restore(d->blk[i], &sub))
			return fail(r, &sub, what, err);
	}
	if (d->rng && !virtio_rng_restore(d->rng, &sub))
		return fail(r, &sub, "rng", err);
	if (d->vsock && !virtio_vsock_restore(d->vsock, &sub))
		return fail(r, &sub, "vsock", err);
	for (int i = 0; i < d->nfs; i++) {
		snprintf(what, sizeof(what), "fs %.*s", FS_TAG_MAX, d->fs[i]->tag);
		if (!virtio_fs_restore(d->fs[i], &sub))
			return fail(r, &sub, what, err);
	}
	if (d->net && !virtio_net_restore(d->net, &sub))
		return fail(r, &sub, "net", err);
	if (!snap_done(&sub, "VDEV section"))
		return fail(r, &sub, "devices", err);
	return 0;
}

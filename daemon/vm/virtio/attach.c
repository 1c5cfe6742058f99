/* attach.c - the glue between device models and a struct vm (see attach.h). */
#include "daemon/vm/virtio/attach.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon/fs/fuse/fuse_server.h"

#include "daemon/vm/virtio/blk_composite.h"
#include "daemon/vm/virtio/mmio_loop.h"

/* Slot, bus window, irqfd, ioeventfds and kick watches for transport t. */
static int plug(struct vm *vm, struct virtio_mmio *t, struct vm_err *err)
{
	if (vm_add_virtio_slot(vm, &t->base, &t->gsi) < 0)
		return vm_errno(err, "virtio-%s: no free virtio-mmio slot", t->ops->name);
	if (io_bus_register(&vm->mmio, t->base, VIRTIO_MMIO_WINDOW, virtio_mmio_access, t) < 0)
		return vm_errno(err, "virtio-%s: register MMIO window at %#llx", t->ops->name,
				(unsigned long long)t->base);
	t->irqfd = vm_irqfd(vm, t->gsi);
	if (t->irqfd < 0)
		return vm_errno(err, "virtio-%s: KVM_IRQFD for GSI %u", t->ops->name, t->gsi);
	for (uint16_t q = 0; q < t->ops->num_queues; q++) {
		t->kickfd[q] = vm_ioeventfd(vm, t->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, q);
		if (t->kickfd[q] < 0)
			return vm_errno(err, "virtio-%s: KVM_IOEVENTFD for queue %u", t->ops->name, q);
	}
	return virtio_mmio_watch_kicks(t, vm->loop, err);
}

/* The device around an open disk; frees it all on failure. what names the
 * disk (its path) in messages and snapshots. */
static struct virtio_blk *blk_plug(struct vm *vm, struct virtio_blk *b, const char *what,
				   struct vm_err *err)
{
	virtio_blk_init(b, &vm->mem);
	snprintf(b->path, sizeof(b->path), "%s", what);
	if (plug(vm, &b->t, err) < 0) {
		vm_err_prefix(err, "disk %s", what);
		virtio_blk_free(vm, b);
		return NULL;
	}
	return b;
}

struct virtio_blk *virtio_blk_create(struct vm *vm, const char *path, bool readonly,
				     struct vm_err *err)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	if (!b) {
		vm_errno(err, "virtio-blk");
		return NULL;
	}
	if (blk_disk_open(&b->disk, path, readonly, err) < 0) {
		free(b);
		return NULL;
	}
	return blk_plug(vm, b, path, err);
}

struct virtio_blk *virtio_blk_create_layers(struct vm *vm, const char *const *paths, int n,
					    struct vm_err *err)
{
	char what[PATH_MAX];
	struct virtio_blk *b = calloc(1, sizeof(*b));
	if (!b) {
		vm_errno(err, "virtio-blk");
		return NULL;
	}
	if (blk_composite_open(&b->disk, paths, n, err) < 0) {
		free(b);
		return NULL;
	}
	snprintf(what, sizeof(what), "of %d layers (top %s)", n, paths[n - 1]);
	return blk_plug(vm, b, what, err);
}

void virtio_blk_free(struct vm *vm, struct virtio_blk *b)
{
	if (!b)
		return;
	virtio_mmio_close_fds(&b->t, vm->loop);
	blk_disk_close(&b->disk);
	virtio_mmio_destroy(&b->t);
	free(b);
}

struct virtio_vsock *virtio_vsock_create(struct vm *vm, uint64_t cid, const char *uds_path,
					 struct vm_err *err)
{
	struct virtio_vsock *v = calloc(1, sizeof(*v));
	if (!v) {
		vm_errno(err, "virtio-vsock");
		return NULL;
	}
	if (virtio_vsock_init(v, &vm->mem, cid, uds_path, vm->loop, err) < 0) {
		free(v);
		return NULL;
	}
	if (plug(vm, &v->t, err) < 0) {
		virtio_vsock_free(vm, v);
		return NULL;
	}
	return v;
}

void virtio_vsock_free(struct vm *vm, struct virtio_vsock *v)
{
	if (!v)
		return;
	virtio_mmio_close_fds(&v->t, vm->loop);
	virtio_vsock_destroy(v);
	free(v);
}

struct virtio_rng *virtio_rng_create(struct vm *vm, struct vm_err *err)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	if (!r) {
		vm_errno(err, "virtio-rng");
		return NULL;
	}
	virtio_rng_init(r, &vm->mem);
	if (plug(vm, &r->t, err) < 0) {
		virtio_rng_free(vm, r);
		return NULL;
	}
	return r;
}

void virtio_rng_free(struct vm *vm, struct virtio_rng *r)
{
	if (!r)
		return;
	virtio_mmio_close_fds(&r->t, vm->loop);
	virtio_mmio_destroy(&r->t);
	free(r);
}

/* The FUSE server of the folder at path; NULL with err. */
static struct fs_server *open_server(const char *path, bool readonly, struct vm_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		vm_errno(err, "shared folder %s", path);
		return NULL;
	}
	struct fs_err ferr;
	struct fs_server *srv = fs_server_new(fd, readonly, &ferr);
	close(fd);
	if (!srv)
		vm_errf(err, "shared folder %s: %s", path, ferr.msg);
	return srv;
}

struct virtio_fs *virtio_fs_create(struct vm *vm, const char *tag, const char *path,
				   bool readonly, struct vm_err *err)
{
	struct virtio_fs *f = calloc(1, sizeof(*f));
	if (!f) {
		vm_errno(err, "virtio-fs");
		return NULL;
	}
	if (virtio_fs_init(f, &vm->mem, tag) < 0) {
		vm_errf(err, "virtio-fs: tag '%s' is not 1-%d bytes", tag, FS_TAG_MAX);
		free(f);
		return NULL;
	}
	struct fs_server *srv = path ? open_server(path, readonly, err) : NULL;
	if ((path && !srv) || plug(vm, &f->t, err) < 0) {
		if (srv)
			fs_server_free(srv);
		vm_err_prefix(err, "virtio-fs %s", tag);
		virtio_fs_free(vm, f);
		return NULL;
	}
	virtio_fs_bind(f, srv);
	return f;
}

void virtio_fs_free(struct vm *vm, struct virtio_fs *f)
{
	if (!f)
		return;
	virtio_mmio_close_fds(&f->t, vm->loop);
	virtio_fs_fini(f);
	virtio_mmio_destroy(&f->t);
	free(f);
}

struct virtio_net *virtio_net_create(struct vm *vm, const uint8_t mac[6], struct vm_err *err)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n) {
		vm_errno(err, "virtio-net");
		return NULL;
	}
	if (virtio_net_init(n, &vm->mem, mac, vm->loop, err) < 0) {
		free(n);
		return NULL;
	}
	if (plug(vm, &n->t, err) < 0) {
		virtio_net_free(vm, n);
		return NULL;
	}
	return n;
}

void virtio_net_free(struct vm *vm, struct virtio_net *n)
{
	if (!n)
		return;
	virtio_mmio_close_fds(&n->t, vm->loop);
	virtio_net_destroy(n);
	free(n);
}

void virtio_print_stats(const struct virtio_mmio *t, const char *what)
{
	fprintf(stderr, "supermachine-vmm: virtio-%s %s at %#llx gsi %u: notifications=%llu "
		"interrupts=%llu%s%s\n", t->ops->name, what, (unsigned long long)t->base, t->gsi,
		(unsigned long long)t->n_notify, (unsigned long long)t->n_irq,
		t->needs_reset ? " needs-reset: " : "", t->needs_reset ? t->fail_reason : "");
}

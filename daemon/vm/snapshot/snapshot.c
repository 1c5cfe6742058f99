/* snapshot.c - save and restore a whole VM (snapshot.h). */
#include "daemon/vm/snapshot/snapshot.h"
#include "daemon/vm/pm.h"
#include "daemon/vm/serial.h"
#include "daemon/vm/snapshot/snap_kvm.h"
#include "daemon/vm/snapshot/snap_mem.h"
#include "daemon/vm/snapshot/snap_vcpu.h"
#include "daemon/vm/vcpu.h"
#include "daemon/vm/virtio/blk.h"

#include <string.h>
#include <time.h>

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "sha256:<64 lowercase hex>" into out; 0, or -1 with err. */
static int parse_digest(const char *what, const char *d, uint8_t out[SNAP_DIGEST_BYTES],
			struct vm_err *err)
{
	if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + 2 * SNAP_DIGEST_BYTES)
		return vm_errf(err, "%s digest %s: want sha256:<64 hex digits>", what, d);
	for (int i = 0; i < SNAP_DIGEST_BYTES; i++) {
		int hi = hex_value(d[7 + 2 * i]), lo = hex_value(d[8 + 2 * i]);
		if (hi < 0 || lo < 0)
			return vm_errf(err, "%s digest %s: want sha256:<64 hex digits>", what, d);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* One file's digest: given by the caller (who hashed it once), or hashed. */
static int file_id(const char *what, const char *path, const char *given,
		   uint8_t out[SNAP_DIGEST_BYTES], struct vm_err *err)
{
	if (given)
		return parse_digest(what, given, out, err);
	if (snap_sha256_file(path, out, err) < 0)
		return vm_err_prefix(err, "%s digest", what);
	return 0;
}

int snap_ids_compute(const char *kernel, const char *initrd, const char *kernel_digest,
		     const char *initrd_digest, struct snap_ids *ids, struct vm_err *err)
{
	memset(ids, 0, sizeof(*ids));
	if (file_id("kernel", kernel, kernel_digest, ids->kernel, err) < 0)
		return -1;
	if (initrd && file_id("initramfs", initrd, initrd_digest, ids->initrd, err) < 0)
		return -1;
	return 0;
}

static int save_state(struct vm *vm, struct virtio_devices *d, struct snap_writer *w,
		      struct vm_err *err)
{
	if (snap_kvm_save(vm, w, err) < 0)
		return -1;
	for (int i = 0; i < vm->nvcpus; i++)
		if (snap_vcpu_save(&vm->vcpus[i], w, err) < 0)
			return -1;
	serial_save(vm->serial, w);
	pm_save(w);
	return virtio_devices_save(d, w, err);
}

/* The one read-write disk into fd (devices locked, VM paused). */
static int save_disk(struct virtio_devices *d, int fd, struct snap_save_stats *st,
		     struct vm_err *err)
{
	const struct virtio_blk *rw = NULL;
	int n = 0;
	for (int i = 0; i < d->nblk; i++)
		if (!d->blk[i]->disk.readonly) {
			rw = d->blk[i];
			n++;
		}
	if (n != 1)
		return vm_errf(err, "a copy of the read-write disk was asked for, and the VM has %d",
			       n);
	char why[256];
	struct fc_stats fs;
	int64_t t0 = now_us();
	if (fc_copy_fd(rw->disk.fd, fd, rw->disk.sectors * BLK_SECTOR, &fs, why, sizeof why) < 0)
		return vm_errf(err, "copying disk %s: %s", rw->path, why);
	st->disk_how = fs.how;
	st->disk_bytes = fs.data_bytes;
	st->disk_us = now_us() - t0;
	return 0;
}

int vm_snapshot_save(struct vm *vm, struct virtio_devices *d, const struct snap_ids *ids,
		     const struct snap_files *files, struct snap_save_stats *st,
		     struct vm_err *err)
{
	int state_fd = files->state_fd, mem_fd = files->mem_fd;
	struct snap_header h = { .vcpus = (uint32_t)vm->nvcpus, .mem_bytes = vm->cfg.mem_bytes };
	memcpy(h.kernel_digest, ids->kernel, SNAP_DIGEST_BYTES);
	memcpy(h.initrd_digest, ids->initrd, SNAP_DIGEST_BYTES);
	memset(st, 0, sizeof(*st));
	int64_t t0 = now_us();
	if (vm_pause(vm) < 0)
		return vm_errf(err, "the VM is stopping");
	virtio_devices_lock(d);
	struct snap_writer w;
	snap_writer_init(&w);
	snap_file_begin(&w, &h);
	int rc = save_state(vm, d, &w, err);
	if (rc == 0)
		rc = snap_mem_save(&vm->mem, mem_fd, &st->mem_bytes_written, err);
	if (rc == 0 && files->disk_fd >= 0)
		rc = save_disk(d, files->disk_fd, st, err);
	if (rc == 0)
		rc = snap_file_finish(&w, state_fd, err);
	st->state_bytes = w.len;
	snap_writer_free(&w);
	virtio_devices_unlock(d);
	vm_resume(vm);
	st->paused_us = now_us() - t0;
	return rc < 0 ? vm_err_prefix(err, "snapshot") : 0;
}

static int check_ids(const struct snap_header *h, const struct snap_ids *ids,
		     struct vm_err *err)
{
	if (memcmp(h->kernel_digest, ids->kernel, SNAP_DIGEST_BYTES) != 0)
		return vm_errf(err, "the snapshot was made with another kernel");
	if (memcmp(h->initrd_digest, ids->initrd, SNAP_DIGEST_BYTES) != 0)
		return vm_errf(err, "the snapshot was made with another initramfs");
	return 0;
}

static int restore_platform(struct vm *vm, struct snap_reader *r, struct vm_err *err)
{
	if (!serial_restore(vm->serial, r))
		return vm_errf(err, "UART: %s", r->err);
	if (!pm_restore(r))
		return vm_errf(err, "power ports: %s", r->err);
	return 0;
}

int vm_snapshot_restore(struct vm *vm, struct virtio_devices *d, struct snap_file *f,
			const struct snap_ids *ids, struct snap_restore_stats *st,
			struct vm_err *err)
{
	struct snap_reader *r = &f->r;
	memset(st, 0, sizeof(*st));
	if (check_ids(&f->hdr, ids, err) < 0)
		return -1;
	if (f->hdr.vcpus != (uint32_t)vm->nvcpus || f->hdr.mem_bytes != vm->cfg.mem_bytes)
		return vm_errf(err, "the VM has %d vCPUs and %llu MiB; the snapshot %u and %llu",
			       vm->nvcpus, (unsigned long long)(vm->cfg.mem_bytes >> 20),
			       f->hdr.vcpus, (unsigned long long)(f->hdr.mem_bytes >> 20));
	int64_t t0 = now_us();
	if (snap_kvm_restore(vm, r, err) < 0)
		return vm_err_prefix(err, "restore");
	int64_t t1 = now_us();
	for (int i = 0; i < vm->nvcpus; i++)
		if (snap_vcpu_restore(&vm->vcpus[i], r, err) < 0)
			return vm_err_prefix(err, "restore");
	int64_t t2 = now_us();
	virtio_devices_lock(d);
	int rc = restore_platform(vm, r, err);
	if (rc == 0)
		rc = virtio_devices_restore(d, r, err);
	virtio_devices_unlock(d);
	if (rc == 0 && !snap_done(r, "state file"))
		rc = vm_errf(err, "%s", r->err);
	st->kvm_us = t1 - t0;
	st->vcpus_us = t2 - t1;
	st->devices_us = now_us() - t2;
	return rc < 0 ? vm_err_prefix(err, "restore") : 0;
}

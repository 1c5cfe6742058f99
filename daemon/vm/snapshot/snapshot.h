/* snapshot.h - save a running VM to a snapshot, restore one into a new VM.
 *
 * A snapshot is two files (snap_file.h, snap_mem.h): the state file
 * (header, VM-wide KVM state, each vCPU, the UART, the power ports, every
 * virtio device, checksum) and the sparse guest memory file.
 *
 * Save: vm_pause() parks every vCPU outside KVM_RUN, every device lock is
 * taken (the device thread cannot touch a ring meanwhile), state and
 * memory are written to the two files the caller opened (new, empty), and
 * the VM resumes: it keeps running.
 *
 * Restore happens in a fresh supermachine-vmm: vm_create() with the
 * header's vCPU count and memory size maps guest RAM copy-on-write from
 * the memory file, the same devices are attached as for the saved VM,
 * then vm_snapshot_restore() loads the state in place of vm_boot(). Every
 * section is checked before it is applied; any failure ends the process
 * before a vCPU runs, so a VM is never started half-loaded. Open vsock
 * connections do not survive: the guest gets a TRANSPORT_RESET event.
 */
#ifndef SM_SNAPSHOT_H
#define SM_SNAPSHOT_H

#include <stdint.h>

#include "common/file_copy/file_copy.h"
#include "daemon/vm/snapshot/snap_file.h"
#include "daemon/vm/virtio/devices.h"
#include "daemon/vm/vm.h"

/* What the guest booted: digests of the kernel and initramfs files. */
struct snap_ids {
	uint8_t kernel[SNAP_DIGEST_BYTES];
	uint8_t initrd[SNAP_DIGEST_BYTES]; /* zeros: no initramfs */
};

/* Hashes each file, unless its digest ("sha256:<hex>") is given: the
 * daemon hashes its kernel and initramfs once, not at every restore. */
int snap_ids_compute(const char *kernel, const char *initrd, const char *kernel_digest,
		     const char *initrd_digest, struct snap_ids *ids, struct vm_err *err);

struct snap_save_stats {
	uint64_t state_bytes, mem_bytes_written;
	int64_t paused_us;      /* the vCPUs did not run for this long */
	enum fc_how disk_how;   /* the read-write disk's copy, when asked for */
	uint64_t disk_bytes;    /* data bytes it copied (0 for a reflink) */
	int64_t disk_us;
};

/* Where a save goes: new, empty files the caller opened. disk_fd, when
 * not -1, gets a copy of the VM's one read-write disk (file_copy.h),
 * made during the pause, so the guest's page cache in the memory file and
 * the disk are one consistent pair; -1 when the VM has none to save. */
struct snap_files {
	int state_fd, mem_fd, disk_fd;
};

int vm_snapshot_save(struct vm *vm, struct virtio_devices *d, const struct snap_ids *ids,
		     const struct snap_files *files, struct snap_save_stats *st,
		     struct vm_err *err);

/* Microseconds spent in each restore step (bench/restore). */
struct snap_restore_stats {
	int64_t kvm_us, vcpus_us, devices_us;
};

/* f: the loaded state file (its header gave the VM's vCPUs and memory);
 * ids: what this VMM was given to boot, which must be what was saved. */
int vm_snapshot_restore(struct vm *vm, struct virtio_devices *d, struct snap_file *f,
			const struct snap_ids *ids, struct snap_restore_stats *st,
			struct vm_err *err);

#endif

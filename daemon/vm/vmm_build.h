/* vmm_build.h - put together the VM one supermachine-vmm runs: create it,
 * attach its devices, then either boot it or restore it from a snapshot
 * (--restore DIR); and save it on the daemon's request (SNAPSHOT).
 *
 * main.c calls vmm_build(), enters the jail, and runs the VM; the control
 * channel calls vmm_snapshot() on its own thread while the VM runs.
 */
#ifndef SM_VMM_BUILD_H
#define SM_VMM_BUILD_H

#include <stdbool.h>

#include "daemon/vm/options.h"
#include "daemon/vm/snapshot/snapshot.h"
#include "daemon/vm/virtio/devices.h"
#include "daemon/vm/vm.h"

/* Microseconds of each restore step (--stats, bench/restore). */
struct vmm_restore_times {
	int64_t total_us;          /* from reading the state file to ready to run */
	int64_t load_us;           /* read and verify the state file */
	int64_t create_us;         /* KVM VM, guest RAM mapped from the memory file, devices */
	int64_t digests_us;        /* hash the kernel and initramfs given */
	struct snap_restore_stats state; /* load KVM, vCPU and device state */
};

struct vmm {
	struct vm vm;
	struct virtio_devices devs;
	struct snap_ids ids;       /* digests of the kernel and initramfs */
	bool have_ids;
	bool restored;
	struct vmm_restore_times restore_times;
};

/* 0, or -1 with err; vmm_free() either way. o->vm is adjusted for a
 * restore (vCPUs and memory from the snapshot). */
int vmm_build(struct vmm *m, struct options *o, struct vm_err *err);
void vmm_free(struct vmm *m);

/* worker_snapshot_fn (worker_channel.h); ctx is the struct vmm. */
int vmm_snapshot(void *ctx, int state_fd, int mem_fd, int disk_fd, char *msg, size_t len);

/* The restore's breakdown on stderr (--stats). */
void vmm_print_restore_stats(const struct vmm *m);

#endif

/* attach.h - put virtio devices on a VM (what supermachine-vmm's main calls).
 *
 * Each create function builds the device, reserves a virtio-mmio slot
 * (MMIO window + GSI, which the ACPI DSDT then announces as an LNRO0005
 * device), registers the window on the VM's MMIO bus, wires an irqfd to the
 * GSI and one ioeventfd per queue on QueueNotify, and hands those to the
 * device thread's event loop. Call them after vm_create() and before
 * vm_boot(); free the devices after vm_run() returned (device thread
 * stopped) and before vm_destroy().
 */
#ifndef SM_VIRTIO_ATTACH_H
#define SM_VIRTIO_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/vm/virtio/blk.h"
#include "daemon/vm/virtio/fs.h"
#include "daemon/vm/virtio/net.h"
#include "daemon/vm/virtio/rng.h"
#include "daemon/vm/virtio/vsock.h"
#include "daemon/vm/vm.h"

/* A disk backed by the file (or block device) at path; NULL with err. */
struct virtio_blk *virtio_blk_create(struct vm *vm, const char *path, bool readonly,
				     struct vm_err *err);
/* One read-only disk of n layer files, a partition each (blk_composite.h). */
struct virtio_blk *virtio_blk_create_layers(struct vm *vm, const char *const *paths, int n,
					    struct vm_err *err);
/* vsock with guest CID cid (>= 3), host side at the Unix socket uds_path. */
struct virtio_vsock *virtio_vsock_create(struct vm *vm, uint64_t cid, const char *uds_path,
					 struct vm_err *err);
struct virtio_rng *virtio_rng_create(struct vm *vm, struct vm_err *err);
/* virtio-fs with mount tag `tag`, serving the folder at path (read-only if
 * asked), or an idle slot when path is NULL. */
struct virtio_fs *virtio_fs_create(struct vm *vm, const char *tag, const char *path,
				   bool readonly, struct vm_err *err);

/* virtio-net with this MAC, its link down until virtio_net_attach()
 * hands it passt's socket. */
struct virtio_net *virtio_net_create(struct vm *vm, const uint8_t mac[6], struct vm_err *err);

void virtio_blk_free(struct vm *vm, struct virtio_blk *b);
void virtio_vsock_free(struct vm *vm, struct virtio_vsock *v);
void virtio_rng_free(struct vm *vm, struct virtio_rng *r);
void virtio_fs_free(struct vm *vm, struct virtio_fs *f);
void virtio_net_free(struct vm *vm, struct virtio_net *n);

/* One line of counters per device for --stats (notifications, interrupts). */
void virtio_print_stats(const struct virtio_mmio *t, const char *what);

#endif

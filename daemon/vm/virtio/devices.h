/* devices.h - the virtio devices of one supermachine-vmm run, from options.
 *
 * The option parser collects --layer PATH and --disk PATH[,ro] (both
 * repeatable), --vsock PATH, --cid N, --fs TAG[=FOLDER[,ro]] and
 * --fs-allow FOLDER[,ro] (both repeatable), --net MAC into struct virtio_opts;
 * main.c attaches the lot after vm_create() (disks first: the layers'
 * composite disk if any, then the --disk ones, so they become vda, vdb, ...
 * in order; then rng, always; then vsock; then the virtio-fs devices, in
 * order; then virtio-net if asked for, last, so VMs without it keep their
 * slots and snapshots) and frees them after vm_run().
 */
#ifndef SM_VIRTIO_DEVICES_H
#define SM_VIRTIO_DEVICES_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/vm/virtio/attach.h"
#include "daemon/vm/virtio/blk_composite.h"
#include "daemon/vm/jail_files.h"
#include "daemon/vm/virtio/fs.h"

#define VIRTIO_MAX_DISKS 8
#define VIRTIO_MAX_FS 4
#define VIRTIO_MAX_FS_ALLOW (JAIL_MAX_FOLDERS - VIRTIO_MAX_FS)
#define VIRTIO_DEFAULT_CID 3

struct virtio_disk_opt {
	char path[PATH_MAX];
	bool readonly;
};

/* A virtio-fs device: its tag, and the folder it serves (none: an idle
 * slot answering ENODEV until one is bound). */
struct virtio_fs_opt {
	char tag[FS_TAG_MAX + 1];
	char path[PATH_MAX]; /* "": idle */
	bool readonly;
};

struct virtio_opts {
	/* --layer: image layers, lowest first, one composite disk (points
	 * into argv) */
	const char *layer[BLK_MAX_LAYERS];
	int nlayers;
	struct virtio_disk_opt disk[VIRTIO_MAX_DISKS];
	int ndisks;
	struct virtio_fs_opt fs[VIRTIO_MAX_FS];
	int nfs;
	/* --fs-allow: folders the worker channel may bind to idle slots later
	 * (fs_bind.h); the jail confines file access beneath them (and the
	 * --fs folders) until the binds are sealed. Tags unused. */
	struct virtio_fs_opt allow[VIRTIO_MAX_FS_ALLOW];
	int nallow;
	const char *vsock_path; /* NULL: no vsock device */
	uint64_t cid;           /* 0: VIRTIO_DEFAULT_CID */
	/* --net MAC: a virtio-net device with this MAC (off by default); its
	 * backend and policy come later (NET_ATTACH, net_attach.h). */
	bool net;
	uint8_t net_mac[6];
};

/* "--layer PATH" (kept as given, not copied); 0 or -1 with err. */
int virtio_opts_add_layer(struct virtio_opts *o, const char *arg, struct vm_err *err);
/* "--disk PATH[,ro|,rw]"; 0 or -1 with err. */
int virtio_opts_add_disk(struct virtio_opts *o, const char *arg, struct vm_err *err);
/* "--fs TAG[=FOLDER[,ro]]"; tags are unique; 0 or -1 with err. */
int virtio_opts_add_fs(struct virtio_opts *o, const char *arg, struct vm_err *err);
/* "--fs-allow FOLDER[,ro|,rw]"; 0 or -1 with err. */
int virtio_opts_add_fs_allow(struct virtio_opts *o, const char *arg, struct vm_err *err);
/* The folders the fs devices serve (idle slots have none) and the
 * --fs-allow ones, for the jail; the strings stay o's. */
void virtio_opts_folders(const struct virtio_opts *o, struct jail_folders *f);
/* "--net MAC" (net_mac.h: unicast, locally administered), once; 0 or -1
 * with err. */
int virtio_opts_set_net(struct virtio_opts *o, const char *arg, struct vm_err *err);
/* "--cid N", N in 3..2^32-2; 0 or -1 with err. */
int virtio_opts_set_cid(struct virtio_opts *o, const char *arg, struct vm_err *err);

struct virtio_devices {
	struct virtio_blk *blk[VIRTIO_MAX_DISKS + 1]; /* the layers' disk first */
	int nblk;
	struct virtio_rng *rng;
	struct virtio_vsock *vsock;
	struct virtio_fs *fs[VIRTIO_MAX_FS];
	int nfs;
	struct virtio_net *net;
};

/* Create every device o asks for (and rng); on error frees what it made. */
int virtio_devices_attach(struct vm *vm, const struct virtio_opts *o, struct virtio_devices *d,
			  struct vm_err *err);
void virtio_devices_free(struct vm *vm, struct virtio_devices *d);
/* Per-device notification/interrupt counters on stderr (--stats). */
void virtio_devices_stats(const struct virtio_devices *d);

/* Every device's transport, queues and own state on stderr (SIGUSR2). */
void virtio_devices_dump(const struct virtio_devices *d);

/* The same counters summed by kind, for differences around one exec. */
enum { VIRTIO_KIND_BLK, VIRTIO_KIND_RNG, VIRTIO_KIND_VSOCK, VIRTIO_KIND_FS, VIRTIO_KIND_NET,
       VIRTIO_KINDS };
struct virtio_counts {
	uint64_t notify[VIRTIO_KINDS], irq[VIRTIO_KINDS];
};
void virtio_devices_counts(const struct virtio_devices *d, struct virtio_counts *c);

/* Take (release) every device's transport lock, in a fixed order: disks,
 * rng, vsock, fs, net. While they are held no vCPU register access and no device
 * thread work touches device state or the rings in guest RAM, so the
 * snapshot code holds them while it saves devices and guest memory. */
void virtio_devices_lock(struct virtio_devices *d);
void virtio_devices_unlock(struct virtio_devices *d);

/* Snapshots; call both with virtio_devices_lock() held.
 * Save writes section "VDEV": the list of devices (virtio device ids in
 * attach order) and each device's section; 0, or -1 with err if w ran out of memory.
 * Restore, into the devices attach made in this process from the same
 * options, first checks the list (same kinds in the same order, so the
 * same number of disks), then restores each device, which checks its own
 * identity (disk mode/size/id, vsock CID; net keeps its own MAC). 0, or
 * -1 with err (r->err holds the same message); a list that differs only
 * by net says which way (restore with or without --net). Each device is loaded whole or left as it was, but a
 * failure part-way leaves the earlier devices restored: discard the VM.
 * Call it after guest memory and the irqchip are restored: it re-raises
 * pending interrupts, kicks live queues through their ioeventfds (served
 * once the device thread runs) and vsock may send the guest its
 * TRANSPORT_RESET event at once; net's link is down until a new backend
 * is attached. */
struct snap_writer;
struct snap_reader;
int virtio_devices_save(struct virtio_devices *d, struct snap_writer *w, struct vm_err *err);
int virtio_devices_restore(struct virtio_devices *d, struct snap_reader *r, struct vm_err *err);

#endif

/* snapshots.h - snapshots of running VMs, and VMs restored from them.
 *
 * vms_snapshot() saves a running VM - it pauses for the save and keeps
 * running - into DATA/snapshots/NAME/: vm.state (vCPU, KVM and device
 * state) and vm.mem (guest RAM as a sparse file: holes where the guest
 * never wrote). The VMM writes both into files the daemon created in a
 * temporary directory (DATA/snapshots/.tmp-NAME-XXXXXX); they are synced,
 * made read-only and renamed into place only once the VMM says the save
 * worked, so a failed snapshot leaves nothing behind, and an interrupted
 * one (a daemon that died) leaves a temporary directory that the next
 * daemon removes at start.
 *
 * A row per snapshot in the table "snapshots" of DATA/vms.db keeps what a
 * VM restored from it needs: the image (name and id: its layers are looked
 * up in the store again), vCPUs and memory, and the source VM's settings
 * (env overrides, cmd, workdir, user), with the files' sizes. At start
 * rows whose directory is missing are dropped and directories without a
 * row removed.
 *
 * A VM restored from a snapshot (vm_spec.from_snapshot) runs its VMM with
 * --restore DIR: guest RAM is mapped copy-on-write from vm.mem, so every VM
 * restored from one snapshot shares its read-only files and the pages it
 * has not written, and the files never change. While VMs are starting from
 * a snapshot it cannot be removed (EBUSY); a running VM no longer needs the
 * files (its mapping keeps the memory file's pages), so removing a
 * snapshot never disturbs the VMs made from it.
 *
 * A temporary snapshot (SNAP_TEMPORARY, what fork makes) is named
 * "_fork-<vm id>-<8 hex>", a name users cannot give, and is removed when
 * the last VM restored from it is removed. It is listed like the others
 * with "temporary": true.
 *
 * Bakes (bakes.h) are snapshots too, named "_bake-<hex>", with their files
 * in DATA/bakes/NAME. The API shows each snapshot's "kind": "user", "fork"
 * or "bake".
 */
#ifndef SM_VMS_SNAPSHOTS_H
#define SM_VMS_SNAPSHOTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SNAP_NAME_MAX 64

struct vms;
struct vm_rec;

/* [a-zA-Z0-9][a-zA-Z0-9_.-]{0,63} */
bool vms_snapshot_name_ok(const char *name);

enum {
	/* A fork's: the name is made up (written to name_out), and the
	 * caller holds it as if restoring (vms_snapshot_release when its VMs
	 * have been created) so it cannot vanish before they exist. */
	SNAP_TEMPORARY = 1,
	/* A bake's (bakes.h): name is "_bake-<hex>", its files go to
	 * DATA/bakes/NAME. */
	SNAP_BAKE = 2,
};

/* Snapshots the running VM r under name (NULL with SNAP_TEMPORARY).
 * Returns the snapshot's JSON, or NULL with err and errno: EINVAL a bad
 * name, EEXIST the name is taken, ESRCH the VM is not running (or stopped
 * during the save), EBUSY another snapshot of it is being taken, EIO the
 * save failed. */
json_t *vms_snapshot(struct vms *v, struct vm_rec *r, const char *name, int flags,
		     char *name_out, size_t name_len, char *err, size_t errlen);

/* Drops the hold SNAP_TEMPORARY gave (and removes the snapshot if no VM
 * was restored from it). */
void vms_snapshot_release(struct vms *v, const char *name);

/* The snapshot as the API shows it, or NULL when there is none. */
json_t *vms_snapshot_json(struct vms *v, const char *name);
/* Every snapshot, oldest first: a JSON array. */
json_t *vms_snapshots_json(struct vms *v);

/* Removes a snapshot's row and files. -1 with errno ENOENT (no such
 * snapshot) or EBUSY (VMs are starting from it, or it is being taken). */
int vms_snapshot_remove(struct vms *v, const char *name, char *err, size_t errlen);

#endif

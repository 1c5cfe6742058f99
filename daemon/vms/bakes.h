/* bakes.h - an image's bake: the snapshot its VMs are restored from.
 *
 * With baking on (vms_config.bake), vms_create() of an image does not
 * boot it: it restores the image's bake. A bake is a snapshot per key -
 * image id, vCPUs, memory, the writable layer's size (its upper.img is
 * the bake's, copied per VM), and the SHA-256 of the guest kernel, of the
 * initramfs (the guest agent lives in it, so this covers the agent's
 * version) and of the VMM binary, all three hashed once when the daemon
 * starts - named "_bake-" + 32 hex digits of the SHA-256 of the key, a
 * name users cannot give. Any change of the key gives another name, so a
 * new kernel, initramfs or VMM makes new bakes; the old ones stay until
 * garbage collection (vms_bakes_gc).
 *
 * The first use of a key bakes it: a hidden VM (VM_KIND_BAKE: not listed,
 * not saved, no events) of the image boots cold until its guest agent
 * answers, is snapshotted (a row in the snapshots table like any other,
 * its files in DATA/bakes/NAME/ rather than DATA/snapshots/, with the boot's
 * console log beside them as console.log), and is discarded. Uses of a
 * key that arrive while it is being baked wait for that bake (a per-key
 * entry with a condition variable): two first uses bake once, and when
 * the bake fails every one of them fails with its error. A failed bake's
 * console log is kept as DATA/bakes/.failed-NAME.console.log (replaced by
 * the next attempt), which the error names.
 *
 * Bakes are listed with the snapshots ("kind": "bake", "stale" when the
 * key is no longer current) and can be removed like them (the next use
 * bakes again). A bake whose image has left the store is useless: the
 * API drops them when an image is deleted and at garbage collection.
 */
#ifndef SM_VMS_BAKES_H
#define SM_VMS_BAKES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/vms/snapshots.h"

#define BAKE_PREFIX "_bake-"

struct vms;

/* Whether name is a bake's. */
bool vms_bake_name_is(const char *name);

/* The bake name of (image_id, vcpus, memory_mib, storage_mib) with this
 * daemon's kernel, initramfs and VMM. */
void vms_bake_name(struct vms *v, const char *image_id, int vcpus, unsigned memory_mib,
		   unsigned storage_mib, char out[SNAP_NAME_MAX + 1]);

/* Removes the bakes of image_id (it has left the store); bakes VMs are
 * being restored from stay (and go at the next collection). Returns how
 * many were removed. */
size_t vms_bakes_drop_image(struct vms *v, const char *image_id);

/* Removes every bake whose image is gone (image_exists false) or whose
 * key is not current. Returns how many were removed. */
size_t vms_bakes_gc(struct vms *v, bool (*image_exists)(void *ud, const char *image_id),
		    void *ud);

/* {"enabled": true, "kernel": "sha256:…", "initrd": "sha256:…", "vmm":
 * "sha256:…"}: what bakes are made with, for /v1/info. */
json_t *vms_bake_info(struct vms *v);

#endif

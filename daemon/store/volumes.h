/* volumes.h - named persistent disks ("volumes") kept by the store.
 *
 * A volume is a sparse ext4 image in <store>/volumes/NAME.ext4 with a row
 * in the store's SQLite (table volumes). It outlives the VMs that use it:
 * the daemon attaches it to a VM as a virtio-blk disk and the guest mounts
 * it at the path the user gave. Which VMs use a volume is the VMs' business
 * (daemon/vms), not recorded here, so nothing goes stale when a VM dies.
 */
#ifndef SM_STORE_VOLUMES_H
#define SM_STORE_VOLUMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SM_VOLUME_NAME_MAX 64
#define SM_VOLUME_MIN_MIB 16               /* ext4 needs some room */
#define SM_VOLUME_MAX_MIB (16u * 1024 * 1024) /* 16 TiB: ext4 with 4 KiB blocks */

struct sm_volume {
	char name[SM_VOLUME_NAME_MAX + 1];
	char *path;          /* absolute path of the disk image */
	uint64_t size_mib;   /* the disk's size (sparse: it uses what was written) */
	uint64_t used_bytes; /* what the host file takes on disk now */
	int64_t created;     /* unix time */
};

/* Names are 1 to 64 of [A-Za-z0-9_.-], starting with a letter or digit
 * (so no "/", no "..", never empty): false with the reason in err. */
bool sm_volume_name_valid(const char *name, char *err, size_t errlen);

/* Creates volume name of size_mib (formats it; 0 = SM_VOLUME_DEFAULT_MIB).
 * -1 with err; -2 when the name is taken. */
#define SM_VOLUME_DEFAULT_MIB 1024
int sm_store_volume_create(struct sm_store *st, const char *name, uint64_t size_mib,
			   struct sm_volume *out, char *err, size_t errlen);
/* 0 with *out, -1 with err, -2 when there is no such volume. */
int sm_store_volume_get(struct sm_store *st, const char *name, struct sm_volume *out,
			char *err, size_t errlen);
int sm_store_volume_list(struct sm_store *st, struct sm_volume **out, size_t *n,
			 char *err, size_t errlen);
/* Removes the row, then the file. -2 when there is no such volume. The
 * caller checks first that no VM uses it. */
int sm_store_volume_delete(struct sm_store *st, const char *name, char *err, size_t errlen);

void sm_volume_clear(struct sm_volume *v);
void sm_volume_list_free(struct sm_volume *v, size_t n);

#endif

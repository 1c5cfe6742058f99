/* upper_disk.h - a VM's writable layer: an ext4 file system on a sparse
 * disk file of its own (DATA/vms/ID/upper.img), the guest's overlay upper
 * (guest/init_rootfs.c mounts it when the kernel command line says
 * sm.upper=vdX).
 *
 * Formatting is never on a VM's path: one template per size is made once
 * by e2fsprogs' mke2fs (no journal: the layer dies with its VM; -m 0:
 * root gets every block) in DATA/upper-templates/ext4-<MiB>M.img, and
 * each VM gets a copy of it (file_copy.h: a reflink, else its data
 * extents - about 4 MiB of an 8 GiB template). A template that is missing,
 * of the wrong size or without an ext4 superblock (a crash while it was
 * written, someone's truncate) is made again; it is written beside its
 * name and renamed into place, so a half-made one is never used.
 */
#ifndef SM_VMS_UPPER_DISK_H
#define SM_VMS_UPPER_DISK_H

#include <stddef.h>

#include "common/file_copy/file_copy.h"

#define UPPER_DISK_NAME "upper.img"   /* in a VM's and a snapshot's directory */
#define UPPER_MIN_MIB 64u

/* The template of mib MiB in dir (made when missing or broken): its path
 * in path. 0, or -1 with err. Safe to call from several threads. */
int upper_template(const char *dir, unsigned mib, char *path, size_t pathlen, char *err,
		   size_t errlen);

/* A new disk file dst holding an empty ext4 file system of mib MiB (a
 * copy of the template). 0, or -1 with err (dst is not left behind). */
int upper_disk_create(const char *dir, unsigned mib, const char *dst, struct fc_stats *st,
		      char *err, size_t errlen);

#endif

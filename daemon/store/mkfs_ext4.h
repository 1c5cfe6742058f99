/* mkfs_ext4.h - format a sparse file as ext4 with e2fsprogs' mke2fs.
 *
 * Used for volumes (with a journal: they persist) and for the templates of
 * the VMs' writable layers (daemon/vms/upper_disk.c, without one). The file is created (it must not exist), sized
 * sparse to size_mib and formatted with the root directory owned by 0:0
 * and no blocks reserved for root; lazy inode table and journal init keep
 * what is written to the host small. mke2fs's own message ends up in err.
 */
#ifndef SM_STORE_MKFS_EXT4_H
#define SM_STORE_MKFS_EXT4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int sm_mkfs_ext4(const char *path, uint64_t size_mib, bool journal, const char *label,
		 char *err, size_t errlen);

#endif

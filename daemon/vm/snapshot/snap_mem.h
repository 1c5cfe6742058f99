/* snap_mem.h - guest memory in a snapshot: one file, sparse.
 *
 * The file holds guest RAM's regions back to back (low RAM, then RAM
 * above 4 GiB), so its size is the VM's memory size. Pages that read as
 * zero are not written: they stay holes in the file, so a 256 MiB guest
 * that touched 40 MiB costs 40 MiB of disk. The last page is always
 * written so the file has its full size without ftruncate (which the
 * jailed VMM may not call); the file must be new and empty.
 *
 * Restore maps the file MAP_PRIVATE (vm.c, vm_config.mem_file): every VM
 * restored from it shares the pages it only reads through the page cache
 * and gets a private copy of each page it writes. The file never changes.
 */
#ifndef SM_SNAP_MEM_H
#define SM_SNAP_MEM_H

#include <stdint.h>

#include "daemon/vm/guest_mem.h"
#include "daemon/vm/vm_err.h"

#define SNAP_PAGE 4096

/* Write guest RAM to fd; *written gets the bytes of data written. */
int snap_mem_save(const struct guest_mem *m, int fd, uint64_t *written, struct vm_err *err);

#endif

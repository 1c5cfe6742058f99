/* debug_dump.h - `kill -USR2 <supermachine-vmm>` prints interrupt and
 * virtio state on stderr (debug_dump.c says what and why). */
#ifndef SM_DEBUG_DUMP_H
#define SM_DEBUG_DUMP_H

#include "daemon/vm/virtio/devices.h"
#include "vm.h"

/* Install the SIGUSR2 handler and its dump thread (before the jail): vm
 * and devs are dumped on SIGUSR2 until vm_debug_dump_stop(). 0 or -1. */
int vm_debug_dump_start(struct vm *vm, const struct virtio_devices *devs, struct vm_err *err);
/* Stop dumping and join the thread (before vm or devs are freed); a dump
 * under way finishes first. Safe to call when not started. */
void vm_debug_dump_stop(void);

#endif

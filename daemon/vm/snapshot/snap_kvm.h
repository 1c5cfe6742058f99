/* snap_kvm.h - the VM-wide KVM state in a snapshot (section "KVMS"):
 * kvmclock, the two PICs, the IOAPIC and the PIT (PIT2). Restored before
 * the vCPUs, in the order PIT, clock, irqchips.
 *
 * The clock is restored as saved: the guest's monotonic time does not
 * jump over the time the snapshot sat on disk; its wall clock is set by
 * the guest agent's sync request right after restore.
 */
#ifndef SM_SNAP_KVM_H
#define SM_SNAP_KVM_H

#include "daemon/vm/snapshot/snap_buf.h"
#include "daemon/vm/vm.h"

#define SNAP_TAG_KVM SNAP_TAG('K', 'V', 'M', 'S')
#define SNAP_KVM_VERSION 1

int snap_kvm_save(struct vm *vm, struct snap_writer *w, struct vm_err *err);
int snap_kvm_restore(struct vm *vm, struct snap_reader *r, struct vm_err *err);

#endif

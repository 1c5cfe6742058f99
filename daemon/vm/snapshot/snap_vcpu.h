/* snap_vcpu.h - one vCPU's KVM state in a snapshot (section "VCPU").
 *
 * Saved with the vCPU parked outside KVM_RUN: general and segment
 * registers, the XSAVE area (KVM_GET_XSAVE2 where offered), XCRs, debug
 * registers, the in-kernel LAPIC, pending events, the MP state and every
 * MSR KVM lists as saveable (KVM_GET_MSR_INDEX_LIST and the feature MSRs)
 * that this vCPU can read, plus its TSC frequency. Each KVM structure is
 * stored with its size; restore refuses one of another size.
 *
 * Restore order follows what KVM needs (Firecracker's order): TSC rate,
 * MP state, regs, sregs, XSAVE, XCRs, debug regs, LAPIC, MSRs, events.
 */
#ifndef SM_SNAP_VCPU_H
#define SM_SNAP_VCPU_H

#include "daemon/vm/snapshot/snap_buf.h"
#include "daemon/vm/vcpu.h"

#define SNAP_TAG_VCPU SNAP_TAG('V', 'C', 'P', 'U')
#define SNAP_VCPU_VERSION 1
#define SNAP_MAX_MSRS 2048

int snap_vcpu_save(struct vcpu *v, struct snap_writer *w, struct vm_err *err);
int snap_vcpu_restore(struct vcpu *v, struct snap_reader *r, struct vm_err *err);

#endif

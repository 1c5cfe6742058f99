/* kvm_stats.h - read one named counter from KVM's binary statistics.
 *
 * KVM_GET_STATS_FD (Linux 5.14+) gives a VM or vCPU fd a file of named
 * counters. The probe uses the vCPU's "insn_emulation" counter to tell a
 * KVM that runs guest code on the CPU from one that emulates it instruction
 * by instruction (a PVM /dev/kvm does that for a non-PVM guest: it "works",
 * a thousand times too slowly to boot Linux). Bench output uses the exit
 * counters. A count, not a time: it does not depend on the machine's load.
 */
#ifndef SM_KVM_STATS_H
#define SM_KVM_STATS_H

#include <stdint.h>

#include "vm_err.h"

/* The counter called name of the VM or vCPU fd; 0, or -1 with err set
 * (no stats fd, no such counter). */
int kvm_stat_read(int kvm_obj_fd, const char *name, uint64_t *value, struct vm_err *err);

#endif

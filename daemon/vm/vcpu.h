/* vcpu.h - one virtual CPU: its KVM fd, its run loop thread, its counters.
 *
 * vcpu_create() makes the KVM vCPU and gives it CPUID, boot MSRs, FPU and
 * LAPIC LINT0/LINT1 wiring; vcpu_set_boot_regs() puts the boot processor
 * at the kernel's 64-bit entry (application processors wait for INIT/SIPI
 * in the in-kernel LAPIC). vcpu_start() runs the KVM_RUN loop in a thread:
 * port and MMIO exits go to the VM's io_buses, ending exits become
 * vm_request_stop() calls, and a kick parks the thread (vm_control.h).
 */
#ifndef SM_VCPU_H
#define SM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm.h"

struct vcpu {
	struct vm *vm;
	int id, fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
	uint64_t exits[VM_EXITK_COUNT];
	bool stuck; /* at the last park: halted (or never started) with IF=0 */
	uint64_t rip; /* at the last park (diagnostics) */
	uint32_t mp_state;
};

/* supported: KVM_GET_SUPPORTED_CPUID result shared by all vCPUs. */
int vcpu_create(struct vm *vm, struct vcpu *v, int id, const struct kvm_cpuid2 *supported,
		struct vm_err *err);
int vcpu_set_boot_regs(struct vcpu *v, uint64_t entry, uint64_t zero_page, struct vm_err *err);
int vcpu_start(struct vcpu *v, struct vm_err *err);
void vcpu_kick(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);

/* KVM_GET_SUPPORTED_CPUID, malloc'ed. */
struct kvm_cpuid2 *vcpu_supported_cpuid(int kvm_fd, struct vm_err *err);

#endif

/* cpuid.h - the CPUID a vCPU sees, derived from KVM_GET_SUPPORTED_CPUID.
 *
 * Pure functions over an array of struct kvm_cpuid_entry2 (no ioctls), so
 * the filtering is unit-tested with synthetic tables. The VM gives every
 * vCPU the same features and its own topology: APIC ID = vCPU index, one
 * package of nvcpus cores with one thread each.
 */
#ifndef SM_CPUID_H
#define SM_CPUID_H

#include <linux/kvm.h>
#include <stdint.h>

#define CPUID_HYPERVISOR_BIT (1u << 31) /* leaf 1 ECX */

/* Bits needed to hold values 0..n-1 (ceil(log2(n))). */
uint32_t cpuid_id_bits(uint32_t n);

/* Rewrite entries[0..n) for vCPU `index` of `nvcpus` in place. */
void cpuid_filter(struct kvm_cpuid_entry2 *entries, int n, uint32_t index, uint32_t nvcpus);

/* Find function/index in entries (index ignored unless the entry is
 * flagged KVM_CPUID_FLAG_SIGNIFCANT_INDEX); NULL if absent. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid_entry2 *entries, int n,
				    uint32_t function, uint32_t index);

#endif

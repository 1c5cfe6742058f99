/* cpuid.c - per-vCPU CPUID filtering (see cpuid.h).
 *
 * What changes from KVM's supported list, leaf by leaf:
 *   1           hypervisor bit on; APIC ID and logical count in EBX; HTT
 *   4           cores per package (Intel cache topology)
 *   6           no power-management features (no MSRs behind them)
 *   0xA         no architectural PMU (counters do not survive snapshots)
 *   0xB, 0x1F   x2APIC topology: SMT level of 1 thread, core level of
 *               nvcpus, x2APIC ID = vCPU index
 *   0x80000008  AMD core count
 *   0x8000001E  AMD extended APIC ID / core ID
 */
#include "cpuid.h"

#include <stddef.h>

uint32_t cpuid_id_bits(uint32_t n)
{
	uint32_t bits = 0;
	while ((1u << bits) < n)
		bits++;
	return bits;
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid_entry2 *e, int n,
				    uint32_t function, uint32_t index)
{
	for (int i = 0; i < n; i++) {
		if (e[i].function != function)
			continue;
		if ((e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e[i].index != index)
			continue;
		return &e[i];
	}
	return NULL;
}

static void filter_leaf1(struct kvm_cpuid_entry2 *e, uint32_t index, uint32_t nvcpus)
{
	e->ecx |= CPUID_HYPERVISOR_BIT;
	e->ebx = (e->ebx & 0x0000ffffu) | (index << 24) | ((nvcpus & 0xff) << 16);
	if (nvcpus > 1)
		e->edx |= 1u << 28; /* HTT: EBX[23:16] is valid */
	else
		e->edx &= ~(1u << 28);
}

static void filter_leaf4(struct kvm_cpuid_entry2 *e, uint32_t nvcpus)
{
	if ((e->eax & 0x1f) == 0) /* no more cache levels */
		return;
	uint32_t level = (e->eax >> 5) & 7;
	uint32_t sharing = level >= 3 ? nvcpus - 1 : 0; /* L3 is shared */
	e->eax &= 0x00003fffu;
	e->eax |= ((nvcpus - 1) & 0x3f) << 26 | (sharing & 0xfff) << 14;
}

/* Leaf 0xB / 0x1F sub-leaf: level 0 = SMT, 1 = core, others invalid. */
static void filter_topology(struct kvm_cpuid_entry2 *e, uint32_t index, uint32_t nvcpus)
{
	e->edx = index;
	switch (e->index) {
	case 0:
		e->eax = 0;             /* shift to next level: 1 thread per core */
		e->ebx = 1;
		e->ecx = (1u << 8) | 0; /* type SMT */
		break;
	case 1:
		e->eax = cpuid_id_bits(nvcpus);
		e->ebx = nvcpus;
		e->ecx = (2u << 8) | 1; /* type core */
		break;
	default:
		e->eax = e->ebx = 0;
		e->ecx = e->index & 0xff; /* type invalid */
		break;
	}
}

static void filter_one(struct kvm_cpuid_entry2 *e, uint32_t index, uint32_t nvcpus)
{
	switch (e->function) {
	case 1:
		filter_leaf1(e, index, nvcpus);
		break;
	case 4:
		filter_leaf4(e, nvcpus);
		break;
	case 6:
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	case 0xa:
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	case 0xb:
	case 0x1f:
		filter_topology(e, index, nvcpus);
		break;
	case 0x80000008:
		e->ecx = (e->ecx & ~0xf0ffu) | ((nvcpus - 1) & 0xff) |
			 (cpuid_id_bits(nvcpus) << 12);
		break;
	case 0x8000001e:
		e->eax = index;        /* extended APIC ID */
		e->ebx = index & 0xff; /* core ID; threads per core - 1 = 0 */
		e->ecx = 0;            /* one node */
		break;
	}
}

void cpuid_filter(struct kvm_cpuid_entry2 *entries, int n, uint32_t index, uint32_t nvcpus)
{
	for (int i = 0; i < n; i++)
		filter_one(&entries[i], index, nvcpus);
}

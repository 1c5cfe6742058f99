/* test_cpuid.c - per-vCPU CPUID filtering against a synthetic table. */
#include "../check_main.h"
#include "daemon/vm/cpuid.h"

#include <string.h>

static int table(struct kvm_cpuid_entry2 *e)
{
	int n = 0;
	memset(e, 0, sizeof(*e) * 16);
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0x1f };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0x00000800, .ecx = 0x1234,
					    .edx = 0 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 4, .index = 0, .eax = 0x121,
					    .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 4, .index = 3, .eax = 0x163,
					    .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 6, .eax = 0x77 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0xa, .eax = 0x07300805 };
	for (uint32_t i = 0; i < 3; i++)
		e[n++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = i,
						    .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
						    .eax = 9, .ebx = 9, .ecx = 9, .edx = 9 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .ecx = 0x0000f0ff };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x8000001e, .eax = 5, .ebx = 0x105 };
	return n;
}

START_TEST(id_bits)
{
	ck_assert_uint_eq(cpuid_id_bits(1), 0);
	ck_assert_uint_eq(cpuid_id_bits(2), 1);
	ck_assert_uint_eq(cpuid_id_bits(3), 2);
	ck_assert_uint_eq(cpuid_id_bits(4), 2);
	ck_assert_uint_eq(cpuid_id_bits(5), 3);
}
END_TEST

START_TEST(leaf1_apic_id_and_hypervisor)
{
	struct kvm_cpuid_entry2 e[16];
	int n = table(e);
	cpuid_filter(e, n, 2, 4);
	struct kvm_cpuid_entry2 *l1 = cpuid_find(e, n, 1, 0);
	ck_assert_ptr_nonnull(l1);
	ck_assert_uint_ne(l1->ecx & CPUID_HYPERVISOR_BIT, 0);
	ck_assert_uint_eq(l1->ecx & 0xffff, 0x1234);       /* other features kept */
	ck_assert_uint_eq(l1->ebx >> 24, 2);               /* APIC ID */
	ck_assert_uint_eq((l1->ebx >> 16) & 0xff, 4);      /* logical CPUs */
	ck_assert_uint_eq(l1->ebx & 0xffff, 0x0800);       /* CLFLUSH size kept */
	ck_assert_uint_ne(l1->edx & (1u << 28), 0);        /* HTT */
	n = table(e);
	cpuid_filter(e, n, 0, 1);
	ck_assert_uint_eq(cpuid_find(e, n, 1, 0)->edx & (1u << 28), 0);
}
END_TEST

START_TEST(leaf_b_topology)
{
	struct kvm_cpuid_entry2 e[16];
	int n = table(e);
	cpuid_filter(e, n, 3, 6);
	struct kvm_cpuid_entry2 *smt = cpuid_find(e, n, 0xb, 0);
	struct kvm_cpuid_entry2 *core = cpuid_find(e, n, 0xb, 1);
	struct kvm_cpuid_entry2 *inv = cpuid_find(e, n, 0xb, 2);
	ck_assert_uint_eq(smt->eax, 0);
	ck_assert_uint_eq(smt->ebx, 1);
	ck_assert_uint_eq(smt->ecx, (1u << 8) | 0);
	ck_assert_uint_eq(smt->edx, 3);
	ck_assert_uint_eq(core->eax, 3); /* 6 CPUs need 3 bits of APIC ID */
	ck_assert_uint_eq(core->ebx, 6);
	ck_assert_uint_eq(core->ecx, (2u << 8) | 1);
	ck_assert_uint_eq(core->edx, 3);
	ck_assert_uint_eq(inv->eax, 0);
	ck_assert_uint_eq(inv->ebx, 0);
	ck_assert_uint_eq(inv->ecx >> 8, 0); /* level type invalid ends the walk */
	ck_assert_uint_eq(inv->edx, 3);
}
END_TEST

START_TEST(cache_pm_pmu_amd)
{
	struct kvm_cpuid_entry2 e[16];
	int n = table(e);
	cpuid_filter(e, n, 1, 2);
	struct kvm_cpuid_entry2 *l1c = cpuid_find(e, n, 4, 0);
	struct kvm_cpuid_entry2 *l3 = cpuid_find(e, n, 4, 3);
	ck_assert_uint_eq(l1c->eax >> 26, 1);           /* cores per package - 1 */
	ck_assert_uint_eq((l1c->eax >> 14) & 0xfff, 0); /* L1 not shared */
	ck_assert_uint_eq((l3->eax >> 14) & 0xfff, 1);  /* L3 shared by both */
	ck_assert_uint_eq(l3->eax & 0x3fff, 0x163);
	ck_assert_uint_eq(cpuid_find(e, n, 6, 0)->eax, 0);
	ck_assert_uint_eq(cpuid_find(e, n, 0xa, 0)->eax, 0);
	struct kvm_cpuid_entry2 *a8 = cpuid_find(e, n, 0x80000008, 0);
	ck_assert_uint_eq(a8->ecx & 0xff, 1);
	ck_assert_uint_eq((a8->ecx >> 12) & 0xf, 1);
	struct kvm_cpuid_entry2 *a1e = cpuid_find(e, n, 0x8000001e, 0);
	ck_assert_uint_eq(a1e->eax, 1);
	ck_assert_uint_eq(a1e->ebx, 1);
}
END_TEST

START_TEST(find_respects_index)
{
	struct kvm_cpuid_entry2 e[16];
	int n = table(e);
	ck_assert_ptr_null(cpuid_find(e, n, 0xb, 7));
	ck_assert_ptr_nonnull(cpuid_find(e, n, 6, 99)); /* index not significant */
	ck_assert_ptr_null(cpuid_find(e, n, 0x12345, 0));
}
END_TEST

static Suite *cpuid_suite(void)
{
	Suite *s = suite_create("cpuid");
	TCase *t = tcase_create("cpuid");
	tcase_add_test(t, id_bits);
	tcase_add_test(t, leaf1_apic_id_and_hypervisor);
	tcase_add_test(t, leaf_b_topology);
	tcase_add_test(t, cache_pm_pmu_amd);
	tcase_add_test(t, find_respects_index);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(cpuid_suite)

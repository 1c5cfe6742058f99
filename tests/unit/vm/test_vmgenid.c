/* test_vmgenid.c - the VM generation ID without KVM: where it lives (in
 * the e820-reserved area, clear of the ACPI tables and the reset vector),
 * that each write puts a new random ID there and only there, that an
 * address outside guest RAM is refused, and that vmgenid_regenerate()
 * writes the new ID before it raises the GED line (a VM without a KVM fd
 * fails at KVM_IRQ_LINE, with the new ID already in place). */
#include "../check_main.h"
#include "daemon/vm/boot.h"
#include "daemon/vm/vmgenid.h"

#include <stdlib.h>
#include <string.h>

#define RAM (2u << 20)

static uint8_t *ram;
static struct guest_mem mem;

static void setup_ram(void)
{
	ram = calloc(1, RAM);
	ck_assert_ptr_nonnull(ram);
	mem = (struct guest_mem){ .nregions = 1, .total = RAM };
	mem.region[0] = (struct guest_mem_region){ .gpa = 0, .size = RAM, .host = ram };
}

static void free_ram(void)
{
	free(ram);
	ram = NULL;
}

START_TEST(layout_reserved)
{
	struct boot_e820_entry e[8];
	int n = boot_e820(128ULL << 20, e, 8), covered = 0;
	for (int i = 0; i < n; i++) {
		bool in = VMGENID_ADDR >= e[i].addr &&
			  VMGENID_ADDR + VMGENID_SIZE <= e[i].addr + e[i].size;
		if (in)
			ck_assert_uint_eq(e[i].type, BOOT_E820_RESERVED);
		covered += in;
	}
	ck_assert_int_eq(covered, 1);
	ck_assert_uint_le(BOOT_ACPI_START + BOOT_ACPI_TABLES_MAX, VMGENID_ADDR);
	ck_assert_uint_le(VMGENID_ADDR + VMGENID_SIZE, BOOT_RESET_VECTOR);
	ck_assert_uint_eq(VMGENID_ADDR % 8, 0);
	/* an IOAPIC pin (0..23) that COM1 and the virtio slots do not use */
	ck_assert_uint_lt(VMGENID_GED_GSI, 24);
	ck_assert_uint_ge(VMGENID_GED_GSI, VM_VIRTIO_GSI_BASE + VM_MAX_VIRTIO_SLOTS);
	ck_assert_uint_ne(VMGENID_GED_GSI, VM_SERIAL_GSI);
}
END_TEST

START_TEST(write_fresh_ids)
{
	uint8_t a[VMGENID_SIZE], b[VMGENID_SIZE], zero[VMGENID_SIZE] = { 0 };
	struct vm_err err = { "" };
	setup_ram();
	ck_assert_int_eq(vmgenid_write(&mem, VMGENID_ADDR, a, &err), 0);
	ck_assert_mem_eq(ram + VMGENID_ADDR, a, VMGENID_SIZE);
	ck_assert_mem_ne(a, zero, VMGENID_SIZE);
	ck_assert_int_eq(vmgenid_write(&mem, VMGENID_ADDR, b, &err), 0);
	ck_assert_mem_eq(ram + VMGENID_ADDR, b, VMGENID_SIZE);
	ck_assert_mem_ne(a, b, VMGENID_SIZE);
	/* nothing around it touched */
	for (size_t i = VMGENID_ADDR - 64; i < VMGENID_ADDR + VMGENID_SIZE + 64; i++)
		if (i < VMGENID_ADDR || i >= VMGENID_ADDR + VMGENID_SIZE)
			ck_assert_uint_eq(ram[i], 0);
	free_ram();
}
END_TEST

START_TEST(outside_ram)
{
	struct vm_err err = { "" };
	setup_ram();
	ck_assert_int_eq(vmgenid_write(&mem, RAM - 8, NULL, &err), -1);
	ck_assert_msg(strstr(err.msg, "VM generation ID: no guest RAM at 0x1ffff8"), "%s", err.msg);
	free_ram();
}
END_TEST

START_TEST(regenerate_writes_then_raises)
{
	struct vm vm;
	struct vm_err err = { "" };
	uint8_t before[VMGENID_SIZE];
	memset(&vm, 0, sizeof(vm));
	setup_ram();
	vm.mem = mem;
	vm.vm_fd = -1;
	ck_assert_int_eq(vmgenid_setup(&vm, &err), 0);
	memcpy(before, ram + VMGENID_ADDR, VMGENID_SIZE);
	ck_assert_int_eq(vmgenid_regenerate(&vm, &err), -1);
	ck_assert_msg(strstr(err.msg, "KVM_IRQ_LINE gsi 23 level 1"), "%s", err.msg);
	ck_assert_mem_ne(ram + VMGENID_ADDR, before, VMGENID_SIZE);
	free_ram();
}
END_TEST

static Suite *vmgenid_suite(void)
{
	Suite *s = suite_create("vmgenid");
	TCase *t = tcase_create("vmgenid");
	tcase_add_test(t, layout_reserved);
	tcase_add_test(t, write_fresh_ids);
	tcase_add_test(t, outside_ram);
	tcase_add_test(t, regenerate_writes_then_raises);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(vmgenid_suite)

/* vmgenid.h - the VM generation ID: how a restored clone tells its guest
 * that it is a new machine.
 *
 * 16 random bytes at BOOT_VMGENID_ADDR (boot.h: in the e820-reserved ACPI
 * area, so the guest never uses it as RAM), described to the guest by the
 * DSDT's \_SB.VGEN device (VMGENCTR, ADDR = that address) and announced by
 * the GED's interrupt VMGENID_GED_GSI (acpi.h). Linux's vmgenid driver
 * (CONFIG_VMGENID) maps the ID at boot; when the GED interrupt fires it
 * rereads it and, if it changed, force-reseeds the kernel RNG
 * (add_vmfork_randomness), so clones of one snapshot never share random
 * numbers.
 *
 * The state is the fixed guest address alone: the ID lives in guest RAM
 * (saved with it in a snapshot); nothing on the host side needs saving.
 */
#ifndef SM_VMGENID_H
#define SM_VMGENID_H

#include <stdint.h>

#include "boot.h"
#include "guest_mem.h"
#include "vm.h"
#include "vm_err.h"

#define VMGENID_ADDR    BOOT_VMGENID_ADDR
#define VMGENID_SIZE    16
#define VMGENID_GED_GSI 23 /* IOAPIC pin: 4 is COM1, virtio slots take 5..20 */

/* Cold boot: a fresh random ID into guest RAM. Call after everything else
 * has written guest RAM (vm_boot does, after the ACPI tables). */
int vmgenid_setup(struct vm *vm, struct vm_err *err);
/* Right after a snapshot restore, once the irqchip state is restored and
 * before the vCPUs run: a new random ID into guest RAM, then an edge on
 * the GED's interrupt line (KVM_IRQ_LINE 1, 0) so the guest rereads it. */
int vmgenid_regenerate(struct vm *vm, struct vm_err *err);

/* The parts without KVM, for tests: write a fresh random ID (different
 * from the one there) at gpa; copy it out (id may be NULL). */
int vmgenid_write(const struct guest_mem *mem, uint64_t gpa, uint8_t id[VMGENID_SIZE],
		  struct vm_err *err);

#endif

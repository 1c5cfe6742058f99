/* long_mode.h - the CPU state a 64-bit kernel expects at its entry point.
 *
 * Identity-mapped page tables for the first 4 GiB (2 MiB pages), a GDT
 * with flat __BOOT_CS (0x10) / __BOOT_DS (0x18) descriptors, and the
 * segment/control registers of long mode, as the Linux 64-bit boot
 * protocol asks. Used by the boot path and by --probe. The functions write
 * guest memory through guest_mem and fill KVM structs; no ioctls.
 */
#ifndef SM_LONG_MODE_H
#define SM_LONG_MODE_H

#include <linux/kvm.h>
#include <stdint.h>

#include "guest_mem.h"

#define LM_CODE32  0x08 /* 32-bit flat code, for --probe */
#define LM_BOOT_CS 0x10
#define LM_BOOT_DS 0x18
#define LM_BOOT_TSS 0x20
#define LM_PAGE_TABLE_BYTES (6 * 4096) /* PML4, PDPT, 4 PDs */

/* Page tables at pml4 (6 pages) and the GDT at gdt; 0 or -1 (not in RAM). */
int lm_write_tables(struct guest_mem *m, uint64_t pml4, uint64_t gdt);
/* Long-mode sregs: CR0/CR3/CR4/EFER and flat segments from the GDT. */
void lm_sregs(struct kvm_sregs *s, uint64_t pml4, uint64_t gdt);
/* 32-bit protected mode, paging off, flat segments (CS = LM_CODE32). */
void lm_sregs_protected32(struct kvm_sregs *s, uint64_t gdt);
/* General registers: rip = entry, rsi = zero page, rsp = stack. */
void lm_regs(struct kvm_regs *r, uint64_t entry, uint64_t zero_page, uint64_t stack);

#endif

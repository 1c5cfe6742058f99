/* probe.h - can this /dev/kvm run a 64-bit guest? (supermachine-vmm --probe)
 *
 * A throw-away VM with 2 MiB of RAM runs a few bytes of code that enter
 * long mode the way a standard boot does (from 32-bit protected mode,
 * setting CR3/PAE/EFER.LME/PG itself), load an IDT, jump to the -2 GiB
 * kernel mapping, take an exception and fill 256 KiB of memory. Success
 * means the vCPU stopped at the final HLT in 64-bit mode with rax holding
 * the value only 64-bit code can load, and KVM's insn_emulation counter
 * shows the code ran on the CPU. (PVM's /dev/kvm runs all of it, but it
 * emulates a standard guest's kernel code instruction by instruction, so
 * Linux never boots there: the counter is what fails it.) No in-kernel
 * irqchip, so HLT exits to us. A deadline (SIGALRM) bounds a vCPU that
 * never exits.
 */
#ifndef SM_PROBE_H
#define SM_PROBE_H

#include "vm_err.h"

/* 0 if a 64-bit guest ran to HLT; -1 with the reason in err. */
int probe_long_mode(unsigned timeout_sec, struct vm_err *err);

#endif

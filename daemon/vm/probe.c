/* probe.c - the 64-bit HLT probe (see probe.h). */
#include "probe.h"
#include "cpuid.h"
#include "guest_mem.h"
#include "kvm_stats.h"
#include "long_mode.h"
#include "vcpu.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PROBE_MEM   (64ULL << 20)
#define PROBE_TOUCH_START 0x1000000ULL
#define PROBE_TOUCH_END   0x1040000ULL /* 256 KiB: 96K instructions */
#define PROBE_CODE  0x1000ULL
#define PROBE_GDT   0x500ULL
#define PROBE_PML4  0x9000ULL
#define PROBE_STACK 0x8ff0ULL
#define PROBE_MAGIC 0x5afe64b17c0de42aULL
#define PROBE_PDPT_HI 0xf000ULL
#define PROBE_IDT   0x2000ULL
#define PROBE_IDTR  0x1f00ULL
#define PROBE_HIGH  0xffffffff80000000ULL
#define EFER_LMA (1ULL << 10)

/* At PROBE_CODE, entered in 32-bit protected mode without paging:
 *	cr3 = PROBE_PML4; cr4 |= PAE; EFER |= LME (wrmsr); cr0 |= PG
 *	ljmp $LM_BOOT_CS, $start64      (now in 64-bit mode)
 * start64: lidt PROBE_IDTR           (IDT base is a high-half address)
 *	movabs $PROBE_HIGH+PROBE_CODE+(high-start), %rax ; jmp *%rax
 * high: ud2                          (#UD -> handler, back past the ud2)
 *	movabs $PROBE_HIGH+1GiB, %rsi ; mov (%rsi), %rdx   (#PF, unmapped)
 *	cmp %rsi, %rbx ; jne fail        (the #PF handler put CR2 in rbx)
 *	for (rdi = PROBE_TOUCH_START; rdi < PROBE_TOUCH_END; rdi += 8)
 *		*rdi = rdi;              (fill 256 KiB: 96K instructions)
 *	movabs $PROBE_MAGIC, %rax ; hlt
 * fail: xor %eax, %eax ; hlt
 * That is what a standard boot does: the guest switches itself to long
 * mode, loads its own IDT, runs at -2 GiB and handles its own page faults
 * (Linux's decompressor maps memory on demand from its #PF handler), and
 * runs kernel-mode code on the CPU: PVM runs all of the above, but emulates
 * a non-PVM guest's kernel instruction by instruction (~2 us each, so Linux
 * never boots). After the HLT the vCPU's insn_emulation counter tells: a
 * KVM that ran the fill on the CPU emulated a handful of instructions, PVM
 * all 96K. A count, so the verdict does not depend on the machine's load. */
static const uint8_t probe_code[] = {
	0xb8, 0x00, 0x90, 0x00, 0x00, 0x0f, 0x22, 0xd8, 0x0f, 0x20, 0xe0, 0x83,
	0xc8, 0x20, 0x0f, 0x22, 0xe0, 0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32,
	0x0d, 0x00, 0x01, 0x00, 0x00, 0x0f, 0x30, 0x0f, 0x20, 0xc0, 0x0d, 0x00,
	0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0xea, 0x31, 0x10, 0x00, 0x00, 0x10,
	0x00, 0x0f, 0x01, 0x1c, 0x25, 0x00, 0x1f, 0x00, 0x00, 0x48, 0xb8, 0x45,
	0x10, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xe0, 0x0f, 0x0b, 0x48,
	0xbe, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xff, 0x48, 0x8b, 0x16,
	0x48, 0x39, 0xf3, 0x75, 0x21, 0xbf, 0x00, 0x00, 0x00, 0x01, 0xb9, 0x00,
	0x00, 0x04, 0x01, 0x48, 0x89, 0x3f, 0x48, 0x83, 0xc7, 0x08, 0x48, 0x39,
	0xcf, 0x72, 0xf4, 0x48, 0xb8, 0x2a, 0xe4, 0x0d, 0x7c, 0xb1, 0x64, 0xfe,
	0x5a, 0xf4, 0x31, 0xc0, 0xf4
};
#define PROBE_HLT_END 0x7a /* offset just past the successful hlt */
/* At PROBE_CODE + 0x100: addq $2, (%rsp) ; iretq */
static const uint8_t probe_ud_handler[] = { 0x48, 0x83, 0x04, 0x24, 0x02, 0x48, 0xcf };
/* At PROBE_CODE + 0x120: add $8, %rsp ; mov %cr2, %rbx ; addq $3, (%rsp) ; iretq */
static const uint8_t probe_pf_handler[] = {
	0x48, 0x83, 0xc4, 0x08, 0x0f, 0x20, 0xd3, 0x48, 0x83, 0x04, 0x24, 0x03, 0x48, 0xcf,
};

struct probe {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	struct guest_mem mem;
};

static void on_alarm(int sig) { (void)sig; }

static int probe_vm(struct probe *p, struct vm_err *err)
{
	p->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (p->kvm < 0)
		return vm_errno(err, "/dev/kvm");
	p->vm = ioctl(p->kvm, KVM_CREATE_VM, 0);
	if (p->vm < 0)
		return vm_errno(err, "KVM_CREATE_VM");
	if (ioctl(p->vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
		return vm_errno(err, "KVM_SET_TSS_ADDR");
	void *ram = mmap(NULL, PROBE_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return vm_errno(err, "mmap");
	p->mem = (struct guest_mem){ .region = { { 0, PROBE_MEM, ram } }, .nregions = 1,
				     .total = PROBE_MEM };
	struct kvm_userspace_memory_region r = { .memory_size = PROBE_MEM,
						 .userspace_addr = (uintptr_t)ram };
	if (ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return vm_errno(err, "KVM_SET_USER_MEMORY_REGION");
	return 0;
}

static int probe_vcpu(struct probe *p, struct vm_err *err)
{
	p->vcpu = ioctl(p->vm, KVM_CREATE_VCPU, 0);
	if (p->vcpu < 0)
		return vm_errno(err, "KVM_CREATE_VCPU");
	p->run_size = ioctl(p->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->vcpu, 0);
	if (p->run == MAP_FAILED)
		return vm_errno(err, "mmap kvm_run");
	struct kvm_cpuid2 *c = vcpu_supported_cpuid(p->kvm, err);
	if (!c)
		return -1;
	cpuid_filter(c->entries, (int)c->nent, 0, 1);
	int r = ioctl(p->vcpu, KVM_SET_CPUID2, c);
	free(c);
	if (r < 0)
		return vm_errno(err, "KVM_SET_CPUID2");
	return 0;
}

/* 64-bit interrupt gate for vector vec at IDT entry vec. */
static void probe_gate(struct probe *p, int vec, uint64_t handler)
{
	uint8_t *gate = guest_mem_ptr(&p->mem, PROBE_IDT + vec * 16, 16);
	if (!gate)
		return;
	memset(gate, 0, 16);
	gate[0] = handler & 0xff, gate[1] = (handler >> 8) & 0xff;
	gate[2] = LM_BOOT_CS, gate[5] = 0x8e; /* present interrupt gate */
	gate[6] = (handler >> 16) & 0xff, gate[7] = (handler >> 24) & 0xff;
	uint32_t hi = (uint32_t)(handler >> 32);
	memcpy(gate + 8, &hi, 4);
}

/* Map PROBE_HIGH (-2 GiB, where Linux keeps its kernel) onto RAM at 0 and
 * put an IDT there whose #UD gate points at the handler's high address. */
static void probe_high_half(struct probe *p)
{
	uint64_t *pml4 = guest_mem_ptr(&p->mem, PROBE_PML4, 4096);
	uint64_t *pdpt_hi = guest_mem_ptr(&p->mem, PROBE_PDPT_HI, 4096);
	memset(pdpt_hi, 0, 4096);
	pml4[511] = PROBE_PDPT_HI | 3;
	pdpt_hi[510] = (PROBE_PML4 + 0x2000) | 3; /* first PD: 0..1 GiB */
	probe_gate(p, 6, PROBE_HIGH + PROBE_CODE + 0x100);  /* #UD */
	probe_gate(p, 14, PROBE_HIGH + PROBE_CODE + 0x120); /* #PF */
	uint8_t *idtr = guest_mem_ptr(&p->mem, PROBE_IDTR, 10);
	uint16_t limit = 0xfff;
	uint64_t base = PROBE_HIGH + PROBE_IDT;
	memcpy(idtr, &limit, 2);
	memcpy(idtr + 2, &base, 8);
}

static int probe_load(struct probe *p, struct vm_err *err)
{
	memcpy(guest_mem_ptr(&p->mem, PROBE_CODE, sizeof(probe_code)), probe_code,
	       sizeof(probe_code));
	memcpy(guest_mem_ptr(&p->mem, PROBE_CODE + 0x100, sizeof(probe_ud_handler)),
	       probe_ud_handler, sizeof(probe_ud_handler));
	memcpy(guest_mem_ptr(&p->mem, PROBE_CODE + 0x120, sizeof(probe_pf_handler)),
	       probe_pf_handler, sizeof(probe_pf_handler));
	if (lm_write_tables(&p->mem, PROBE_PML4, PROBE_GDT) < 0)
		return vm_errf(err, "page tables outside probe RAM");
	probe_high_half(p);
	struct kvm_sregs s;
	struct kvm_regs regs;
	if (ioctl(p->vcpu, KVM_GET_SREGS, &s) < 0)
		return vm_errno(err, "KVM_GET_SREGS");
	lm_sregs_protected32(&s, PROBE_GDT);
	if (ioctl(p->vcpu, KVM_SET_SREGS, &s) < 0)
		return vm_errno(err, "KVM_SET_SREGS");
	lm_regs(&regs, PROBE_CODE, 0, PROBE_STACK);
	if (ioctl(p->vcpu, KVM_SET_REGS, &regs) < 0)
		return vm_errno(err, "KVM_SET_REGS");
	return 0;
}

/* The fill loop ran PROBE_FILL_INSNS instructions; a KVM that emulated
 * more than a tenth of them runs guest kernels in its instruction emulator.
 * Kernels without binary stats (before 5.14) keep the deadline's verdict. */
#define PROBE_FILL_INSNS (3 * (PROBE_TOUCH_END - PROBE_TOUCH_START) / 8)
static int probe_check_not_emulated(struct probe *p, struct vm_err *err)
{
	uint64_t emulated;
	struct vm_err ignored;
	if (kvm_stat_read(p->vcpu, "insn_emulation", &emulated, &ignored) < 0)
		return 0;
	if (emulated > PROBE_FILL_INSNS / 10)
		return vm_errf(err, "kernel-mode code runs emulated: KVM emulated %llu of the probe's %llu instructions",
			       (unsigned long long)emulated, (unsigned long long)PROBE_FILL_INSNS);
	return 0;
}

static int probe_check_hlt(struct probe *p, struct vm_err *err)
{
	struct kvm_sregs s;
	struct kvm_regs regs;
	if (ioctl(p->vcpu, KVM_GET_SREGS, &s) < 0 || ioctl(p->vcpu, KVM_GET_REGS, &regs) < 0)
		return vm_errno(err, "reading registers after HLT");
	if (!(s.efer & EFER_LMA) || !s.cs.l)
		return vm_errf(err, "reached HLT but not in 64-bit mode (efer 0x%llx, cs.l %d)",
			       (unsigned long long)s.efer, s.cs.l);
	if (regs.rax != PROBE_MAGIC || regs.rip != PROBE_HIGH + PROBE_CODE + PROBE_HLT_END)
		return vm_errf(err, "reached HLT at rip 0x%llx with rax 0x%llx: the 64-bit code did not run as written",
			       (unsigned long long)regs.rip, (unsigned long long)regs.rax);
	return probe_check_not_emulated(p, err);
}

/* Say how far the guest got; during the memory touch rdi is the cursor. */
static int probe_timed_out(struct probe *p, unsigned timeout_sec, struct vm_err *err)
{
	struct kvm_regs regs;
	if (ioctl(p->vcpu, KVM_GET_REGS, &regs) == 0 && regs.rdi >= PROBE_TOUCH_START &&
	    regs.rdi <= PROBE_TOUCH_END && regs.rip >= PROBE_HIGH)
		return vm_errf(err, "too slow for a Linux guest: filled only %llu of %llu MiB of guest memory in %u s (kernel-mode code emulated?)",
			       (unsigned long long)((regs.rdi - PROBE_TOUCH_START) >> 20),
			       (unsigned long long)((PROBE_TOUCH_END - PROBE_TOUCH_START) >> 20),
			       timeout_sec);
	return vm_errf(err, "vCPU did not reach HLT within %u s", timeout_sec);
}

static int probe_run(struct probe *p, unsigned timeout_sec, struct vm_err *err)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL);
	alarm(timeout_sec);
	int r = ioctl(p->vcpu, KVM_RUN, 0);
	int e = errno;
	alarm(0);
	if (r < 0 && e == EINTR)
		return probe_timed_out(p, timeout_sec, err);
	if (r < 0) {
		errno = e;
		return vm_errno(err, "KVM_RUN");
	}
	switch (p->run->exit_reason) {
	case KVM_EXIT_HLT:
		return probe_check_hlt(p, err);
	case KVM_EXIT_SHUTDOWN:
		return vm_errf(err, "triple fault (KVM_EXIT_SHUTDOWN) in 64-bit mode: this KVM cannot run a standard 64-bit guest");
	case KVM_EXIT_INTERNAL_ERROR:
		return vm_errf(err, "KVM internal error %u", p->run->internal.suberror);
	case KVM_EXIT_FAIL_ENTRY:
		return vm_errf(err, "VM entry failed (reason 0x%llx)",
			       (unsigned long long)p->run->fail_entry.hardware_entry_failure_reason);
	default:
		return vm_errf(err, "unexpected KVM exit %u before HLT", p->run->exit_reason);
	}
}

int probe_long_mode(unsigned timeout_sec, struct vm_err *err)
{
	struct probe p = { .kvm = -1, .vm = -1, .vcpu = -1 };
	int r = -1;
	if (probe_vm(&p, err) == 0 && probe_vcpu(&p, err) == 0 && probe_load(&p, err) == 0)
		r = probe_run(&p, timeout_sec, err);
	if (p.run && p.run != MAP_FAILED)
		munmap(p.run, p.run_size);
	if (p.mem.nregions)
		munmap(p.mem.region[0].host, PROBE_MEM);
	if (p.vcpu >= 0)
		close(p.vcpu);
	if (p.vm >= 0)
		close(p.vm);
	if (p.kvm >= 0)
		close(p.kvm);
	return r;
}

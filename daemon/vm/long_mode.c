/* long_mode.c - page tables, GDT and registers for a 64-bit entry.
 * See long_mode.h; the layout follows the Linux boot protocol's 64-bit
 * section (identity map, flat __BOOT_CS/__BOOT_DS, interrupts off).
 */
#include "long_mode.h"

#include <string.h>

#define PTE_P  (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

/* GDT entries: flags/limit/base packed as the CPU reads them. */
static const uint64_t gdt_entries[] = {
	0,                     /* 0x00 null */
	0x00cf9b000000ffffULL, /* 0x08 32-bit code (probe's entry) */
	0x00af9b000000ffffULL, /* 0x10 __BOOT_CS: 64-bit code, execute/read */
	0x00cf93000000ffffULL, /* 0x18 __BOOT_DS: flat data, read/write */
	0x00008b0000000067ULL, /* 0x20 TSS (busy), base 0, limit 0x67 */
	0,                     /* 0x28 TSS upper half */
};

int lm_write_tables(struct guest_mem *m, uint64_t pml4, uint64_t gdt)
{
	uint64_t *t = guest_mem_ptr(m, pml4, LM_PAGE_TABLE_BYTES);
	uint64_t *g = guest_mem_ptr(m, gdt, sizeof(gdt_entries));
	if (!t || !g)
		return -1;
	memset(t, 0, LM_PAGE_TABLE_BYTES);
	uint64_t pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;
	t[0] = pdpt | PTE_P | PTE_RW;
	for (int i = 0; i < 4; i++) {
		t[512 + i] = (pd + i * 0x1000ULL) | PTE_P | PTE_RW;
		for (int j = 0; j < 512; j++)
			t[1024 + i * 512 + j] = ((uint64_t)(i * 512 + j) << 21) | PTE_P | PTE_RW | PTE_PS;
	}
	memcpy(g, gdt_entries, sizeof(gdt_entries));
	return 0;
}

static struct kvm_segment flat_segment(uint16_t sel, uint8_t type, int code)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = code ? 0 : 1, .s = 1, .l = code ? 1 : 0,
		.g = 1,
	};
}

void lm_sregs(struct kvm_sregs *s, uint64_t pml4, uint64_t gdt)
{
	s->gdt.base = gdt;
	s->gdt.limit = sizeof(gdt_entries) - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
	s->cs = flat_segment(LM_BOOT_CS, 0xb, 1);
	s->ds = s->es = s->fs = s->gs = s->ss = flat_segment(LM_BOOT_DS, 0x3, 0);
	s->tr = (struct kvm_segment){ .selector = LM_BOOT_TSS, .limit = 0x67, .type = 0xb,
				      .present = 1 };
	s->ldt = (struct kvm_segment){ .type = 0x2, .present = 1, .limit = 0xffff };
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s->cr3 = pml4;
	s->cr4 = CR4_PAE;
	s->efer = EFER_LME | EFER_LMA;
}

void lm_sregs_protected32(struct kvm_sregs *s, uint64_t gdt)
{
	s->gdt.base = gdt;
	s->gdt.limit = sizeof(gdt_entries) - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
	s->cs = flat_segment(LM_CODE32, 0xb, 0);
	s->ds = s->es = s->fs = s->gs = s->ss = flat_segment(LM_BOOT_DS, 0x3, 0);
	s->tr = (struct kvm_segment){ .selector = LM_BOOT_TSS, .limit = 0x67, .type = 0xb,
				      .present = 1 };
	s->ldt = (struct kvm_segment){ .type = 0x2, .present = 1, .limit = 0xffff };
	s->cr0 = CR0_PE | CR0_ET;
	s->cr3 = 0;
	s->cr4 = 0;
	s->efer = 0;
}

void lm_regs(struct kvm_regs *r, uint64_t entry, uint64_t zero_page, uint64_t stack)
{
	memset(r, 0, sizeof(*r));
	r->rflags = 0x2; /* reserved bit; IF clear */
	r->rip = entry;
	r->rsi = zero_page;
	r->rsp = r->rbp = stack;
}

/* vcpu.c - vCPU setup and the KVM_RUN loop (see vcpu.h). */
#include "vcpu.h"
#include "boot.h"
#include "cpuid.h"
#include "long_mode.h"
#include "vm_control.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MSR_IA32_TSC            0x10
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_MTRR_DEF_TYPE       0x2ff
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SYSCALL_MASK        0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI    0x4
#define APIC_MODE_EXTINT 0x7

struct kvm_cpuid2 *vcpu_supported_cpuid(int kvm_fd, struct vm_err *err)
{
	for (int n = 128; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c) {
			vm_errno(err, "KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		int e = errno;
		free(c);
		if (e != E2BIG) {
			errno = e;
			vm_errno(err, "KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
	}
	vm_errf(err, "KVM_GET_SUPPORTED_CPUID: too many entries");
	return NULL;
}

static int set_cpuid(struct vcpu *v, const struct kvm_cpuid2 *sup, struct vm_err *err)
{
	size_t sz = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	if (!c)
		return vm_errno(err, "cpuid");
	memcpy(c, sup, sz);
	cpuid_filter(c->entries, (int)c->nent, (uint32_t)v->id, (uint32_t)v->vm->nvcpus);
	int r = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	if (r < 0)
		return vm_errno(err, "KVM_SET_CPUID2");
	return 0;
}

static int set_boot_msrs(struct vcpu *v, struct vm_err *err)
{
	static const struct { uint32_t index; uint64_t data; } boot[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 }, { MSR_SYSCALL_MASK, 0 }, { MSR_LSTAR, 0 },
		{ MSR_IA32_TSC, 0 },
		{ MSR_IA32_MISC_ENABLE, 1 },                 /* fast strings */
		{ MSR_MTRR_DEF_TYPE, (1u << 11) | 6 },       /* MTRRs on, default WB */
	};
	const int n = sizeof(boot) / sizeof(boot[0]);
	struct { struct kvm_msrs hdr; struct kvm_msr_entry e[sizeof(boot) / sizeof(boot[0])]; } m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = n;
	for (int i = 0; i < n; i++) {
		m.e[i].index = boot[i].index;
		m.e[i].data = boot[i].data;
	}
	int r = ioctl(v->fd, KVM_SET_MSRS, &m);
	if (r < 0)
		return vm_errno(err, "KVM_SET_MSRS");
	if (r != n)
		return vm_errf(err, "KVM_SET_MSRS: MSR 0x%x refused", boot[r].index);
	return 0;
}

static int set_lint(struct vcpu *v, struct vm_err *err)
{
	struct kvm_lapic_state la;
	if (ioctl(v->fd, KVM_GET_LAPIC, &la) < 0)
		return vm_errno(err, "KVM_GET_LAPIC");
	uint32_t *lvt0 = (uint32_t *)&la.regs[APIC_LVT0];
	uint32_t *lvt1 = (uint32_t *)&la.regs[APIC_LVT1];
	*lvt0 = (*lvt0 & ~0x700u) | (APIC_MODE_EXTINT << 8);
	*lvt1 = (*lvt1 & ~0x700u) | (APIC_MODE_NMI << 8);
	if (ioctl(v->fd, KVM_SET_LAPIC, &la) < 0)
		return vm_errno(err, "KVM_SET_LAPIC");
	return 0;
}

static int set_fpu(struct vcpu *v, struct vm_err *err)
{
	struct kvm_fpu fpu;
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return vm_errno(err, "KVM_SET_FPU");
	return 0;
}

int vcpu_create(struct vm *vm, struct vcpu *v, int id, const struct kvm_cpuid2 *sup,
		struct vm_err *err)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0)
		return vm_errno(err, "KVM_CREATE_VCPU %d", id);
	int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return vm_errno(err, "KVM_GET_VCPU_MMAP_SIZE");
	v->run_size = sz;
	v->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return vm_errno(err, "mmap kvm_run of vCPU %d", id);
	}
	if (set_cpuid(v, sup, err) < 0 || set_boot_msrs(v, err) < 0 ||
	    set_fpu(v, err) < 0 || set_lint(v, err) < 0)
		return vm_err_prefix(err, "vCPU %d", id);
	return 0;
}

int vcpu_set_boot_regs(struct vcpu *v, uint64_t entry, uint64_t zero_page, struct vm_err *err)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return vm_errno(err, "KVM_GET_SREGS");
	lm_sregs(&s, BOOT_PML4_ADDR, BOOT_GDT_ADDR);
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		return vm_errno(err, "KVM_SET_SREGS");
	lm_regs(&r, entry, zero_page, BOOT_STACK_ADDR);
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return vm_errno(err, "KVM_SET_REGS");
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	/* Any thread may kick (vm_request_stop), also before vm_run has
	 * started this vCPU: immediate_exit then makes its first KVM_RUN
	 * return at once, so it parks and sees the request. The signal only
	 * goes to a thread that exists: `started` is published after `thread`
	 * is set. */
	if (!v->run)
		return; /* never created */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&v->started, __ATOMIC_ACQUIRE))
		pthread_kill(v->thread, SIG_KICK);
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd > 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

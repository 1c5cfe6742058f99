/* vm.c - create and destroy a VM; the device-facing helpers (vm.h).
 *
 * Order in vm_create(): validate the kernel and initrd files first (not
 * for a restore, whose kernel is in the snapshot's memory; so a
 * bad kernel is refused before KVM is touched), then KVM_CREATE_VM, guest
 * RAM split around the 3 GiB MMIO hole, TSS and identity-map pages (in
 * the hole, below the IOAPIC), in-kernel irqchip and PIT, the vCPUs, and
 * the built-in devices (COM1, power/reset ports).
 */
#include "vm.h"
#include "boot.h"
#include "pm.h"
#include "serial.h"
#include "vcpu.h"
#include "vm_control.h"
#include "vm_image.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL
#define KVM_TSS_ADDR          0xfffbd000ULL

static const struct { int cap; const char *name; } required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
};

static int open_kvm(struct vm *vm, struct vm_err *err)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return vm_errno(err, "/dev/kvm");
	int v = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION)
		return vm_errf(err, "/dev/kvm: API version %d, want %d", v, KVM_API_VERSION);
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
			return vm_errf(err, "/dev/kvm lacks %s", required_caps[i].name);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return vm_errno(err, "KVM_CREATE_VM");
	return 0;
}

/* Map size bytes of guest RAM: anonymous, or (restore) copy-on-write from
 * the snapshot's memory file at file_off, so untouched pages stay shared
 * with every other VM restored from it. */
static int add_ram(struct vm *vm, uint64_t gpa, uint64_t size, int mem_fd, uint64_t file_off,
		   struct vm_err *err)
{
	int slot = vm->mem.nregions;
	int flags = MAP_PRIVATE | MAP_NORESERVE | (mem_fd < 0 ? MAP_ANONYMOUS : 0);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, mem_fd, (off_t)file_off);
	if (p == MAP_FAILED)
		return vm_errno(err, "mmap %llu MiB of guest RAM", (unsigned long long)(size >> 20));
	/* Huge pages where the host allows them: fewer (nested) page faults
	 * and TLB misses; advice only, so a failure is not an error. */
	if (mem_fd < 0)
		madvise(p, size, MADV_HUGEPAGE);
	vm->mem.region[slot] = (struct guest_mem_region){ .gpa = gpa, .size = size, .host = p };
	vm->mem.nregions++;
	vm->mem.total += size;
	struct kvm_userspace_memory_region r = {
		.slot = (uint32_t)slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)p,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return vm_errno(err, "KVM_SET_USER_MEMORY_REGION slot %d", slot);
	return 0;
}

static int open_mem_file(const char *path, uint64_t want, struct vm_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vm_errno(err, "%s", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != want) {
		close(fd);
		return vm_errf(err, "%s: want a regular file of %llu bytes (the VM's memory): "
			       "truncated or not a snapshot's memory", path, (unsigned long long)want);
	}
	return fd;
}

static int setup_memory(struct vm *vm, struct vm_err *err)
{
	uint64_t low = boot_low_ram_end(vm->cfg.mem_bytes);
	int fd = -1;
	if (vm->cfg.mem_file && (fd = open_mem_file(vm->cfg.mem_file, vm->cfg.mem_bytes, err)) < 0)
		return -1;
	int rc = add_ram(vm, 0, low, fd, 0, err);
	if (rc == 0 && vm->cfg.mem_bytes > low)
		rc = add_ram(vm, GUEST_HIGH_RAM_START, vm->cfg.mem_bytes - low, fd, low, err);
	if (fd >= 0)
		close(fd); /* the mappings keep the file */
	return rc;
}

static int setup_platform(struct vm *vm, struct vm_err *err)
{
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return vm_errno(err, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		return vm_errno(err, "KVM_SET_TSS_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return vm_errno(err, "KVM_CREATE_IRQCHIP");
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return vm_errno(err, "KVM_CREATE_PIT2");
	return 0;
}

static int create_vcpus(struct vm *vm, struct vm_err *err)
{
	struct kvm_cpuid2 *sup = vcpu_supported_cpuid(vm->kvm_fd, err);
	if (!sup)
		return -1;
	vm->vcpus = calloc(vm->cfg.vcpus, sizeof(*vm->vcpus));
	int r = vm->vcpus ? 0 : vm_errno(err, "vCPUs");
	for (int i = 0; r == 0 && i < vm->cfg.vcpus; i++) {
		vm->nvcpus = i + 1; /* nvcpus covers every fd to close */
		r = vcpu_create(vm, &vm->vcpus[i], i, sup, err);
	}
	vm->nvcpus = vm->cfg.vcpus;
	free(sup);
	return r;
}

static void serial_irq(void *opaque, bool level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level l = { .irq = VM_SERIAL_GSI, .level = level };
	ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);
}

static void serial_panic_done(void *opaque)
{
	vm_request_stop(opaque, VM_PANIC, "guest kernel panicked");
}

static int setup_devices(struct vm *vm, struct vm_err *err)
{
	vm->loop = event_loop_new();
	if (!vm->loop)
		return vm_errno(err, "event loop");
	vm->serial = serial_new(serial_irq, vm, vm->cfg.console_stdout, vm->cfg.console_log, err);
	if (!vm->serial)
		return -1;
	serial_on_panic(vm->serial, serial_panic_done, vm);
	if (io_bus_register(&vm->pio, SERIAL_COM1_BASE, SERIAL_NREGS, serial_io, vm->serial) < 0)
		return vm_errno(err, "registering COM1");
	return pm_register(vm, err);
}

static int check_config(const struct vm_config *c, struct vm_err *err)
{
	if (c->vcpus < 1 || c->vcpus > VM_MAX_VCPUS)
		return vm_errf(err, "%d vCPUs: must be 1..%d", c->vcpus, VM_MAX_VCPUS);
	if (c->mem_bytes < (32ULL << 20))
		return vm_errf(err, "%llu MiB of memory: need at least 32",
			       (unsigned long long)(c->mem_bytes >> 20));
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, struct vm_err *err)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	vm->cfg = *cfg;
	if (check_config(cfg, err) < 0)
		return -1;
	/* A restore's kernel is in the snapshot's memory already. */
	if (!cfg->mem_file && !(vm->image = vm_image_load(cfg->kernel, cfg->initrd, err)))
		return -1;
	vm->ctl = calloc(1, sizeof(*vm->ctl));
	if (!vm->ctl || vm_control_init(vm->ctl) < 0)
		return vm_errno(err, "vm control");
	if (open_kvm(vm, err) < 0 || setup_memory(vm, err) < 0 ||
	    setup_platform(vm, err) < 0 || create_vcpus(vm, err) < 0 ||
	    setup_devices(vm, err) < 0)
		return -1;
	return 0;
}

void vm_destroy(struct vm *vm)
{
	for (int i = 0; vm->vcpus && i < vm->nvcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	serial_free(vm->serial);
	event_loop_free(vm->loop);
	for (int i = 0; i < vm->mem.nregions; i++)
		munmap(vm->mem.region[i].host, vm->mem.region[i].size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->ctl) {
		vm_control_destroy(vm->ctl);
		free(vm->ctl);
	}
	vm_image_free(vm->image);
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
}

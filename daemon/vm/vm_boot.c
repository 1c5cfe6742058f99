/* vm_boot.c - put the kernel, initrd, command line, ACPI tables, zero
 * page and VM generation ID into guest RAM and point the boot vCPU at the
 * 64-bit entry. Layout: boot.h. Called once, after devices reserved their
 * virtio slots; a restored VM skips it (its RAM comes from the snapshot).
 */
#include "acpi.h"
#include "boot.h"
#include "long_mode.h"
#include "pm.h"
#include "serial.h"
#include "vcpu.h"
#include "vm.h"
#include "vm_image.h"
#include "vmgenid.h"

#include <string.h>
#include <unistd.h>

static int load_initrd(struct vm *vm, struct vm_image *img, struct boot_layout *l,
		       struct vm_err *err)
{
	if (img->initrd_fd < 0)
		return 0;
	if (boot_initrd_addr(&img->info, vm->cfg.mem_bytes, img->initrd_size, &l->initrd_addr,
			     err) < 0)
		return vm_err_prefix(err, "initrd %s", img->initrd_path);
	uint8_t *dst = guest_mem_ptr(&vm->mem, l->initrd_addr, img->initrd_size);
	if (!dst)
		return vm_errf(err, "initrd %s: no guest RAM at 0x%llx", img->initrd_path,
			       (unsigned long long)l->initrd_addr);
	for (uint64_t off = 0; off < img->initrd_size;) {
		ssize_t n = pread(img->initrd_fd, dst + off, img->initrd_size - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return vm_errno(err, "initrd %s: read", img->initrd_path);
		off += n;
	}
	l->initrd_size = img->initrd_size;
	return 0;
}

static int load_kernel(struct vm *vm, struct vm_image *img, struct vm_err *err)
{
	const struct bzimage_info *k = &img->info;
	uint8_t *dst = guest_mem_ptr(&vm->mem, k->load_addr, k->init_size);
	if (!dst)
		return vm_errf(err, "kernel needs RAM at 0x%llx..0x%llx; the VM has %llu MiB",
			       (unsigned long long)k->load_addr,
			       (unsigned long long)(k->load_addr + k->init_size),
			       (unsigned long long)(vm->cfg.mem_bytes >> 20));
	memcpy(dst, img->kernel + k->kernel_offset, k->kernel_size);
	return 0;
}

static int write_cmdline(struct vm *vm, const char *cmdline, struct boot_layout *l,
			 struct vm_err *err)
{
	size_t n = strlen(cmdline);
	char *dst = guest_mem_ptr(&vm->mem, BOOT_CMDLINE_ADDR, BOOT_CMDLINE_MAX);
	if (n >= BOOT_CMDLINE_MAX || !dst)
		return vm_errf(err, "command line too long (%zu bytes)", n);
	memcpy(dst, cmdline, n + 1);
	l->cmdline_len = n;
	return 0;
}

static int write_acpi(struct vm *vm, struct boot_layout *l, struct vm_err *err)
{
	struct acpi_config c = {
		.nvcpus = vm->nvcpus, .slots = vm->slots, .nslots = vm->nslots,
		.sleep_ctl_port = PM_SLEEP_CTL_PORT, .sleep_sts_port = PM_SLEEP_STS_PORT,
		.reset_port = PM_RESET_PORT, .reset_value = PM_RESET_VALUE,
		.s5_slp_typ = PM_S5_SLP_TYP,
		.com1_port = SERIAL_COM1_BASE, .com1_irq = VM_SERIAL_GSI,
		.vmgenid_addr = VMGENID_ADDR, .ged_gsi = VMGENID_GED_GSI,
	};
	struct acpi_layout al;
	uint8_t *dst = guest_mem_ptr(&vm->mem, BOOT_ACPI_START, BOOT_ACPI_TABLES_MAX);
	if (!dst || acpi_write_tables(dst, BOOT_ACPI_TABLES_MAX, BOOT_ACPI_START, &c, &al, err) < 0)
		return vm_err_prefix(err, "ACPI");
	l->rsdp_addr = BOOT_ACPI_START + al.offset[ACPI_RSDP];
	return 0;
}

int vm_boot(struct vm *vm, struct vm_err *err)
{
	struct vm_image *img = vm->image;
	struct boot_layout l = { .mem_bytes = vm->cfg.mem_bytes };
	if (load_kernel(vm, img, err) < 0 || load_initrd(vm, img, &l, err) < 0 ||
	    write_cmdline(vm, vm->cfg.cmdline ? vm->cfg.cmdline : "", &l, err) < 0 ||
	    write_acpi(vm, &l, err) < 0)
		return -1;
	struct boot_params *bp = guest_mem_ptr(&vm->mem, BOOT_ZERO_PAGE_ADDR, sizeof(*bp));
	if (!bp || boot_params_fill(bp, &img->info, &l, err) < 0)
		return vm_err_prefix(err, "boot_params");
	uint8_t *reset = guest_mem_ptr(&vm->mem, BOOT_RESET_VECTOR, 16);
	if (!reset || !boot_reset_stub(reset, 16))
		return vm_errf(err, "reset vector: no RAM at 0x%llx", (unsigned long long)BOOT_RESET_VECTOR);
	if (lm_write_tables(&vm->mem, BOOT_PML4_ADDR, BOOT_GDT_ADDR) < 0)
		return vm_errf(err, "page tables: no RAM at 0x%llx", (unsigned long long)BOOT_PML4_ADDR);
	if (vmgenid_setup(vm, err) < 0)
		return -1;
	if (vcpu_set_boot_regs(&vm->vcpus[0], img->info.entry64, BOOT_ZERO_PAGE_ADDR, err) < 0)
		return vm_err_prefix(err, "boot vCPU");
	return 0;
}

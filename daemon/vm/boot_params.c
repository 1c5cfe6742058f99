/* boot_params.c - e820 map, initrd placement and the zero page.
 *
 * Pure layout functions (see boot.h for the fixed addresses). The e820 map
 * is what the guest believes about RAM: [0, EBDA) and [1 MiB, 3 GiB) plus,
 * for big VMs, [4 GiB, ...); the ACPI area at 0xe0000 is reserved so the
 * kernel never hands it out, and the MMIO hole holds the devices.
 */
#include "boot.h"
#include "guest_mem.h"

#include <string.h>

uint64_t boot_low_ram_end(uint64_t mem_bytes)
{
	return mem_bytes < GUEST_MMIO_HOLE_START ? mem_bytes : GUEST_MMIO_HOLE_START;
}

static int add_e820(struct boot_e820_entry *out, int n, int max, uint64_t addr,
		    uint64_t size, uint32_t type)
{
	if (n < max && size)
		out[n++] = (struct boot_e820_entry){ .addr = addr, .size = size, .type = type };
	return n;
}

int boot_e820(uint64_t mem_bytes, struct boot_e820_entry *out, int max)
{
	int n = 0;
	uint64_t low_end = boot_low_ram_end(mem_bytes);
	n = add_e820(out, n, max, 0, BOOT_EBDA_START, BOOT_E820_RAM);
	n = add_e820(out, n, max, BOOT_ACPI_START, BOOT_ACPI_SIZE, BOOT_E820_RESERVED);
	if (low_end > BOOT_HIGH_MEM_START)
		n = add_e820(out, n, max, BOOT_HIGH_MEM_START, low_end - BOOT_HIGH_MEM_START,
			     BOOT_E820_RAM);
	if (mem_bytes > GUEST_MMIO_HOLE_START)
		n = add_e820(out, n, max, GUEST_HIGH_RAM_START, mem_bytes - GUEST_MMIO_HOLE_START,
			     BOOT_E820_RAM);
	return n;
}

int boot_initrd_addr(const struct bzimage_info *k, uint64_t mem_bytes, uint64_t size,
		     uint64_t *addr, struct vm_err *err)
{
	uint64_t top = boot_low_ram_end(mem_bytes);
	if ((uint64_t)k->initrd_addr_max + 1 < top)
		top = (uint64_t)k->initrd_addr_max + 1;
	uint64_t kernel_end = k->load_addr + k->init_size;
	if (size > top || ((top - size) & ~0xfffULL) < kernel_end)
		return vm_errf(err, "initrd of %llu bytes does not fit between the kernel (ends at 0x%llx) and 0x%llx: give the VM more memory",
			       (unsigned long long)size, (unsigned long long)kernel_end,
			       (unsigned long long)top);
	*addr = (top - size) & ~0xfffULL;
	return 0;
}

int boot_params_fill(struct boot_params *bp, const struct bzimage_info *k,
		     const struct boot_layout *l, struct vm_err *err)
{
	if (l->cmdline_len > k->cmdline_max)
		return vm_errf(err, "command line is %zu bytes, the kernel takes at most %u",
			       l->cmdline_len, k->cmdline_max);
	if (k->load_addr + k->init_size > boot_low_ram_end(l->mem_bytes))
		return vm_errf(err, "kernel needs memory up to 0x%llx, VM has %llu MiB",
			       (unsigned long long)(k->load_addr + k->init_size),
			       (unsigned long long)(l->mem_bytes >> 20));
	memset(bp, 0, sizeof(*bp));
	bp->hdr = k->hdr;
	bp->hdr.type_of_loader = 0xff; /* undefined loader */
	bp->hdr.loadflags &= ~QUIET_FLAG;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.code32_start = (uint32_t)k->load_addr;
	bp->hdr.cmd_line_ptr = (uint32_t)BOOT_CMDLINE_ADDR;
	bp->hdr.ramdisk_image = (uint32_t)l->initrd_addr;
	bp->hdr.ramdisk_size = (uint32_t)l->initrd_size;
	bp->ext_ramdisk_image = (uint32_t)(l->initrd_addr >> 32);
	bp->ext_ramdisk_size = (uint32_t)(l->initrd_size >> 32);
	bp->acpi_rsdp_addr = l->rsdp_addr;
	bp->e820_entries = boot_e820(l->mem_bytes, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
	return 0;
}

size_t boot_reset_stub(uint8_t *out, size_t max)
{
	static const uint8_t stub[] = {
		0xb0, 0xfe,       /* mov $0xfe, %al */
		0xe6, 0x64,       /* out %al, $0x64 */
		0xf4,             /* 1: hlt */
		0xeb, 0xfd,       /* jmp 1b */
	};
	if (max < sizeof(stub))
		return 0;
	memcpy(out, stub, sizeof(stub));
	return sizeof(stub);
}

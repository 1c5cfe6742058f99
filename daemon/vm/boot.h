/* boot.h - Linux x86 boot protocol: bzImage parsing and the zero page.
 *
 * Pure functions (no KVM, no guest memory mapping): bzimage_parse() checks
 * a kernel file's setup header and says where its 64-bit code is;
 * boot_e820() lays out the guest's memory map; boot_params_fill() builds
 * the struct boot_params ("zero page") the kernel reads at entry.
 *
 * Fixed guest-physical layout below 1 MiB (all inside RAM):
 *   0x00500  GDT             0x07000  boot_params (zero page)
 *   0x08ff0  initial stack   0x09000  PML4, 0x0a000 PDPT, 0x0b000.. PDs
 *   0x20000  command line    0x9fc00  end of low RAM (EBDA above)
 *   0xe0000  ACPI tables (RSDP first), reserved in e820 up to 1 MiB
 *   0xf0000  VM generation ID (16 bytes, see vmgenid.h), in that reserved area
 *   0xffff0  reset vector stub (see boot_reset_stub)
 * The kernel goes to its preferred address (16 MiB on Debian), the initrd
 * as high as initrd_addr_max and RAM below 3 GiB allow.
 */
#ifndef SM_BOOT_H
#define SM_BOOT_H

#include <asm/bootparam.h>
#include <stddef.h>
#include <stdint.h>

#include "vm_err.h"

#define BOOT_GDT_ADDR       0x500ULL
#define BOOT_ZERO_PAGE_ADDR 0x7000ULL
#define BOOT_STACK_ADDR     0x8ff0ULL
#define BOOT_PML4_ADDR      0x9000ULL
#define BOOT_CMDLINE_ADDR   0x20000ULL
#define BOOT_CMDLINE_MAX    0x10000ULL
#define BOOT_EBDA_START     0x9fc00ULL
#define BOOT_ACPI_START     0xe0000ULL
#define BOOT_ACPI_SIZE      0x20000ULL  /* reserved in e820 */
#define BOOT_ACPI_TABLES_MAX 0x10000ULL /* the tables' share of it */
#define BOOT_VMGENID_ADDR   0xf0000ULL
#define BOOT_HIGH_MEM_START 0x100000ULL /* 1 MiB */
#define BOOT_RESET_VECTOR   0xffff0ULL
#define BOOT_MIN_VERSION    0x020c      /* 2.12: 64-bit entry, xloadflags */
#define BOOT_E820_RAM       1
#define BOOT_E820_RESERVED  2

struct bzimage_info {
	uint16_t version;        /* boot protocol, e.g. 0x020f */
	size_t setup_size;       /* bytes of real-mode setup, incl. boot sector */
	size_t kernel_offset;    /* = setup_size: protected-mode code in file */
	size_t kernel_size;      /* bytes of protected-mode code */
	uint64_t load_addr;      /* guest physical address to load it at */
	uint64_t entry64;        /* load_addr + 0x200 */
	uint32_t init_size;      /* memory the kernel needs from load_addr */
	uint32_t initrd_addr_max;/* highest byte an initrd may occupy */
	uint32_t cmdline_max;    /* longest command line, without the NUL */
	struct setup_header hdr; /* copy of the header as in the file */
};

/* Validate a bzImage held in buf[0..len); 0 or -1 with a message. */
int bzimage_parse(const uint8_t *buf, size_t len, struct bzimage_info *out, struct vm_err *err);

/* Read and validate a bzImage file; on success *buf is malloc'ed. */
int bzimage_load_file(const char *path, uint8_t **buf, size_t *len,
		      struct bzimage_info *out, struct vm_err *err);

/* e820 map for mem_bytes of RAM; returns the number of entries (<= max). */
int boot_e820(uint64_t mem_bytes, struct boot_e820_entry *out, int max);

/* Highest guest-physical address + 1 of RAM below the MMIO hole. */
uint64_t boot_low_ram_end(uint64_t mem_bytes);

/* Where an initrd of `size` bytes goes: page-aligned, below both
 * initrd_addr_max and low RAM end, above the kernel. 0 or -1 with err. */
int boot_initrd_addr(const struct bzimage_info *k, uint64_t mem_bytes, uint64_t size,
		     uint64_t *addr, struct vm_err *err);

struct boot_layout {
	uint64_t mem_bytes;
	size_t cmdline_len;      /* without the NUL */
	uint64_t initrd_addr, initrd_size; /* size 0: none */
	uint64_t rsdp_addr;
};

/* Real-mode code for the x86 reset vector (F000:FFF0), where a BIOS would
 * be: it pulses the i8042 reset line (port 0x64 <- 0xFE), which ends the
 * VM as a reboot, then halts. Linux reaches it when it reboots through
 * the BIOS: on a hardware-reduced ACPI machine without EFI its default
 * reboot order is EFI (absent) then BIOS. Returns the stub's length. */
size_t boot_reset_stub(uint8_t *out, size_t max);

/* Fill the zero page from the kernel's header and the layout. */
int boot_params_fill(struct boot_params *bp, const struct bzimage_info *k,
		     const struct boot_layout *l, struct vm_err *err);

#endif

/* acpi.h - the ACPI tables that tell a Linux guest about CPUs and devices.
 *
 * acpi_write_tables() is pure: it fills a caller's buffer that will sit at
 * guest-physical `gpa` (BOOT_ACPI_START) with, in order,
 *   RSDP (ACPI 2.0, first, 16-byte aligned: found by the BIOS-area scan
 *         and by boot_params.acpi_rsdp_addr)
 *   XSDT -> FADT, MADT      FADT -> DSDT
 *   FADT  revision 6, HW_REDUCED_ACPI, sleep control/status registers and
 *         a reset register, all in port I/O (see pm.h)
 *   MADT  one enabled local APIC per vCPU (APIC ID = index), one IOAPIC
 *   DSDT  \_SB.COM1 (PNP0501, the UART's ports and IRQ),
 *         \_SB.Vxxx: one LNRO0005 (virtio-mmio) device per slot,
 *         \_SB.VGEN (VMGENCTR: the VM generation ID's address, from ADDR)
 *         and \_SB.GED_ (ACPI0013: its edge interrupt runs _EVT, which
 *         notifies VGEN with 0x80) when vmgenid_addr is set, and _S5
 * and returns where each table landed so tests can cut them out.
 */
#ifndef SM_ACPI_H
#define SM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#define ACPI_IOAPIC_ADDR 0xfec00000u
#define ACPI_LAPIC_ADDR  0xfee00000u

struct acpi_config {
	int nvcpus;
	const struct virtio_slot *slots;
	int nslots;
	uint16_t sleep_ctl_port, sleep_sts_port, reset_port;
	uint8_t reset_value;
	uint8_t s5_slp_typ; /* value the guest writes to SLP_TYP for S5 */
	uint16_t com1_port; /* 8250 UART I/O base and ISA IRQ */
	uint8_t com1_irq;
	uint64_t vmgenid_addr; /* guest address of the 16-byte VM generation ID; 0: none */
	uint32_t ged_gsi;      /* GED interrupt (edge, active high) announcing a new ID */
};

enum acpi_table { ACPI_RSDP, ACPI_XSDT, ACPI_FADT, ACPI_MADT, ACPI_DSDT, ACPI_NTABLES };

struct acpi_layout {
	size_t offset[ACPI_NTABLES]; /* from the start of buf */
	size_t length[ACPI_NTABLES];
	size_t total;
};

/* 0, or -1 with err if the tables do not fit in len bytes. */
int acpi_write_tables(uint8_t *buf, size_t len, uint64_t gpa, const struct acpi_config *cfg,
		      struct acpi_layout *out, struct vm_err *err);

/* Sum of bytes mod 256 (a valid table sums to 0). */
uint8_t acpi_checksum(const uint8_t *p, size_t n);

#endif

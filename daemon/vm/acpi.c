/* acpi.c - write RSDP, XSDT, FADT, MADT and DSDT into a buffer (acpi.h).
 *
 * Tables are laid out one after another, 16-byte aligned; every field is
 * written little-endian by offset so the code reads like the spec's tables.
 */
#include "acpi.h"
#include "aml.h"

#include <string.h>

#define SDT_HEADER 36
#define FADT_LEN 276
#define FADT_HW_REDUCED (1u << 20)
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_BOOT_NO_VGA (1u << 2)
#define FADT_BOOT_NO_MSI (1u << 3)
#define FADT_BOOT_NO_CMOS_RTC (1u << 5)

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }

uint8_t acpi_checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

static void sdt_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "SPRMCH", 6);
	memcpy(t + 16, "SMVMM   ", 8);
	memcpy(t + 16, sig, 4);
	put32(t + 24, 1);
	memcpy(t + 28, "SMVM", 4);
	put32(t + 32, 1);
}

static void sdt_finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)-acpi_checksum(t, len);
}

/* Generic Address Structure for a byte-wide I/O port. */
static void gas_io8(uint8_t *p, uint16_t port)
{
	p[0] = 1; /* SystemIO */
	p[1] = 8; /* bit width */
	p[2] = 0; /* bit offset */
	p[3] = 1; /* byte access */
	put64(p + 4, port);
}

static size_t write_rsdp(uint8_t *t, uint64_t xsdt)
{
	memset(t, 0, 36);
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, "SPRMCH", 6);
	t[15] = 2; /* ACPI 2.0+ */
	put32(t + 20, 36);
	put64(t + 24, xsdt);
	t[8] = (uint8_t)-acpi_checksum(t, 20);
	t[32] = (uint8_t)-acpi_checksum(t, 36);
	return 36;
}

static size_t write_xsdt(uint8_t *t, const uint64_t *entries, int n)
{
	uint32_t len = SDT_HEADER + 8 * n;
	memset(t, 0, len);
	sdt_header(t, "XSDT", len, 1);
	for (int i = 0; i < n; i++)
		put64(t + SDT_HEADER + 8 * i, entries[i]);
	sdt_finish(t, len);
	return len;
}

static size_t write_fadt(uint8_t *t, uint64_t dsdt, const struct acpi_config *c)
{
	memset(t, 0, FADT_LEN);
	sdt_header(t, "FACP", FADT_LEN, 6);
	put32(t + 40, (uint32_t)dsdt);
	put16(t + 109, FADT_BOOT_NO_VGA | FADT_BOOT_NO_MSI | FADT_BOOT_NO_CMOS_RTC);
	put32(t + 112, FADT_HW_REDUCED | FADT_RESET_REG_SUP);
	gas_io8(t + 116, c->reset_port);
	t[128] = c->reset_value;
	t[131] = 5; /* FADT minor version: ACPI 6.5 */
	put64(t + 140, dsdt);
	gas_io8(t + 244, c->sleep_ctl_port);
	gas_io8(t + 256, c->sleep_sts_port);
	memcpy(t + 268, "SPRMCHN\0", 8); /* hypervisor vendor identity */
	sdt_finish(t, FADT_LEN);
	return FADT_LEN;
}

static size_t write_madt(uint8_t *t, const struct acpi_config *c)
{
	uint32_t len = SDT_HEADER + 8 + 8 * c->nvcpus + 12;
	memset(t, 0, len);
	sdt_header(t, "APIC", len, 5);
	put32(t + 36, ACPI_LAPIC_ADDR);
	put32(t + 40, 1); /* PCAT_COMPAT: the in-kernel irqchip has 8259s */
	uint8_t *p = t + 44;
	for (int i = 0; i < c->nvcpus; i++, p += 8) {
		p[0] = 0; /* Processor Local APIC */
		p[1] = 8;
		p[2] = (uint8_t)i; /* ACPI processor UID */
		p[3] = (uint8_t)i; /* APIC ID */
		put32(p + 4, 1);   /* enabled */
	}
	p[0] = 1; /* I/O APIC */
	p[1] = 12;
	p[2] = 0; /* IOAPIC ID */
	put32(p + 4, ACPI_IOAPIC_ADDR);
	put32(p + 8, 0); /* GSI base */
	sdt_finish(t, len);
	return len;
}

/* \_SB.VGEN, the VM generation ID (Microsoft's "Virtual Machine Generation
 * ID" spec, Linux's drivers/virt/vmgenid.c: it evaluates ADDR, a package of
 * the ID's low and high 32 address bits, and rereads the ID on Notify 0x80),
 * and \_SB.GED_, the Generic Event Device whose interrupt delivers that
 * Notify: Linux's evged runs _EVT(gsi) from its interrupt thread. */
static void write_vmgenid(struct aml *sb, const struct acpi_config *c)
{
	uint8_t dev_buf[256], body_buf[128], stmt_buf[64];
	struct aml dev, body, stmt;
	uint64_t addr[] = { c->vmgenid_addr & 0xffffffffu, c->vmgenid_addr >> 32 };
	aml_init(&dev, dev_buf, sizeof(dev_buf));
	aml_name_string(&dev, "_HID", "VMGENCTR");
	aml_name_string(&dev, "_CID", "VM_Gen_Counter");
	aml_name_string(&dev, "_DDN", "VM_Gen_Counter");
	aml_init(&body, body_buf, sizeof(body_buf));
	aml_return_package(&body, addr, 2);
	aml_method(&dev, "ADDR", 0, &body);
	aml_device(sb, "VGEN", &dev);

	aml_init(&dev, dev_buf, sizeof(dev_buf));
	aml_name_string(&dev, "_HID", "ACPI0013");
	aml_name_crs_irq(&dev, c->ged_gsi);
	aml_init(&stmt, stmt_buf, sizeof(stmt_buf));
	aml_notify(&stmt, "\\_SB_.VGEN", 0x80);
	aml_init(&body, body_buf, sizeof(body_buf));
	aml_if_arg_equal(&body, 0, c->ged_gsi, &stmt);
	aml_method(&dev, "_EVT", 1, &body);
	aml_device(sb, "GED_", &dev);
}

static int write_dsdt(uint8_t *t, size_t cap, const struct acpi_config *c, size_t *len)
{
	uint8_t sb_buf[8192], dev_buf[256];
	struct aml sb, dev, out;
	aml_init(&sb, sb_buf, sizeof(sb_buf));
	/* COM1: a hardware-reduced guest has no legacy PIC and maps no ISA
	 * IRQs by itself, so the UART's IRQ 4 reaches Linux only through an
	 * ACPI device (8250_pnp binds PNP0501). */
	aml_init(&dev, dev_buf, sizeof(dev_buf));
	aml_name_eisaid(&dev, "_HID", "PNP0501");
	aml_name_integer(&dev, "_UID", 0);
	aml_name_crs_io_irq(&dev, c->com1_port, 8, c->com1_irq);
	aml_device(&sb, "COM1", &dev);
	for (int i = 0; i < c->nslots; i++) {
		char name[8];
		snprintf(name, sizeof(name), "V%03X", i & 0xfff);
		aml_init(&dev, dev_buf, sizeof(dev_buf));
		aml_name_string(&dev, "_HID", "LNRO0005");
		aml_name_integer(&dev, "_UID", (uint64_t)i);
		aml_name_integer(&dev, "_CCA", 1); /* cache coherent DMA */
		aml_name_crs_mmio_irq(&dev, (uint32_t)c->slots[i].base, c->slots[i].size,
				      c->slots[i].gsi);
		aml_device(&sb, name, &dev);
	}
	if (c->vmgenid_addr)
		write_vmgenid(&sb, c);
	if (cap < SDT_HEADER)
		return -1;
	aml_init(&out, t + SDT_HEADER, cap - SDT_HEADER);
	aml_scope(&out, "\\_SB_", &sb);
	uint64_t s5[] = { c->s5_slp_typ, 0 };
	aml_name_package(&out, "\\_S5_", s5, 2);
	if (out.overflow || sb.overflow)
		return -1;
	*len = SDT_HEADER + out.len;
	sdt_header(t, "DSDT", (uint32_t)*len, 2);
	sdt_finish(t, (uint32_t)*len);
	return 0;
}

static size_t align16(size_t v)
{
	return (v + 15) & ~(size_t)15;
}

int acpi_write_tables(uint8_t *buf, size_t len, uint64_t gpa, const struct acpi_config *c,
		      struct acpi_layout *out, struct vm_err *err)
{
	if (c->nvcpus < 1 || c->nvcpus > 255)
		return vm_errf(err, "ACPI: %d vCPUs (1..255 supported)", c->nvcpus);
	size_t madt_len = SDT_HEADER + 8 + 8 * c->nvcpus + 12;
	size_t off[ACPI_NTABLES];
	off[ACPI_RSDP] = 0;
	off[ACPI_XSDT] = 48;
	off[ACPI_FADT] = align16(off[ACPI_XSDT] + SDT_HEADER + 16);
	off[ACPI_MADT] = align16(off[ACPI_FADT] + FADT_LEN);
	off[ACPI_DSDT] = align16(off[ACPI_MADT] + madt_len);
	if (off[ACPI_DSDT] + SDT_HEADER > len)
		return vm_errf(err, "ACPI tables do not fit in %zu bytes", len);
	memset(buf, 0, off[ACPI_DSDT]);
	size_t dsdt_len;
	if (write_dsdt(buf + off[ACPI_DSDT], len - off[ACPI_DSDT], c, &dsdt_len) < 0)
		return vm_errf(err, "ACPI DSDT for %d slots does not fit in %zu bytes", c->nslots, len);
	uint64_t xsdt_entries[] = { gpa + off[ACPI_FADT], gpa + off[ACPI_MADT] };
	out->length[ACPI_RSDP] = write_rsdp(buf, gpa + off[ACPI_XSDT]);
	out->length[ACPI_XSDT] = write_xsdt(buf + off[ACPI_XSDT], xsdt_entries, 2);
	out->length[ACPI_FADT] = write_fadt(buf + off[ACPI_FADT], gpa + off[ACPI_DSDT], c);
	out->length[ACPI_MADT] = write_madt(buf + off[ACPI_MADT], c);
	out->length[ACPI_DSDT] = dsdt_len;
	memcpy(out->offset, off, sizeof(off));
	out->total = off[ACPI_DSDT] + dsdt_len;
	return 0;
}

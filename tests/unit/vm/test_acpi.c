/* test_acpi.c - the ACPI tables: layout, checksums, and `iasl -d` (the
 * reference disassembler) accepting each table; the MADT lists exactly N
 * processors and the DSDT one LNRO0005 device per virtio slot, the VM
 * generation ID device and its GED. `acpiexec` (ACPICA's interpreter, as
 * in Linux) runs the DSDT's VGEN.ADDR and GED._EVT. */
#include "../check_main.h"
#include "daemon/vm/acpi.h"
#include "daemon/vm/aml.h"
#include "daemon/vm/pm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GPA 0xe0000
#define TEST_VMGENID_ADDR 0xf0000 /* as vm_boot gives (vmgenid.h) */
#define TEST_GED_GSI 23

static uint8_t buf[0x20000];

static uint64_t vmgenid_addr = TEST_VMGENID_ADDR;

static void layout(int nvcpus, int nslots, struct acpi_layout *l)
{
	static struct virtio_slot slots[VM_MAX_VIRTIO_SLOTS];
	for (int i = 0; i < nslots; i++)
		slots[i] = (struct virtio_slot){ VM_VIRTIO_MMIO_BASE + i * 0x1000, 0x1000,
						 VM_VIRTIO_GSI_BASE + i };
	struct acpi_config c = {
		.nvcpus = nvcpus, .slots = slots, .nslots = nslots,
		.sleep_ctl_port = PM_SLEEP_CTL_PORT, .sleep_sts_port = PM_SLEEP_STS_PORT,
		.reset_port = PM_RESET_PORT, .reset_value = PM_RESET_VALUE,
		.s5_slp_typ = PM_S5_SLP_TYP, .com1_port = 0x3f8, .com1_irq = 4,
		.vmgenid_addr = vmgenid_addr, .ged_gsi = TEST_GED_GSI,
	};
	struct vm_err err = { "" };
	memset(buf, 0xee, sizeof(buf));
	ck_assert_msg(acpi_write_tables(buf, sizeof(buf), GPA, &c, l, &err) == 0, "%s", err.msg);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

START_TEST(checksums_and_links)
{
	struct acpi_layout l;
	layout(2, 3, &l);
	uint8_t *rsdp = buf + l.offset[ACPI_RSDP];
	ck_assert_int_eq(memcmp(rsdp, "RSD PTR ", 8), 0);
	ck_assert_uint_eq(acpi_checksum(rsdp, 20), 0);
	ck_assert_uint_eq(acpi_checksum(rsdp, 36), 0);
	ck_assert_uint_eq(get64(rsdp + 24), GPA + l.offset[ACPI_XSDT]);
	for (int t = ACPI_XSDT; t < ACPI_NTABLES; t++) {
		uint8_t *p = buf + l.offset[t];
		uint32_t len;
		memcpy(&len, p + 4, 4);
		ck_assert_uint_eq(len, l.length[t]);
		ck_assert_uint_eq(acpi_checksum(p, len), 0);
		ck_assert_uint_eq(l.offset[t] % 16, 0);
	}
	uint8_t *xsdt = buf + l.offset[ACPI_XSDT];
	ck_assert_uint_eq(get64(xsdt + 36), GPA + l.offset[ACPI_FADT]);
	ck_assert_uint_eq(get64(xsdt + 44), GPA + l.offset[ACPI_MADT]);
	uint8_t *fadt = buf + l.offset[ACPI_FADT];
	ck_assert_int_eq(memcmp(fadt, "FACP", 4), 0);
	ck_assert_uint_eq(get64(fadt + 140), GPA + l.offset[ACPI_DSDT]);
	uint32_t flags;
	memcpy(&flags, fadt + 112, 4);
	ck_assert_uint_ne(flags & (1u << 20), 0); /* HW_REDUCED_ACPI */
	ck_assert_uint_eq(get64(fadt + 244 + 4), PM_SLEEP_CTL_PORT);
	ck_assert_uint_eq(fadt[128], PM_RESET_VALUE);
	ck_assert_uint_le(l.total, sizeof(buf));
	ck_assert_uint_eq(buf[l.total], 0xee); /* nothing written past total */
}
END_TEST

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *text = calloc(1, 1 << 20);
	size_t n = fread(text, 1, (1 << 20) - 1, f);
	text[n] = 0;
	fclose(f);
	return text;
}

static void write_table(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	fclose(f);
}

/* Run iasl -d on one table; return its disassembly (malloc'ed). */
static char *disassemble(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[512], cmd[1024];
	write_table(dir, name, p, len);
	const char *iasl = getenv("IASL") ? getenv("IASL") : "iasl";
	snprintf(cmd, sizeof(cmd), "cd %s && %s -d %s.dat > %s.log 2>&1", dir, iasl, name, name);
	int rc = system(cmd);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
	char *text = read_text(path);
	ck_assert_msg(rc == 0 && text, "iasl -d %s failed (rc %d), see %s/%s.log", name, rc, dir,
		      name);
	return text;
}

/* Run acpiexec's batch commands against a DSDT written as dir/name.dat
 * (a hardware-reduced FADT of its own); return its output (malloc'ed). */
static char *acpiexec(const char *dir, const char *name, const char *cmds)
{
	char path[512], cmd[1024];
	const char *exe = getenv("ACPIEXEC") ? getenv("ACPIEXEC") : "acpiexec";
	snprintf(cmd, sizeof(cmd), "cd %s && timeout 60 %s -r -b '%s' %s.dat > %s.exec 2>&1",
		 dir, exe, cmds, name, name);
	int rc = system(cmd);
	snprintf(path, sizeof(path), "%s/%s.exec", dir, name);
	char *text = read_text(path);
	ck_assert_msg(rc == 0 && text, "acpiexec %s failed (rc %d), see %s", name, rc, path);
	return text;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void rm_rf(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void check_iasl(int nvcpus, int nslots)
{
	struct acpi_layout l;
	layout(nvcpus, nslots, &l);
	char dir[] = "/tmp/sm-acpi-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	static const char *names[] = { "rsdp", "xsdt", "facp", "apic", "dsdt" };
	char *text[ACPI_NTABLES] = { NULL };
	/* The RSDP has no SDT header, which iasl's file loader needs; its two
	 * checksums and the XSDT link are checked in checksums_and_links. */
	for (int t = ACPI_XSDT; t < ACPI_NTABLES; t++) {
		text[t] = disassemble(dir, names[t], buf + l.offset[t], l.length[t]);
		ck_assert_msg(!strstr(text[t], "Error") || strstr(text[t], "Error Location"),
			      "%s disassembly reports an error", names[t]);
	}
	ck_assert_int_eq(count(text[ACPI_MADT], "Processor Local APIC"), nvcpus);
	ck_assert_int_eq(count(text[ACPI_MADT], "I/O APIC"), 1);
	ck_assert_int_eq(count(text[ACPI_DSDT], "\"LNRO0005\""), nslots);
	ck_assert_ptr_nonnull(strstr(text[ACPI_DSDT], "_S5"));
	ck_assert_ptr_nonnull(strstr(text[ACPI_DSDT], "EisaId (\"PNP0501\")"));
	ck_assert_ptr_nonnull(strstr(text[ACPI_DSDT], "IRQNoFlags ()\n                    {4}"));
	ck_assert_ptr_nonnull(strstr(text[ACPI_DSDT], "0x03F8,             // Range Minimum"));
	ck_assert_ptr_nonnull(strstr(text[ACPI_FADT], "Hardware Reduced (V5) : 1"));
	ck_assert_int_eq(count(text[ACPI_DSDT], "\"VMGENCTR\""), 1);
	ck_assert_int_eq(count(text[ACPI_DSDT], "\"ACPI0013\""), 1);
	if (nslots) {
		ck_assert_ptr_nonnull(strstr(text[ACPI_DSDT], "0xD0000000"));
		char gsi[64];
		snprintf(gsi, sizeof(gsi), "0x%08X,", VM_VIRTIO_GSI_BASE + nslots - 1);
		ck_assert_msg(strstr(text[ACPI_DSDT], gsi), "no interrupt %s in DSDT", gsi);
	}
	for (int t = 0; t < ACPI_NTABLES; t++)
		free(text[t]);
	rm_rf(dir);
}

START_TEST(iasl_1cpu_0slots) { check_iasl(1, 0); }
END_TEST
START_TEST(iasl_2cpu_3slots) { check_iasl(2, 3); }
END_TEST
START_TEST(iasl_8cpu_16slots) { check_iasl(8, VM_MAX_VIRTIO_SLOTS); }
END_TEST

/* The DSDT with the VM generation ID at addr: iasl shows both devices;
 * ACPICA evaluates ADDR to {low, high} and _EVT(gsi) notifies VGEN with
 * 0x80, while _EVT of another GSI notifies nothing. */
static void check_vmgenid(uint64_t addr)
{
	struct acpi_layout l;
	vmgenid_addr = addr;
	layout(2, 3, &l);
	vmgenid_addr = TEST_VMGENID_ADDR;
	char dir[] = "/tmp/sm-acpi-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *dsl = disassemble(dir, "dsdt", buf + l.offset[ACPI_DSDT], l.length[ACPI_DSDT]);
	ck_assert_ptr_nonnull(strstr(dsl, "Device (VGEN)"));
	ck_assert_ptr_nonnull(strstr(dsl, "Name (_HID, \"VMGENCTR\")"));
	ck_assert_ptr_nonnull(strstr(dsl, "Name (_CID, \"VM_Gen_Counter\")"));
	ck_assert_ptr_nonnull(strstr(dsl, "Method (ADDR, 0, NotSerialized)"));
	ck_assert_ptr_nonnull(strstr(dsl, "Device (GED)"));
	ck_assert_ptr_nonnull(strstr(dsl, "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive"));
	ck_assert_ptr_nonnull(strstr(dsl, "Method (_EVT, 1, NotSerialized)"));
	ck_assert_ptr_nonnull(strstr(dsl, "Notify (\\_SB.VGEN, 0x80)"));
	char want[128];
	snprintf(want, sizeof(want), "0x%08X,", TEST_GED_GSI);
	ck_assert_msg(strstr(dsl, want), "no GED interrupt %s in the DSDT", want);

	char cmds[200];
	snprintf(cmds, sizeof(cmds), "evaluate \\_SB.VGEN.ADDR; evaluate \\_SB.GED._EVT %d; "
		 "evaluate \\_SB.GED._EVT %d", TEST_GED_GSI, TEST_GED_GSI - 1);
	char *out = acpiexec(dir, "dsdt", cmds);
	snprintf(want, sizeof(want), "[Package] Contains 2 Elements:\n"
		 "    [Integer] = %016llX\n    [Integer] = %016llX\n",
		 (unsigned long long)(addr & 0xffffffffu), (unsigned long long)(addr >> 32));
	ck_assert_msg(strstr(out, want), "ADDR did not return %s:\n%s", want, out);
	ck_assert_msg(count(out, "Received a Device Notify on [VGEN]") == 1 &&
		      strstr(out, "Value 0x80"), "_EVT did not notify VGEN once:\n%s", out);
	ck_assert_msg(!strstr(out, "Error") && !strstr(out, "AE_"), "acpiexec:\n%s", out);
	free(dsl);
	free(out);
	rm_rf(dir);
}

START_TEST(vmgenid_low_addr) { check_vmgenid(TEST_VMGENID_ADDR); }
END_TEST
START_TEST(vmgenid_high_addr) { check_vmgenid(0x123456780ULL); }
END_TEST

/* No generation ID address: neither VGEN nor the GED. */
START_TEST(vmgenid_absent)
{
	struct acpi_layout l;
	vmgenid_addr = 0;
	layout(1, 1, &l);
	vmgenid_addr = TEST_VMGENID_ADDR;
	char dir[] = "/tmp/sm-acpi-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *dsl = disassemble(dir, "dsdt", buf + l.offset[ACPI_DSDT], l.length[ACPI_DSDT]);
	ck_assert_ptr_null(strstr(dsl, "VMGENCTR"));
	ck_assert_ptr_null(strstr(dsl, "ACPI0013"));
	ck_assert_ptr_nonnull(strstr(dsl, "LNRO0005"));
	free(dsl);
	rm_rf(dir);
}
END_TEST

START_TEST(aml_pkglength)
{
	uint8_t b[8192], body_buf[4096];
	struct aml a, body;
	/* 62-byte body: one-byte PkgLength (62 + 1 = 63 < 64). */
	aml_init(&body, body_buf, sizeof(body_buf));
	for (int i = 0; i < 62; i++)
		aml_byte(&body, 0x01);
	aml_init(&a, b, sizeof(b));
	uint8_t op = 0x12;
	aml_pkg(&a, &op, 1, &body);
	ck_assert_uint_eq(b[1], 63);
	/* 63-byte body: two bytes, total 65 = 0x41 -> 0x41, 0x04. */
	aml_byte(&body, 0x01);
	aml_init(&a, b, sizeof(b));
	aml_pkg(&a, &op, 1, &body);
	ck_assert_uint_eq(b[1], 0x41);
	ck_assert_uint_eq(b[2], 0x04);
	ck_assert_uint_eq(a.len, 1 + 2 + 63);
	/* Overflow is recorded, not written. */
	aml_init(&a, b, 4);
	aml_string(&a, "LNRO0005");
	ck_assert(a.overflow);
}
END_TEST

START_TEST(too_small_buffer)
{
	struct acpi_config c = { .nvcpus = 1 };
	struct acpi_layout l;
	struct vm_err err = { "" };
	ck_assert_int_eq(acpi_write_tables(buf, 200, GPA, &c, &l, &err), -1);
	c.nvcpus = 0;
	ck_assert_int_eq(acpi_write_tables(buf, sizeof(buf), GPA, &c, &l, &err), -1);
}
END_TEST

static Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *t = tcase_create("acpi");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, checksums_and_links);
	tcase_add_test(t, iasl_1cpu_0slots);
	tcase_add_test(t, iasl_2cpu_3slots);
	tcase_add_test(t, iasl_8cpu_16slots);
	tcase_add_test(t, vmgenid_low_addr);
	tcase_add_test(t, vmgenid_high_addr);
	tcase_add_test(t, vmgenid_absent);
	tcase_add_test(t, aml_pkglength);
	tcase_add_test(t, too_small_buffer);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(acpi_suite)

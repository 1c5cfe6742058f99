/* test_acpi.c - the ACPI tables: layout, checksums, and `iasl -d` (the
 * reference disassembler) accepting each table; the MADT lists exactly N
 * processors and the DSDT one LNRO0005 device per virtio slot. */
#include "../check_main.h"
#include "daemon/vm/acpi.h"
#include "daemon/vm/aml.h"
#include "daemon/vm/pm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GPA 0xe0000

static uint8_t buf[0x20000];

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

/* Run iasl -d on one table; return its disassembly (malloc'ed). */
static char *disassemble(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[512], cmd[1024];
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, len, f), len);
	fclose(f);
	const char *iasl = getenv("IASL") ? getenv("IASL") : "iasl";
	snprintf(cmd, sizeof(cmd), "cd %s && %s -d %s.dat > %s.log 2>&1", dir, iasl, name, name);
	int rc = system(cmd);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
	f = fopen(path, "r");
	ck_assert_msg(rc == 0 && f, "iasl -d %s failed (rc %d), see %s/%s.log", name, rc, dir, name);
	char *text = calloc(1, 1 << 20);
	size_t n = fread(text, 1, (1 << 20) - 1, f);
	text[n] = 0;
	fclose(f);
	return text;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
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
	if (nslots) {
		ck_assert_ptr_nonnull(strstr(text[ACPI_DSDT], "0xD0000000"));
		char gsi[64];
		snprintf(gsi, sizeof(gsi), "0x%08X,", VM_VIRTIO_GSI_BASE + nslots - 1);
		ck_assert_msg(strstr(text[ACPI_DSDT], gsi), "no interrupt %s in DSDT", gsi);
	}
	for (int t = 0; t < ACPI_NTABLES; t++)
		free(text[t]);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(iasl_1cpu_0slots) { check_iasl(1, 0); }
END_TEST
START_TEST(iasl_2cpu_3slots) { check_iasl(2, 3); }
END_TEST
START_TEST(iasl_8cpu_16slots) { check_iasl(8, VM_MAX_VIRTIO_SLOTS); }
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
	tcase_add_test(t, aml_pkglength);
	tcase_add_test(t, too_small_buffer);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(acpi_suite)

/* aml.h - a tiny ACPI Machine Language encoder for the DSDT.
 *
 * Just what the VMM's DSDT needs: scopes, devices, named strings, integers,
 * packages, resource-template buffers, and the few method statements of
 * the VM generation ID and its GED (Return, If/LEqual on an argument,
 * Notify). A struct aml is a byte buffer
 * with a fixed capacity; writes past it set `overflow` instead of writing,
 * so callers check once at the end.
 */
#ifndef SM_AML_H
#define SM_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len, cap;
	bool overflow;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t b);
/* NameSeg/NameString: "\\_SB_", "V000" (segments padded with '_'). */
void aml_name(struct aml *a, const char *name);
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* PkgLength-prefixed blocks: op bytes, PkgLength, then body. */
void aml_pkg(struct aml *a, const uint8_t *op, size_t oplen, const struct aml *body);
/* Name(name, <integer>) / Name(name, "string") */
void aml_name_integer(struct aml *a, const char *name, uint64_t v);
void aml_name_string(struct aml *a, const char *name, const char *s);
/* Scope(name) { body } / Device(name) { body } */
void aml_scope(struct aml *a, const char *name, const struct aml *body);
void aml_device(struct aml *a, const char *name, const struct aml *body);
/* Name(name, Package(){ v[0], ... }) */
void aml_name_package(struct aml *a, const char *name, const uint64_t *v, int n);
/* Name(name, EisaId("PNP0501")): 3 letters + 4 hex digits, compressed. */
void aml_name_eisaid(struct aml *a, const char *name, const char *id);
/* Name(_CRS, ResourceTemplate(){ IO(Decode16, port, port, 0, len)
 *   IRQNoFlags(){ irq } }) - an ISA device such as a UART. */
void aml_name_crs_io_irq(struct aml *a, uint16_t port, uint8_t len, uint8_t irq);
/* Name(_CRS, ResourceTemplate(){ Memory32Fixed(ReadWrite, base, size)
 *   Interrupt(ResourceConsumer, Edge, ActiveHigh, Exclusive){ gsi } }) */
void aml_name_crs_mmio_irq(struct aml *a, uint32_t base, uint32_t size, uint32_t gsi);
/* Name(_CRS, ResourceTemplate(){
 *   Interrupt(ResourceConsumer, Edge, ActiveHigh, Exclusive){ gsi } }) */
void aml_name_crs_irq(struct aml *a, uint32_t gsi);

/* Method(name, nargs, NotSerialized) { body } */
void aml_method(struct aml *a, const char *name, int nargs, const struct aml *body);
/* Return(Package(){ v[0], ... }) */
void aml_return_package(struct aml *a, const uint64_t *v, int n);
/* If (LEqual(Arg<arg>, v)) { body } */
void aml_if_arg_equal(struct aml *a, int arg, uint64_t v, const struct aml *body);
/* Notify(path, value), e.g. Notify(\_SB_.VGEN, 0x80) */
void aml_notify(struct aml *a, const char *path, uint64_t value);

#endif

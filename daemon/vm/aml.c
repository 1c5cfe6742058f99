/* aml.c - AML byte encoding (ACPI spec, chapter 20). See aml.h. */
#include "aml.h"

#include <string.h>

#define AML_NAME_OP    0x08
#define AML_SCOPE_OP   0x10
#define AML_BUFFER_OP  0x11
#define AML_PACKAGE_OP 0x12
#define AML_EXT_OP     0x5b
#define AML_DEVICE_OP  0x82
#define AML_METHOD_OP  0x14
#define AML_ARG0_OP    0x68
#define AML_NOTIFY_OP  0x86
#define AML_LEQUAL_OP  0x93
#define AML_IF_OP      0xa0
#define AML_RETURN_OP  0xa4

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	*a = (struct aml){ .buf = buf, .cap = cap };
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void name_seg(struct aml *a, const char *s, size_t n)
{
	char seg[4] = { '_', '_', '_', '_' };
	memcpy(seg, s, n > 4 ? 4 : n);
	aml_bytes(a, seg, 4);
}

void aml_name(struct aml *a, const char *name)
{
	if (*name == '\\') {
		aml_byte(a, '\\');
		name++;
	}
	const char *segs[8];
	size_t lens[8];
	int n = 0;
	while (*name && n < 8) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		segs[n] = name;
		lens[n++] = l;
		name += l + (dot ? 1 : 0);
	}
	if (n == 0) {
		aml_byte(a, 0); /* NullName */
		return;
	}
	if (n == 2)
		aml_byte(a, 0x2e); /* DualNamePrefix */
	else if (n > 2) {
		aml_byte(a, 0x2f); /* MultiNamePrefix */
		aml_byte(a, (uint8_t)n);
	}
	for (int i = 0; i < n; i++)
		name_seg(a, segs[i], lens[i]);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v <= 1) {
		aml_byte(a, (uint8_t)v); /* ZeroOp / OneOp */
		return;
	}
	uint8_t prefix = v <= 0xff ? 0x0a : v <= 0xffff ? 0x0b : v <= 0xffffffffULL ? 0x0c : 0x0e;
	size_t n = prefix == 0x0a ? 1 : prefix == 0x0b ? 2 : prefix == 0x0c ? 4 : 8;
	aml_byte(a, prefix);
	for (size_t i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, 0x0d);
	aml_bytes(a, s, strlen(s) + 1);
}

/* PkgLength counts its own bytes plus what follows (ACPI 20.2.4). */
static void pkg_length(struct aml *a, size_t body)
{
	size_t total;
	if (body + 1 < 0x40) {
		aml_byte(a, (uint8_t)(body + 1));
		return;
	}
	int extra = body + 2 < 0x1000 ? 1 : body + 3 < 0x100000 ? 2 : 3;
	total = body + 1 + extra;
	aml_byte(a, (uint8_t)((extra << 6) | (total & 0xf)));
	for (int i = 0; i < extra; i++)
		aml_byte(a, (uint8_t)(total >> (4 + 8 * i)));
}

void aml_pkg(struct aml *a, const uint8_t *op, size_t oplen, const struct aml *body)
{
	if (body->overflow)
		a->overflow = true;
	aml_bytes(a, op, oplen);
	pkg_length(a, body->len);
	aml_bytes(a, body->buf, body->len);
}

void aml_name_integer(struct aml *a, const char *name, uint64_t v)
{
	aml_byte(a, AML_NAME_OP);
	aml_name(a, name);
	aml_integer(a, v);
}

void aml_name_string(struct aml *a, const char *name, const char *s)
{
	aml_byte(a, AML_NAME_OP);
	aml_name(a, name);
	aml_string(a, s);
}

/* A PkgLength block whose body starts with a head (a name, a name and
 * method flags, an If's predicate) followed by the caller's terms. */
static void block(struct aml *a, const uint8_t *op, size_t oplen, const struct aml *head,
		  const struct aml *body)
{
	uint8_t tmp[8192];
	struct aml inner;
	aml_init(&inner, tmp, sizeof(tmp));
	aml_bytes(&inner, head->buf, head->len);
	aml_bytes(&inner, body->buf, body->len);
	inner.overflow |= head->overflow || body->overflow;
	aml_pkg(a, op, oplen, &inner);
}

static void named_block(struct aml *a, const uint8_t *op, size_t oplen, const char *name,
			const struct aml *body)
{
	uint8_t tmp[256];
	struct aml head;
	aml_init(&head, tmp, sizeof(tmp));
	aml_name(&head, name);
	block(a, op, oplen, &head, body);
}

void aml_scope(struct aml *a, const char *name, const struct aml *body)
{
	static const uint8_t op[] = { AML_SCOPE_OP };
	named_block(a, op, sizeof(op), name, body);
}

void aml_device(struct aml *a, const char *name, const struct aml *body)
{
	static const uint8_t op[] = { AML_EXT_OP, AML_DEVICE_OP };
	named_block(a, op, sizeof(op), name, body);
}

/* Package(){ v[0], ... } */
static void package(struct aml *a, const uint64_t *v, int n)
{
	static const uint8_t op[] = { AML_PACKAGE_OP };
	uint8_t tmp[256];
	struct aml inner;
	aml_init(&inner, tmp, sizeof(tmp));
	aml_byte(&inner, (uint8_t)n); /* NumElements */
	for (int i = 0; i < n; i++)
		aml_integer(&inner, v[i]);
	aml_pkg(a, op, sizeof(op), &inner);
}

void aml_name_package(struct aml *a, const char *name, const uint64_t *v, int n)
{
	aml_byte(a, AML_NAME_OP);
	aml_name(a, name);
	package(a, v, n);
}

void aml_method(struct aml *a, const char *name, int nargs, const struct aml *body)
{
	static const uint8_t op[] = { AML_METHOD_OP };
	uint8_t tmp[256];
	struct aml head;
	aml_init(&head, tmp, sizeof(tmp));
	aml_name(&head, name);
	aml_byte(&head, (uint8_t)(nargs & 7)); /* MethodFlags: NotSerialized, SyncLevel 0 */
	block(a, op, sizeof(op), &head, body);
}

void aml_return_package(struct aml *a, const uint64_t *v, int n)
{
	aml_byte(a, AML_RETURN_OP);
	package(a, v, n);
}

void aml_if_arg_equal(struct aml *a, int arg, uint64_t v, const struct aml *body)
{
	static const uint8_t op[] = { AML_IF_OP };
	uint8_t tmp[16];
	struct aml pred;
	aml_init(&pred, tmp, sizeof(tmp));
	aml_byte(&pred, AML_LEQUAL_OP);
	aml_byte(&pred, (uint8_t)(AML_ARG0_OP + (arg & 7)));
	aml_integer(&pred, v);
	block(a, op, sizeof(op), &pred, body);
}

void aml_notify(struct aml *a, const char *path, uint64_t value)
{
	aml_byte(a, AML_NOTIFY_OP);
	aml_name(a, path);
	aml_integer(a, value);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Extended Interrupt descriptor: tag 0x89, length 6, flags consumer |
 * edge (active high, exclusive), one interrupt: 9 bytes. */
static void ext_irq(uint8_t *p, uint32_t gsi)
{
	p[0] = 0x89, p[1] = 6, p[2] = 0, p[3] = 0x03, p[4] = 1;
	put32(p + 5, gsi);
}

/* Name(_CRS, Buffer(){ res... }), res ending in its end tag. */
static void name_crs(struct aml *a, const uint8_t *res, size_t n)
{
	static const uint8_t op[] = { AML_BUFFER_OP };
	uint8_t tmp[64];
	struct aml inner;
	aml_init(&inner, tmp, sizeof(tmp));
	aml_integer(&inner, n); /* BufferSize */
	aml_bytes(&inner, res, n);
	aml_byte(a, AML_NAME_OP);
	aml_name(a, "_CRS");
	aml_pkg(a, op, sizeof(op), &inner);
}

void aml_name_crs_mmio_irq(struct aml *a, uint32_t base, uint32_t size, uint32_t gsi)
{
	uint8_t res[12 + 9 + 2];
	/* Memory32Fixed: tag 0x86, length 9, read/write, base, length. */
	res[0] = 0x86, res[1] = 9, res[2] = 0, res[3] = 1;
	put32(res + 4, base);
	put32(res + 8, size);
	ext_irq(res + 12, gsi);
	/* End tag with checksum 0 ("treat as correct"). */
	res[21] = 0x79, res[22] = 0;
	name_crs(a, res, sizeof(res));
}

void aml_name_crs_irq(struct aml *a, uint32_t gsi)
{
	uint8_t res[9 + 2];
	ext_irq(res, gsi);
	res[9] = 0x79, res[10] = 0;
	name_crs(a, res, sizeof(res));
}

void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	uint16_t vendor = (uint16_t)(((id[0] - 0x40) & 0x1f) << 10 | ((id[1] - 0x40) & 0x1f) << 5 |
				     ((id[2] - 0x40) & 0x1f));
	unsigned product = 0;
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		product = product << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	/* Stored big-endian byte by byte: vendor, then product. */
	uint32_t v = (uint32_t)(vendor >> 8) | (uint32_t)(vendor & 0xff) << 8 |
		     (uint32_t)(product >> 8) << 16 | (uint32_t)(product & 0xff) << 24;
	aml_byte(a, AML_NAME_OP);
	aml_name(a, name);
	aml_byte(a, 0x0c); /* DWordPrefix, always: EisaId is a DWORD */
	for (int i = 0; i < 4; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_name_crs_io_irq(struct aml *a, uint16_t port, uint8_t len, uint8_t irq)
{
	const uint8_t res[] = {
		0x47, 0x01, port & 0xff, port >> 8, port & 0xff, port >> 8, 0x00, len, /* IO */
		0x22, (uint8_t)((1u << irq) & 0xff), (uint8_t)((1u << irq) >> 8),   /* IRQNoFlags */
		0x79, 0x00,                                                          /* end */
	};
	name_crs(a, res, sizeof(res));
}

/* snap_buf.h - the byte encoding of snapshot state: a growable writer and a
 * bounds-checked reader, both little-endian, with tagged sections.
 *
 * Every saved thing (a vCPU, the VM's KVM state, each device) is one
 * section: a 4-byte tag, a u32 format version of that section and a u32
 * length, then its fields. A reader opens a section by tag (wrong tag,
 * unknown version or a length past the end is an error) and reads fields
 * from a sub-reader confined to it, so a damaged length can never make a
 * device read another device's bytes.
 *
 * Errors stick: after the first failure every get returns false and
 * r->err keeps the first message (what was being read, at which offset).
 * Device restore code adds its own checks with snap_fail().
 *
 * Nothing here holds host pointers into the VM; callers save guest
 * addresses and indexes only.
 */
#ifndef SM_SNAP_BUF_H
#define SM_SNAP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | \
			      (uint32_t)(d) << 24)

struct snap_writer {
	uint8_t *buf;
	size_t len, cap;
	bool oom;            /* an allocation failed: the result is unusable */
};

void snap_writer_init(struct snap_writer *w);
void snap_writer_free(struct snap_writer *w);
void snap_put_u8(struct snap_writer *w, uint8_t v);
void snap_put_u16(struct snap_writer *w, uint16_t v);
void snap_put_u32(struct snap_writer *w, uint32_t v);
void snap_put_u64(struct snap_writer *w, uint64_t v);
void snap_put_bool(struct snap_writer *w, bool v);
void snap_put_bytes(struct snap_writer *w, const void *p, size_t n);
/* A string as u32 length + bytes (no NUL). */
void snap_put_str(struct snap_writer *w, const char *s);
/* Start a section; returns a handle for snap_end (its offset). */
size_t snap_begin(struct snap_writer *w, uint32_t tag, uint32_t version);
void snap_end(struct snap_writer *w, size_t handle);

struct snap_reader {
	const uint8_t *p;
	size_t len, off;
	size_t base;         /* offset of p within the whole file (messages) */
	bool bad;
	char err[512];
};

void snap_reader_init(struct snap_reader *r, const void *p, size_t len);
bool snap_get_u8(struct snap_reader *r, uint8_t *v);
bool snap_get_u16(struct snap_reader *r, uint16_t *v);
bool snap_get_u32(struct snap_reader *r, uint32_t *v);
bool snap_get_u64(struct snap_reader *r, uint64_t *v);
/* A u8 that must be 0 or 1. */
bool snap_get_bool(struct snap_reader *r, bool *v);
bool snap_get_bytes(struct snap_reader *r, void *p, size_t n);
/* A KVM structure saved as u32 size + bytes: the size must be n (this
 * host's), or the section was made by a KVM with another layout. */
bool snap_get_sized(struct snap_reader *r, void *p, uint32_t n, const char *what);
void snap_put_sized(struct snap_writer *w, const void *p, uint32_t n);
/* A string into out (cap bytes with the NUL); too long is an error. */
bool snap_get_str(struct snap_reader *r, char *out, size_t cap);
/* Open the next section: it must carry tag and a version in
 * [1, max_version]. *sub reads its body; r moves past it. */
bool snap_open(struct snap_reader *r, uint32_t tag, uint32_t max_version,
	       struct snap_reader *sub, uint32_t *version);
/* The tag of the next section without consuming it (false at the end). */
bool snap_peek_tag(const struct snap_reader *r, uint32_t *tag);
/* A section's body must be used up: bytes left over are an error. */
bool snap_done(struct snap_reader *r, const char *what);
/* Record a failure (first one wins); returns false. */
bool snap_fail(struct snap_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* If sub failed, copy its message into r (prefixed with what); returns !bad. */
bool snap_merge(struct snap_reader *r, const struct snap_reader *sub, const char *what);

#endif

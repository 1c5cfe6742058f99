/* fixture.h - build tar layers for the layer conversion tests.
 *
 * fx_write() writes a pax tar (optionally gzip or zstd) from a table of
 * entries with libarchive, with full control of owners, modes, mtimes,
 * xattrs, links and devices. The raw helpers build ustar headers byte by
 * byte for archives libarchive would refuse to write (NUL in names,
 * absurd size fields, truncation).
 */
#ifndef SM_TEST_FIXTURE_H
#define SM_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum fx_filter { FX_PLAIN, FX_GZIP, FX_ZSTD };

struct fx_entry {
	const char *path;
	char type;              /* 'f' 'd' 'l' symlink 'h' hardlink 'c' 'b' 'p' 's' */
	unsigned mode;          /* permission bits incl. setuid etc. */
	int64_t uid, gid;
	int64_t mtime;
	long mtime_nsec;
	const char *data;       /* file content (NUL-terminated) */
	const char *link;       /* symlink or hardlink target */
	unsigned rmaj, rmin;
	const char *xname[3];   /* xattrs */
	const char *xval[3];
	size_t xlen[3];         /* 0: strlen(xval) */
	uint64_t gen_size;      /* > 0: generated content of this size */
	int acl;                /* add ACL records (SCHILY.acl.*): user 1000,
				 * group 2000, mask; directories a default too */
};

int fx_write(const char *path, enum fx_filter filter,
	     const struct fx_entry *e, size_t n);

/* The generated content's byte at offset off: mostly zeros with stripes. */
uint8_t fx_gen_byte(uint64_t off);

/* Raw ustar: one header (size in base-256 when it does not fit octal). */
void fx_raw_header(FILE *f, const char *name, char typeflag, uint64_t size,
		   const char *linkname);
/* A pax extended header carrying one record (value may hold NULs). */
void fx_raw_pax(FILE *f, const char *key, const char *value, size_t vlen);
void fx_raw_pad(FILE *f, uint64_t size);        /* zero-fill to 512 */
void fx_raw_end(FILE *f);                       /* two zero blocks */

#endif

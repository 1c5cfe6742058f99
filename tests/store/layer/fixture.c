/* fixture.c - tar layer builders for the layer tests (see fixture.h). */
#include "fixture.h"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

uint8_t fx_gen_byte(uint64_t off)
{
	if (off % (8u << 20) >= 65536)
		return 0;
	return (uint8_t)(((off * 2654435761u) >> 13) | 1);
}

static unsigned fx_type(char t)
{
	switch (t) {
	case 'd': return AE_IFDIR;
	case 'l': return AE_IFLNK;
	case 'c': return AE_IFCHR;
	case 'b': return AE_IFBLK;
	case 'p': return AE_IFIFO;
	case 's': return AE_IFSOCK;
	}
	return AE_IFREG;
}

static int fx_write_gen(struct archive *a, uint64_t size)
{
	size_t chunk = 1u << 20;
	uint8_t *buf = malloc(chunk);

	if (!buf)
		return -1;
	for (uint64_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;

		for (size_t i = 0; i < n; i++)
			buf[i] = fx_gen_byte(off + i);
		if (archive_write_data(a, buf, n) != (la_ssize_t)n) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}

static void fx_add_acls(struct archive_entry *e, bool dir)
{
	const int A = ARCHIVE_ENTRY_ACL_TYPE_ACCESS, D = ARCHIVE_ENTRY_ACL_TYPE_DEFAULT;
	const int R = ARCHIVE_ENTRY_ACL_READ, W = ARCHIVE_ENTRY_ACL_WRITE,
		  X = ARCHIVE_ENTRY_ACL_EXECUTE;

	archive_entry_acl_add_entry(e, A, R | X, ARCHIVE_ENTRY_ACL_USER, 1000, NULL);
	archive_entry_acl_add_entry(e, A, R, ARCHIVE_ENTRY_ACL_GROUP, 2000, NULL);
	archive_entry_acl_add_entry(e, A, R | X, ARCHIVE_ENTRY_ACL_MASK, -1, NULL);
	if (!dir)
		return;
	archive_entry_acl_add_entry(e, D, R | W | X, ARCHIVE_ENTRY_ACL_USER_OBJ, -1, NULL);
	archive_entry_acl_add_entry(e, D, R | X, ARCHIVE_ENTRY_ACL_GROUP_OBJ, -1, NULL);
	archive_entry_acl_add_entry(e, D, 0, ARCHIVE_ENTRY_ACL_OTHER, -1, NULL);
	archive_entry_acl_add_entry(e, D, R | W | X, ARCHIVE_ENTRY_ACL_USER, 1000, NULL);
	archive_entry_acl_add_entry(e, D, R | W | X, ARCHIVE_ENTRY_ACL_MASK, -1, NULL);
}

static int fx_entry_write(struct archive *a, const struct fx_entry *x)
{
	struct archive_entry *e = archive_entry_new();
	uint64_t size = x->gen_size ? x->gen_size : x->data ? strlen(x->data) : 0;
	int rc = 0;

	archive_entry_set_pathname(e, x->path);
	archive_entry_set_filetype(e, fx_type(x->type));
	archive_entry_set_perm(e, x->mode ? x->mode : (x->type == 'd' ? 0755 : 0644));
	archive_entry_set_uid(e, x->uid);
	archive_entry_set_gid(e, x->gid);
	archive_entry_set_mtime(e, x->mtime ? x->mtime : 1700000000, x->mtime_nsec);
	if (x->type == 'l')
		archive_entry_set_symlink(e, x->link);
	if (x->type == 'h')
		archive_entry_set_hardlink(e, x->link);
	archive_entry_set_rdevmajor(e, x->rmaj);
	archive_entry_set_rdevminor(e, x->rmin);
	for (int i = 0; i < 3 && x->xname[i]; i++)
		archive_entry_xattr_add_entry(e, x->xname[i], x->xval[i],
					      x->xlen[i] ? x->xlen[i] : strlen(x->xval[i]));
	if (x->acl)
		fx_add_acls(e, x->type == 'd');
	archive_entry_set_size(e, x->type == 'f' ? (la_int64_t)size : 0);
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		fprintf(stderr, "fx_write %s: %s\n", x->path, archive_error_string(a));
		rc = -1;
	}
	else if (x->type == 'f' && x->gen_size)
		rc = fx_write_gen(a, size);
	else if (x->type == 'f' && size &&
		 archive_write_data(a, x->data, size) != (la_ssize_t)size)
		rc = -1;
	archive_entry_free(e);
	return rc;
}

/* Names in the tables are UTF-8; the writer converts from the locale, so
 * it runs under C.UTF-8 (the converter under test keeps the C locale). */
int fx_write(const char *path, enum fx_filter filter,
	     const struct fx_entry *e, size_t n)
{
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t old = utf8 ? uselocale(utf8) : (locale_t)0;
	struct archive *a = archive_write_new();
	int rc = 0;

	archive_write_set_format_pax_restricted(a);
	if (filter == FX_GZIP)
		archive_write_add_filter_gzip(a);
	else if (filter == FX_ZSTD)
		archive_write_add_filter_zstd(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		rc = -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = fx_entry_write(a, &e[i]);
	if (rc == 0 && archive_write_close(a) != ARCHIVE_OK)
		rc = -1;
	archive_write_free(a);
	if (utf8) {
		uselocale(old);
		freelocale(utf8);
	}
	return rc;
}

static void fx_octal(char *field, size_t len, uint64_t v)
{
	snprintf(field, len, "%0*llo", (int)len - 1, (unsigned long long)v);
}

void fx_raw_header(FILE *f, const char *name, char typeflag, uint64_t size,
		   const char *linkname)
{
	unsigned char h[512] = { 0 };
	unsigned sum = 0;

	strncpy((char *)h, name, 100);
	fx_octal((char *)h + 100, 8, typeflag == '5' ? 0755 : 0644);
	fx_octal((char *)h + 108, 8, 0);
	fx_octal((char *)h + 116, 8, 0);
	if (size > 077777777777ull) {
		h[124] = 0x80;
		for (int i = 0; i < 8; i++)
			h[135 - i] = (unsigned char)(size >> (8 * i));
	} else {
		fx_octal((char *)h + 124, 12, size);
	}
	fx_octal((char *)h + 136, 12, 1700000000);
	h[156] = (unsigned char)typeflag;
	if (linkname)
		strncpy((char *)h + 157, linkname, 100);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	fwrite(h, 1, sizeof(h), f);
}

void fx_raw_pad(FILE *f, uint64_t size)
{
	static const char zero[512];

	if (size % 512)
		fwrite(zero, 1, 512 - size % 512, f);
}

void fx_raw_pax(FILE *f, const char *key, const char *value, size_t vlen)
{
	size_t body = strlen(key) + vlen + 3;   /* ' ' '=' '\n' */
	size_t len = body + 1;
	char num[24];

	while (len != body + (size_t)snprintf(num, sizeof(num), "%zu", len))
		len = body + strlen(num);
	snprintf(num, sizeof(num), "%zu", len);
	fx_raw_header(f, "PaxHeader", 'x', len, NULL);
	fprintf(f, "%s %s=", num, key);
	fwrite(value, 1, vlen, f);
	fputc('\n', f);
	fx_raw_pad(f, len);
}

void fx_raw_end(FILE *f)
{
	static const char zero[1024];

	fwrite(zero, 1, sizeof(zero), f);
}

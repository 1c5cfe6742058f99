/* tar_check.c - the safety check of a folder tar (see tar_check.h).
 *
 * Two passes over the entry list: the first reads every header with
 * libarchive (names normalised, types checked), the second needs them all,
 * since a symlink anywhere in the archive decides whether another entry or
 * link target passes through it.
 */
#include "common/tar/tar_check.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 4096

struct tent {
	char *name;               /* normalised */
	char *link;               /* symlink target as written, or hard link name */
	char kind;                /* 'f' file, 'd' dir, 'l' symlink, 'h' hard link */
};

struct tlist {
	struct tent *v;
	size_t n, cap;
	char **links, **files;    /* sorted names of the symlinks, regular files */
	size_t n_links, n_files;
};

static int refuse(char *why, size_t whylen, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(char *why, size_t whylen, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(why, whylen, "tar entry \"%s\": ", name);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < whylen)
		vsnprintf(why + n, whylen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

int tar_check_name(const char *name, char *out, size_t outlen, char *why, size_t whylen)
{
	size_t o = 0;
	if (name[0] == '/')
		return refuse(why, whylen, name, "an absolute name");
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return refuse(why, whylen, name, "a \"..\" segment");
		if (n && !(n == 1 && p[0] == '.')) {
			if (o + n + 2 > outlen)
				return refuse(why, whylen, name, "a name too long");
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n + strspn(p + n, "/");
	}
	out[o] = 0;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool in_set(char **set, size_t n, const char *s)
{
	return n && bsearch(&s, set, n, sizeof *set, cmp_str) != NULL;
}

/* The first proper prefix of path (at a '/') that is a symlink, or NULL. */
static const char *through_link(const struct tlist *l, const char *path, char *buf,
				size_t len)
{
	for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		snprintf(buf, len, "%.*s", (int)(s - path), path);
		if (in_set(l->links, l->n_links, buf))
			return buf;
	}
	return NULL;
}

static const char *kind_name(mode_t type)
{
	switch (type) {
	case AE_IFCHR: return "a character device";
	case AE_IFBLK: return "a block device";
	case AE_IFIFO: return "a fifo";
	case AE_IFSOCK: return "a socket";
	}
	return "an entry of an unknown type";
}

static int add_entry(struct tlist *l, struct archive_entry *e, char *why, size_t whylen)
{
	const char *raw = archive_entry_pathname(e), *hard = archive_entry_hardlink(e);
	char name[NAME_MAX_LEN], target[NAME_MAX_LEN];
	mode_t type = archive_entry_filetype(e);
	char kind = hard ? 'h' : type == AE_IFREG ? 'f' : type == AE_IFDIR ? 'd'
		  : type == AE_IFLNK ? 'l' : 0;
	if (!raw)
		return snprintf(why, whylen, "a tar entry has no readable name"), -1;
	if (tar_check_name(raw, name, sizeof name, why, whylen) < 0)
		return -1;
	if (!kind)
		return refuse(why, whylen, raw, "%s (only files, folders, symlinks and "
			      "hard links are copied)", kind_name(type));
	if (!name[0] && kind != 'd')
		return refuse(why, whylen, raw, "the target folder itself as a non-folder");
	if (kind == 'h' && tar_check_name(hard, target, sizeof target, why, whylen) < 0)
		return -1;
	const char *link = kind == 'h' ? target : kind == 'l' ? archive_entry_symlink(e) : NULL;
	if (kind == 'l' && !link)
		return refuse(why, whylen, raw, "a symlink without a target");
	if (l->n == TAR_CHECK_MAX_ENTRIES)
		return refuse(why, whylen, raw, "more than %u entries", TAR_CHECK_MAX_ENTRIES);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct tent *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return snprintf(why, whylen, "out of memory checking the tar"), -1;
		l->v = v;
		l->cap = cap;
	}
	struct tent *t = &l->v[l->n];
	t->kind = kind;
	t->name = strdup(name);
	t->link = link ? strdup(link) : NULL;
	if (!t->name || (link && !t->link)) {
		free(t->name);
		free(t->link);
		return snprintf(why, whylen, "out of memory checking the tar"), -1;
	}
	l->n++;
	return 0;
}

/* Where a symlink at name pointing to target lands, resolved by name only:
 * 0 inside the target folder, -1 with why when it leaves it. */
static int check_symlink(const struct tlist *l, const struct tent *t, char *why, size_t whylen)
{
	char path[2 * NAME_MAX_LEN], buf[2 * NAME_MAX_LEN];
	const char *slash = strrchr(t->name, '/');
	size_t o = slash ? (size_t)(slash - t->name) : 0;
	bool linked = false;
	if (t->link[0] == '/')
		return refuse(why, whylen, t->name, "a symlink to an absolute path (%s)", t->link);
	memcpy(path, t->name, o);
	path[o] = 0;
	for (const char *p = t->link; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (o == 0)
				return refuse(why, whylen, t->name, "a symlink out of the target "
					      "folder (%s)", t->link);
			if (linked)
				return refuse(why, whylen, t->name, "a symlink that climbs out of "
					      "another symlink (%s)", t->link);
			char *up = strrchr(path, '/');
			o = up ? (size_t)(up - path) : 0;
			path[o] = 0;
		} else if (n && !(n == 1 && p[0] == '.')) {
			if (o + n + 2 > sizeof path)
				return refuse(why, whylen, t->name, "a symlink target too long");
			if (o)
				path[o++] = '/';
			memcpy(path + o, p, n);
			path[o += n] = 0;
			snprintf(buf, sizeof buf, "%s", path);
			linked |= in_set(l->links, l->n_links, buf);
		}
		p += n + strspn(p + n, "/");
	}
	return 0;
}

static int check_all(struct tlist *l, char *why, size_t whylen)
{
	char buf[NAME_MAX_LEN];
	l->links = calloc(l->n + 1, sizeof *l->links);
	l->files = calloc(l->n + 1, sizeof *l->files);
	if (!l->links || !l->files)
		return snprintf(why, whylen, "out of memory checking the tar"), -1;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].kind == 'l')
			l->links[l->n_links++] = l->v[i].name;
		else if (l->v[i].kind == 'f')
			l->files[l->n_files++] = l->v[i].name;
	}
	qsort(l->links, l->n_links, sizeof *l->links, cmp_str);
	qsort(l->files, l->n_files, sizeof *l->files, cmp_str);
	for (size_t i = 0; i < l->n; i++) {
		const struct tent *t = &l->v[i];
		const char *via = through_link(l, t->name, buf, sizeof buf);
		if (via)
			return refuse(why, whylen, t->name, "below the symlink \"%s\"", via);
		if (t->kind == 'l' && check_symlink(l, t, why, whylen) < 0)
			return -1;
		if (t->kind == 'h' && (through_link(l, t->link, buf, sizeof buf) ||
				       !in_set(l->files, l->n_files, t->link)))
			return refuse(why, whylen, t->name, "a hard link to \"%s\", which is not "
				      "a regular file of the archive", t->link);
	}
	return 0;
}

static void tlist_free(struct tlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].link);
	}
	free(l->v);
	free(l->links);
	free(l->files);
}

static int read_entries(struct archive *a, struct tlist *l, char *why, size_t whylen)
{
	struct archive_entry *e;
	int rc;
	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
		if (add_entry(l, e, why, whylen) < 0)
			return -1;
		if (archive_read_data_skip(a) != ARCHIVE_OK)
			break;
	}
	if (rc == ARCHIVE_EOF)
		return 0;
	snprintf(why, whylen, "not a readable tar: %s", archive_error_string(a) ?
		 archive_error_string(a) : "read error");
	return -1;
}

int tar_check_fd(int fd, char *why, size_t whylen)
{
	struct tlist l = { 0 };
	struct archive *a = archive_read_new();
	int rc = -1;
	if (!a || lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(why, whylen, "cannot read the tar");
		archive_read_free(a);
		return -1;
	}
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK)
		snprintf(why, whylen, "not a readable tar: %s", archive_error_string(a));
	else if (read_entries(a, &l, why, whylen) == 0)
		rc = check_all(&l, why, whylen);
	archive_read_free(a);
	tlist_free(&l);
	if (lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(why, whylen, "cannot rewind the tar");
		return -1;
	}
	return rc;
}

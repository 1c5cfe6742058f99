/* cpio.c - newc cpio writer (see cpio.h).
 *
 * Entry: 110-byte ASCII header ("070701" + 13 8-digit hex fields), the
 * NUL-terminated name padded to a multiple of 4, the data padded to 4.
 */
#include "cpio.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#define CPIO_NAME_MAX 4096

void cpio_init(struct cpio_writer *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->next_ino = 1;
}

static int fail(struct cpio_writer *w, int err)
{
	if (!w->err)
		w->err = err;
	errno = w->err;
	return -1;
}

static int put(struct cpio_writer *w, const void *p, size_t n)
{
	if (w->err)
		return fail(w, w->err);
	if (n && fwrite(p, 1, n, w->f) != n)
		return fail(w, errno ? errno : EIO);
	w->offset += n;
	return 0;
}

static int pad4(struct cpio_writer *w)
{
	static const char zero[4];
	return put(w, zero, (4 - w->offset % 4) % 4);
}

/* Relative, non-empty, no "." or ".." component, no empty component. */
static bool valid_name(const char *name)
{
	if (!name[0] || name[0] == '/')
		return false;
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
			return false;
		p += n;
		if (*p == '/' && !*++p)
			return false;
	}
	return true;
}

struct entry {
	uint32_t mode, nlink, rmajor, rminor;
	size_t size;
};

static int put_entry(struct cpio_writer *w, const char *name, const struct entry *e,
		     const void *data)
{
	char hdr[111];
	size_t namesize = strlen(name) + 1;
	if (namesize > CPIO_NAME_MAX)
		return fail(w, ENAMETOOLONG);
	if (e->size > 0xffffffffu)
		return fail(w, EFBIG);
	uint32_t ino = e->mode ? w->next_ino++ : 0;
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
		 ino, e->mode, 0u, 0u, e->nlink, 0u, e->size, 0u, 0u,
		 e->rmajor, e->rminor, namesize, 0u);
	if (put(w, hdr, 110) || put(w, name, namesize) || pad4(w) ||
	    put(w, data, e->size) || pad4(w))
		return -1;
	return 0;
}

static int add(struct cpio_writer *w, const char *name, const struct entry *e,
	       const void *data)
{
	if (!valid_name(name))
		return fail(w, EINVAL);
	return put_entry(w, name, e, data);
}

int cpio_add_dir(struct cpio_writer *w, const char *name, uint32_t perm)
{
	struct entry e = { .mode = S_IFDIR | (perm & 07777), .nlink = 2 };
	return add(w, name, &e, NULL);
}

int cpio_add_file(struct cpio_writer *w, const char *name, uint32_t perm,
		  const void *data, size_t len)
{
	struct entry e = { .mode = S_IFREG | (perm & 07777), .nlink = 1, .size = len };
	return add(w, name, &e, data);
}

int cpio_add_symlink(struct cpio_writer *w, const char *name, const char *target)
{
	struct entry e = { .mode = S_IFLNK | 0777, .nlink = 1, .size = strlen(target) };
	if (!target[0])
		return fail(w, EINVAL);
	return add(w, name, &e, target);
}

int cpio_add_chardev(struct cpio_writer *w, const char *name, uint32_t perm,
		     uint32_t major, uint32_t minor)
{
	struct entry e = { .mode = S_IFCHR | (perm & 07777), .nlink = 1,
			   .rmajor = major, .rminor = minor };
	return add(w, name, &e, NULL);
}

int cpio_finish(struct cpio_writer *w)
{
	struct entry e = { .nlink = 1 };
	if (put_entry(w, "TRAILER!!!", &e, NULL))
		return -1;
	if (fflush(w->f))
		return fail(w, errno);
	return w->err ? fail(w, w->err) : 0;
}

/* cpio.h - writer for the "newc" cpio format the kernel unpacks as initramfs.
 *
 * Every entry is owned by root with mtime 0, so the same inputs always give
 * the same archive bytes. Used by mkinitramfs; tested in tests/unit/guest
 * by extracting its output with cpio(1).
 */
#ifndef SM_CPIO_H
#define SM_CPIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cpio_writer {
	FILE *f;
	uint32_t next_ino;
	uint64_t offset; /* bytes written so far, for padding */
	int err;         /* first errno seen; sticks */
};

void cpio_init(struct cpio_writer *w, FILE *f);
/* Each returns 0, or -1 with errno (ENAMETOOLONG, EINVAL for a bad name,
 * or the stdio error) and w->err set. Names are relative ("dev/console"). */
int cpio_add_dir(struct cpio_writer *w, const char *name, uint32_t perm);
int cpio_add_file(struct cpio_writer *w, const char *name, uint32_t perm,
		  const void *data, size_t len);
int cpio_add_symlink(struct cpio_writer *w, const char *name, const char *target);
int cpio_add_chardev(struct cpio_writer *w, const char *name, uint32_t perm,
		     uint32_t major, uint32_t minor);
/* Writes the TRAILER!!! entry and flushes. */
int cpio_finish(struct cpio_writer *w);

#endif

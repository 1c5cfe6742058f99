/* snap_mem.c - write guest RAM into a sparse file (snap_mem.h). */
#include "daemon/vm/snapshot/snap_mem.h"

#include <stdbool.h>
#include <unistd.h>

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t acc = 0;
	for (int i = 0; i < SNAP_PAGE / 8; i++)
		acc |= w[i];
	return acc == 0;
}

static int write_at(int fd, const uint8_t *p, uint64_t len, uint64_t off, struct vm_err *err)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return vm_errno(err, "writing guest memory at file offset %llu",
					(unsigned long long)off);
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* Write the runs of non-zero pages of one region (and its last page if
 * `last`) at file offset base. */
static int save_region(const struct guest_mem_region *r, uint64_t base, bool last, int fd,
		       uint64_t *written, struct vm_err *err)
{
	uint64_t run = 0, pages = r->size / SNAP_PAGE;
	for (uint64_t i = 0; i <= pages; i++) {
		bool data = i < pages && (!page_is_zero(r->host + i * SNAP_PAGE) ||
					  (last && i == pages - 1));
		if (data)
			continue;
		uint64_t start = run * SNAP_PAGE, len = (i - run) * SNAP_PAGE;
		if (len && write_at(fd, r->host + start, len, base + start, err) < 0)
			return -1;
		*written += len;
		run = i + 1;
	}
	return 0;
}

int snap_mem_save(const struct guest_mem *m, int fd, uint64_t *written, struct vm_err *err)
{
	uint64_t base = 0;
	*written = 0;
	for (int i = 0; i < m->nregions; i++) {
		if (save_region(&m->region[i], base, i == m->nregions - 1, fd, written, err) < 0)
			return -1;
		base += m->region[i].size;
	}
	if (fdatasync(fd) < 0)
		return vm_errno(err, "memory file: fdatasync");
	return 0;
}

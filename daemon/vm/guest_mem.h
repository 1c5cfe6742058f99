/* guest_mem.h - guest physical memory and checked access to it.
 *
 * Guest RAM is one or two host mappings: [0, min(size, MMIO_HOLE_START))
 * and, for large VMs, [4 GiB, ...). Every device reaches guest memory only
 * through guest_mem_ptr(), which returns NULL unless the whole range
 * [gpa, gpa+len) lies inside one RAM region: a guest-supplied address can
 * never make the VMM touch host memory outside guest RAM.
 *
 * State is plain (addresses and sizes), so it can be saved and restored.
 */
#ifndef SM_GUEST_MEM_H
#define SM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MMIO_HOLE_START 0xc0000000ULL /* 3 GiB: devices, LAPIC, IOAPIC */
#define GUEST_HIGH_RAM_START  0x100000000ULL

struct guest_mem_region {
	uint64_t gpa;  /* guest physical start */
	uint64_t size; /* bytes */
	uint8_t *host; /* host mapping (not part of saved state) */
};

struct guest_mem {
	struct guest_mem_region region[2];
	int nregions;
	uint64_t total; /* bytes of RAM in all regions */
};

/* Host pointer for [gpa, gpa+len) or NULL if any byte is outside RAM. */
static inline void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < m->nregions; i++) {
		const struct guest_mem_region *r = &m->region[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		if (off > r->size || len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

#endif

/* io_bus.c - MMIO / port I/O range table (see io_bus.h).
 *
 * A flat array searched linearly: a microVM has a handful of devices, and
 * the hot virtio notifications never get here (they go to ioeventfds).
 */
#include "io_bus.h"

#include <errno.h>
#include <string.h>

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t size,
		    io_handler_fn fn, void *opaque)
{
	if (size == 0 || base + size < base || !fn) {
		errno = EINVAL;
		return -1;
	}
	for (int i = 0; i < bus->nranges; i++) {
		if (ranges_overlap(base, size, bus->range[i].base, bus->range[i].size)) {
			errno = EEXIST;
			return -1;
		}
	}
	if (bus->nranges >= IO_BUS_MAX_RANGES) {
		errno = ENOSPC;
		return -1;
	}
	bus->range[bus->nranges++] = (struct io_range){ base, size, fn, opaque };
	return 0;
}

bool io_bus_dispatch(const struct io_bus *bus, uint64_t addr, uint8_t *data,
		     uint32_t len, bool is_write)
{
	for (int i = 0; i < bus->nranges; i++) {
		const struct io_range *r = &bus->range[i];
		if (addr >= r->base && addr - r->base < r->size) {
			r->fn(r->opaque, addr - r->base, data, len, is_write);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, len);
	return false;
}

/* io_bus.h - dispatch of guest MMIO and port I/O exits to device models.
 *
 * Devices register an address range and one handler before the vCPUs start;
 * vCPU threads then call io_bus_dispatch() on every KVM_EXIT_MMIO/IO. The
 * table is read-only while vCPUs run, so lookups take no lock; a handler
 * that shares state with another thread locks that state itself.
 */
#ifndef SM_IO_BUS_H
#define SM_IO_BUS_H

#include <stdbool.h>
#include <stdint.h>

/* data holds len bytes (1, 2, 4 or 8), little-endian, as KVM passes them.
 * For a read the handler fills data; for a write it consumes it. */
typedef void (*io_handler_fn)(void *opaque, uint64_t offset, uint8_t *data,
			      uint32_t len, bool is_write);

#define IO_BUS_MAX_RANGES 32

struct io_range {
	uint64_t base, size;
	io_handler_fn fn;
	void *opaque;
};

struct io_bus {
	struct io_range range[IO_BUS_MAX_RANGES];
	int nranges;
};

/* 0, or -1 with errno EEXIST (overlap) / ENOSPC (table full). */
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t size,
		    io_handler_fn fn, void *opaque);
/* false if no device claims addr (reads then return all ones). */
bool io_bus_dispatch(const struct io_bus *bus, uint64_t addr, uint8_t *data,
		     uint32_t len, bool is_write);

#endif

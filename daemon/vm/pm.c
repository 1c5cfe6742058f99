/* pm.c - sleep, reset and i8042 ports (see pm.h). */
#include "pm.h"

#include <string.h>

#define SLP_EN (1u << 5)

int pm_decode_sleep(uint8_t v)
{
	if (!(v & SLP_EN))
		return -1;
	return ((v >> 2) & 7) == PM_S5_SLP_TYP ? VM_POWEROFF : -1;
}

int pm_decode_reset(uint8_t v)
{
	return v == PM_RESET_VALUE ? VM_REBOOT : -1;
}

int pm_decode_i8042(uint8_t v)
{
	return v == PM_I8042_RESET ? VM_REBOOT : -1;
}

static void sleep_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (off == 0 && pm_decode_sleep(data[0]) == VM_POWEROFF)
		vm_request_stop(vm, VM_POWEROFF, "guest powered off (ACPI S5)");
}

static void reset_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;
	if (!is_write)
		memset(data, 0, len);
	else if (pm_decode_reset(data[0]) == VM_REBOOT)
		vm_request_stop(vm, VM_REBOOT, "guest reset the machine (ACPI reset register)");
}

static void i8042_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;
	if (!is_write)
		memset(data, 0, len); /* status: no data, input buffer empty */
	else if (pm_decode_i8042(data[0]) == VM_REBOOT)
		vm_request_stop(vm, VM_REBOOT, "guest reset the machine (i8042 reset, port 0x64)");
}

int pm_register(struct vm *vm, struct vm_err *err)
{
	if (io_bus_register(&vm->pio, PM_SLEEP_CTL_PORT, 2, sleep_io, vm) < 0 ||
	    io_bus_register(&vm->pio, PM_RESET_PORT, 1, reset_io, vm) < 0 ||
	    io_bus_register(&vm->pio, PM_I8042_CMD_PORT, 1, i8042_io, vm) < 0)
		return vm_errno(err, "registering power/reset ports");
	return 0;
}

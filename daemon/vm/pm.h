/* pm.h - power and reset ports: how the guest ends the VM.
 *
 *   PM_SLEEP_CTL_PORT  ACPI sleep control register (FADT, HW-reduced):
 *                      SLP_EN with SLP_TYP = PM_S5_SLP_TYP -> poweroff
 *   PM_SLEEP_STS_PORT  ACPI sleep status register (reads 0)
 *   PM_RESET_PORT      ACPI reset register: PM_RESET_VALUE -> reboot
 *   0x64               i8042 command port: 0xFE (pulse reset) -> reboot;
 *                      reads say "input buffer empty" so kernels that
 *                      poll it before resetting do not wait.
 * The decode functions are pure (unit-tested); pm_register() wires the
 * ports to vm_request_stop().
 */
#ifndef SM_PM_H
#define SM_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "vm.h"

#define PM_SLEEP_CTL_PORT 0x600
#define PM_SLEEP_STS_PORT 0x601
#define PM_RESET_PORT     0x602
#define PM_RESET_VALUE    0x01
#define PM_S5_SLP_TYP     5
#define PM_I8042_CMD_PORT 0x64
#define PM_I8042_RESET    0xfe

/* Outcome of a write to the sleep control register, or -1: keep running. */
int pm_decode_sleep(uint8_t value);
/* Outcome of a write to the reset register / i8042, or -1. */
int pm_decode_reset(uint8_t value);
int pm_decode_i8042(uint8_t value);

int pm_register(struct vm *vm, struct vm_err *err);

/* Snapshots (pm_persist.c): section "PMIO", empty (no state). */
struct snap_writer;
struct snap_reader;
void pm_save(struct snap_writer *w);
bool pm_restore(struct snap_reader *r);

#endif

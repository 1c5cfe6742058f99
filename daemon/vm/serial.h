/* serial.h - 8250/16550A UART (COM1) for the guest console.
 *
 * Split in two:
 *  - struct serial_regs: the register file, plain data (no host pointers)
 *    so it can be snapshotted; serial_regs_read/write implement the
 *    register semantics Linux's 8250 driver relies on (DLAB divisor latch,
 *    THRE interrupt, IIR priorities, loopback for autoconfig) and report
 *    side effects (a byte to transmit, the new IRQ level) to the caller.
 *    Pure and unit-tested.
 *  - struct serial: the device as the VM uses it: registers + a lock, the
 *    KVM IRQ line, the log file / stdout sinks and a console watcher that
 *    notices a kernel panic in the output (serial_panicked()).
 */
#ifndef SM_SERIAL_H
#define SM_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vm_err.h"

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_NREGS 8
#define SERIAL_RX_FIFO 64

/* Register offsets */
#define UART_RBR 0 /* read; THR on write; DLL when DLAB */
#define UART_IER 1 /* DLM when DLAB */
#define UART_IIR 2 /* read; FCR on write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_LCR_DLAB 0x80
#define UART_IER_RDI  0x01
#define UART_IER_THRI 0x02
#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI  0x04
#define UART_IIR_FIFO 0xc0
#define UART_LSR_DR   0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MCR_LOOP 0x10
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02

struct serial_regs {
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	uint8_t thr_ipending; /* THRE interrupt pending until IIR read / THR write */
	uint8_t rx[SERIAL_RX_FIFO];
	uint8_t rx_head, rx_count;
};

/* What a register access asks the host side to do. */
struct serial_effects {
	int tx;        /* byte to transmit, or -1 */
	bool irq;      /* IRQ line level after the access */
};

void serial_regs_reset(struct serial_regs *r);
uint8_t serial_regs_read(struct serial_regs *r, unsigned off, struct serial_effects *fx);
void serial_regs_write(struct serial_regs *r, unsigned off, uint8_t v, struct serial_effects *fx);
/* Queue received bytes (host input); returns how many fitted. */
unsigned serial_regs_receive(struct serial_regs *r, const uint8_t *p, unsigned n,
			     struct serial_effects *fx);
/* Level the IRQ line should have now. */
bool serial_regs_irq(const struct serial_regs *r);

struct serial;
/* irq_fn raises/lowers the line; out_fd (-1: none) and log (NULL: none). */
typedef void (*serial_irq_fn)(void *opaque, bool level);
struct serial *serial_new(serial_irq_fn irq, void *irq_opaque, bool to_stdout,
			  const char *log_path, struct vm_err *err);
void serial_free(struct serial *s);
/* io_bus handler for the 8 ports at SERIAL_COM1_BASE. */
void serial_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write);
/* True once "Kernel panic - not syncing" was printed; *ended once the
 * "---[ end Kernel panic" trailer followed. */
bool serial_panicked(struct serial *s, bool *ended);
/* Set a callback run (under no lock) when the panic trailer is printed. */
void serial_on_panic(struct serial *s, void (*fn)(void *), void *opaque);
void serial_flush(struct serial *s);

/* Snapshots. Section "UART": the registers and the receive FIFO
 * (serial_persist.c). serial_regs_restore checks what it reads and leaves
 * *out unchanged on failure (false, message in r->err). */
struct snap_writer;
struct snap_reader;
void serial_regs_save(const struct serial_regs *s, struct snap_writer *w);
bool serial_regs_restore(struct serial_regs *out, struct snap_reader *r);
/* The same for the device; both take its lock. After a restore the IRQ
 * line is set to the level the registers ask for. */
void serial_save(struct serial *s, struct snap_writer *w);
bool serial_restore(struct serial *s, struct snap_reader *r);

#endif

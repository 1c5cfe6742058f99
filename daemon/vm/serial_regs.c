/* serial_regs.c - 16550A register semantics, as pure functions (serial.h).
 *
 * Transmission is instant: a THR write hands the byte out and leaves the
 * transmitter empty, so THRE/TEMT are always set and a THRE interrupt is
 * pending whenever IER.THRI is on and nobody has acknowledged it (by
 * reading IIR or writing THR again), which is what the 8250 driver's
 * transmit loop waits for. Interrupt priority: received data over THRE.
 */
#include "serial.h"

#include <string.h>

void serial_regs_reset(struct serial_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	r->msr = 0xb0; /* DCD, DSR, CTS */
	r->dll = 0x0c; /* 9600 baud */
}

static uint8_t iir(const struct serial_regs *r)
{
	uint8_t v = UART_IIR_NO_INT;
	if ((r->ier & UART_IER_RDI) && (r->lsr & UART_LSR_DR))
		v = UART_IIR_RDI;
	else if ((r->ier & UART_IER_THRI) && r->thr_ipending)
		v = UART_IIR_THRI;
	if (r->fcr & UART_FCR_ENABLE)
		v |= UART_IIR_FIFO;
	return v;
}

bool serial_regs_irq(const struct serial_regs *r)
{
	return !(iir(r) & UART_IIR_NO_INT);
}

/* In loopback, modem outputs feed modem inputs: RTS->CTS, DTR->DSR,
 * OUT1->RI, OUT2->DCD (the 8250 autoconfig test reads this back). */
static uint8_t msr(const struct serial_regs *r)
{
	if (!(r->mcr & UART_MCR_LOOP))
		return r->msr;
	uint8_t m = r->mcr;
	return (m & 0x02 ? 0x10 : 0) | (m & 0x01 ? 0x20 : 0) | (m & 0x04 ? 0x40 : 0) |
	       (m & 0x08 ? 0x80 : 0);
}

static uint8_t rx_pop(struct serial_regs *r)
{
	if (!r->rx_count)
		return 0;
	uint8_t b = r->rx[r->rx_head];
	r->rx_head = (r->rx_head + 1) % SERIAL_RX_FIFO;
	if (--r->rx_count == 0)
		r->lsr &= ~UART_LSR_DR;
	return b;
}

static void rx_push(struct serial_regs *r, uint8_t b)
{
	if (r->rx_count == SERIAL_RX_FIFO)
		return;
	r->rx[(r->rx_head + r->rx_count) % SERIAL_RX_FIFO] = b;
	r->rx_count++;
	r->lsr |= UART_LSR_DR;
}

uint8_t serial_regs_read(struct serial_regs *r, unsigned off, struct serial_effects *fx)
{
	uint8_t v = 0;
	fx->tx = -1;
	switch (off) {
	case UART_RBR:
		v = (r->lcr & UART_LCR_DLAB) ? r->dll : rx_pop(r);
		break;
	case UART_IER:
		v = (r->lcr & UART_LCR_DLAB) ? r->dlm : r->ier;
		break;
	case UART_IIR:
		v = iir(r);
		if ((v & 0x0f) == UART_IIR_THRI)
			r->thr_ipending = 0; /* reading IIR acknowledges THRE */
		break;
	case UART_LCR: v = r->lcr; break;
	case UART_MCR: v = r->mcr; break;
	case UART_LSR: v = r->lsr; break;
	case UART_MSR: v = msr(r); break;
	case UART_SCR: v = r->scr; break;
	}
	fx->irq = serial_regs_irq(r);
	return v;
}

static void write_thr(struct serial_regs *r, uint8_t v, struct serial_effects *fx)
{
	if (r->mcr & UART_MCR_LOOP)
		rx_push(r, v);
	else
		fx->tx = v;
	r->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
	r->thr_ipending = 1;
}

void serial_regs_write(struct serial_regs *r, unsigned off, uint8_t v, struct serial_effects *fx)
{
	fx->tx = -1;
	bool dlab = r->lcr & UART_LCR_DLAB;
	switch (off) {
	case UART_RBR:
		if (dlab)
			r->dll = v;
		else
			write_thr(r, v, fx);
		break;
	case UART_IER:
		if (dlab) {
			r->dlm = v;
			break;
		}
		/* Enabling THRI with the transmitter empty raises THRE at once. */
		if (!(r->ier & UART_IER_THRI) && (v & UART_IER_THRI) && (r->lsr & UART_LSR_THRE))
			r->thr_ipending = 1;
		r->ier = v & 0x0f;
		break;
	case UART_IIR: /* FCR */
		if (v & UART_FCR_CLEAR_RX) {
			r->rx_count = 0;
			r->lsr &= ~UART_LSR_DR;
		}
		r->fcr = v & 0xc9; /* enable, DMA mode, trigger level */
		break;
	case UART_LCR: r->lcr = v; break;
	case UART_MCR: r->mcr = v & 0x1f; break;
	case UART_LSR: break; /* read-only */
	case UART_MSR: break; /* read-only */
	case UART_SCR: r->scr = v; break;
	}
	fx->irq = serial_regs_irq(r);
}

unsigned serial_regs_receive(struct serial_regs *r, const uint8_t *p, unsigned n,
			     struct serial_effects *fx)
{
	unsigned i = 0;
	while (i < n && r->rx_count < SERIAL_RX_FIFO)
		rx_push(r, p[i++]);
	fx->tx = -1;
	fx->irq = serial_regs_irq(r);
	return i;
}

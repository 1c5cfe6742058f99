/* serial_persist.c - save and restore the UART's registers (snapshots).
 *
 * Section "UART" version 1: u8 IER, LCR, MCR, LSR, MSR, SCR, DLL, DLM,
 * FCR, bool THRE interrupt pending, u8 rx_head, u8 rx_count, then the 64
 * bytes of the receive FIFO (all of them, so a round trip is exact).
 *
 * Restore accepts what serial_regs.c can produce: FIFO position and fill
 * inside the FIFO, LSR = THRE | TEMT plus DR exactly when the FIFO holds
 * bytes, and no bits IER, MCR and FCR writes never keep. The IRQ level is
 * not saved: it follows from the registers (serial_restore sets the line).
 */
#include "daemon/vm/snapshot/snap_buf.h"
#include "serial.h"

#define UART_TAG     SNAP_TAG('U', 'A', 'R', 'T')
#define UART_VERSION 1

#define IER_KEPT 0x0f
#define MCR_KEPT 0x1f
#define FCR_KEPT 0xc9

void serial_regs_save(const struct serial_regs *s, struct snap_writer *w)
{
	size_t h = snap_begin(w, UART_TAG, UART_VERSION);
	const uint8_t regs[] = { s->ier, s->lcr, s->mcr, s->lsr, s->msr,
				 s->scr, s->dll, s->dlm, s->fcr };
	snap_put_bytes(w, regs, sizeof(regs));
	snap_put_bool(w, s->thr_ipending);
	snap_put_u8(w, s->rx_head);
	snap_put_u8(w, s->rx_count);
	snap_put_bytes(w, s->rx, SERIAL_RX_FIFO);
	snap_end(w, h);
}

static bool load_regs(struct snap_reader *r, struct serial_regs *s)
{
	uint8_t regs[9];
	bool thr;
	if (!snap_get_bytes(r, regs, sizeof(regs)) || !snap_get_bool(r, &thr) ||
	    !snap_get_u8(r, &s->rx_head) || !snap_get_u8(r, &s->rx_count) ||
	    !snap_get_bytes(r, s->rx, SERIAL_RX_FIFO))
		return false;
	s->ier = regs[0];
	s->lcr = regs[1];
	s->mcr = regs[2];
	s->lsr = regs[3];
	s->msr = regs[4];
	s->scr = regs[5];
	s->dll = regs[6];
	s->dlm = regs[7];
	s->fcr = regs[8];
	s->thr_ipending = thr;
	return true;
}

static bool check_regs(const struct serial_regs *s, struct snap_reader *r)
{
	uint8_t lsr = UART_LSR_THRE | UART_LSR_TEMT | (s->rx_count ? UART_LSR_DR : 0);
	if (s->rx_head >= SERIAL_RX_FIFO || s->rx_count > SERIAL_RX_FIFO)
		return snap_fail(r, "receive FIFO at %u holding %u bytes (it has %u)", s->rx_head,
				 s->rx_count, SERIAL_RX_FIFO);
	if (s->lsr != lsr)
		return snap_fail(r, "LSR %#x with %u bytes received (want %#x)", s->lsr,
				 s->rx_count, lsr);
	if ((s->ier & ~IER_KEPT) || (s->mcr & ~MCR_KEPT) || (s->fcr & ~FCR_KEPT))
		return snap_fail(r, "IER %#x, MCR %#x or FCR %#x has bits never kept", s->ier,
				 s->mcr, s->fcr);
	return true;
}

bool serial_regs_restore(struct serial_regs *out, struct snap_reader *r)
{
	struct snap_reader sub;
	struct serial_regs s;
	if (!snap_open(r, UART_TAG, UART_VERSION, &sub, NULL))
		return false;
	if (load_regs(&sub, &s) && check_regs(&s, &sub))
		snap_done(&sub, "UART section");
	if (!snap_merge(r, &sub, "registers"))
		return false;
	*out = s;
	return true;
}

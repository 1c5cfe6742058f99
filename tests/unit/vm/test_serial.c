/* test_serial.c - 16550A register behaviour the Linux 8250 driver needs. */
#include "../check_main.h"
#include "daemon/vm/serial.h"

static struct serial_regs r;
static struct serial_effects fx;

static uint8_t rd(unsigned off) { return serial_regs_read(&r, off, &fx); }
static void wr(unsigned off, uint8_t v) { serial_regs_write(&r, off, v, &fx); }

static void setup(void)
{
	serial_regs_reset(&r);
}

START_TEST(reset_state)
{
	ck_assert_uint_eq(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT);
	ck_assert(!fx.irq);
	ck_assert_uint_eq(rd(UART_IER), 0);
}
END_TEST

START_TEST(transmit)
{
	wr(UART_RBR, 'A');
	ck_assert_int_eq(fx.tx, 'A');
	ck_assert(!fx.irq); /* THRI not enabled */
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_THRE, UART_LSR_THRE);
	rd(UART_LSR);
	ck_assert_int_eq(fx.tx, -1);
}
END_TEST

START_TEST(divisor_latch)
{
	wr(UART_LCR, UART_LCR_DLAB | 0x03);
	wr(UART_RBR, 0x01);  /* DLL */
	wr(UART_IER, 0x00);  /* DLM */
	ck_assert_int_eq(fx.tx, -1); /* not transmitted */
	ck_assert_uint_eq(rd(UART_RBR), 0x01);
	ck_assert_uint_eq(rd(UART_IER), 0x00);
	wr(UART_LCR, 0x03);
	ck_assert_uint_eq(rd(UART_LCR), 0x03);
	ck_assert_uint_eq(rd(UART_IER), 0); /* IER untouched by DLM write */
	wr(UART_RBR, 'x');
	ck_assert_int_eq(fx.tx, 'x');
}
END_TEST

START_TEST(thre_interrupt)
{
	/* Enabling THRI with an empty transmitter raises the line at once. */
	wr(UART_IER, UART_IER_THRI);
	ck_assert(fx.irq);
	ck_assert_uint_eq(rd(UART_IIR) & 0x0f, UART_IIR_THRI);
	/* Reading IIR acknowledged it. */
	ck_assert(!fx.irq);
	ck_assert_uint_eq(rd(UART_IIR) & 0x0f, UART_IIR_NO_INT);
	/* Each transmitted byte raises THRE again. */
	wr(UART_RBR, 'b');
	ck_assert(fx.irq);
	wr(UART_IER, 0);
	ck_assert(!fx.irq);
}
END_TEST

START_TEST(receive_priority)
{
	wr(UART_IER, UART_IER_THRI | UART_IER_RDI);
	uint8_t in[] = { 'h', 'i' };
	ck_assert_uint_eq(serial_regs_receive(&r, in, 2, &fx), 2);
	ck_assert(fx.irq);
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	ck_assert_uint_eq(rd(UART_IIR) & 0x0f, UART_IIR_RDI); /* data beats THRE */
	ck_assert_uint_eq(rd(UART_RBR), 'h');
	ck_assert_uint_eq(rd(UART_RBR), 'i');
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, 0);
	ck_assert_uint_eq(rd(UART_IIR) & 0x0f, UART_IIR_THRI);
	ck_assert_uint_eq(rd(UART_RBR), 0); /* empty FIFO reads 0 */
}
END_TEST

START_TEST(fifo_and_scratch)
{
	wr(UART_IIR, UART_FCR_ENABLE);
	ck_assert_uint_eq(rd(UART_IIR) & UART_IIR_FIFO, UART_IIR_FIFO);
	uint8_t in[100] = { 0 };
	ck_assert_uint_eq(serial_regs_receive(&r, in, 100, &fx), SERIAL_RX_FIFO);
	wr(UART_IIR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, 0);
	wr(UART_SCR, 0x5a);
	ck_assert_uint_eq(rd(UART_SCR), 0x5a);
	wr(UART_LSR, 0); /* read-only */
	ck_assert_uint_eq(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
}
END_TEST

START_TEST(loopback)
{
	/* The 8250 autoconfig test: MCR = LOOP | OUT2 | RTS reads MSR 0x90. */
	wr(UART_MCR, UART_MCR_LOOP | 0x0a);
	ck_assert_uint_eq(rd(UART_MSR) & 0xf0, 0x90);
	wr(UART_RBR, 'z');
	ck_assert_int_eq(fx.tx, -1); /* looped back, not sent */
	ck_assert_uint_eq(rd(UART_RBR), 'z');
	wr(UART_MCR, 0x0b);
	ck_assert_uint_eq(rd(UART_MSR), 0xb0);
}
END_TEST

static Suite *serial_suite(void)
{
	Suite *s = suite_create("serial");
	TCase *t = tcase_create("regs");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, reset_state);
	tcase_add_test(t, transmit);
	tcase_add_test(t, divisor_latch);
	tcase_add_test(t, thre_interrupt);
	tcase_add_test(t, receive_priority);
	tcase_add_test(t, fifo_and_scratch);
	tcase_add_test(t, loopback);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(serial_suite)

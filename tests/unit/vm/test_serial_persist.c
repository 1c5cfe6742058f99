/* test_serial_persist.c - the UART's and the power ports' snapshot sections.
 *
 * The UART is driven through its registers (loopback puts bytes in the
 * receive FIFO, as the 8250 driver's autoconfig does), saved and restored
 * into a fresh one; damaged sections are refused and change nothing. The
 * power ports have no state: their section is empty but versioned.
 */
#include <check.h>
#include <string.h>

#include "../check_main.h"
#include "../virtio/persist_check.h"
#include "daemon/vm/pm.h"
#include "daemon/vm/serial.h"

#define OFF_IER  12
#define OFF_LSR  15
#define OFF_THR  21
#define OFF_HEAD 22
#define OFF_CNT  23
#define UART_BYTES (24 + SERIAL_RX_FIFO)

static struct serial_regs a, b;
static struct serial_effects fx;

PC_WRAPPERS(regs, serial_regs_save, serial_regs_restore)

static const struct pc_dev from_a = { &a, pc_regs_save, pc_regs_restore };
static const struct pc_dev into_b = { &b, pc_regs_save, pc_regs_restore };

/* a: 6 bytes through loopback, 2 read back, RDI and THRI enabled. */
static void setup(void)
{
	serial_regs_reset(&a);
	serial_regs_reset(&b);
	serial_regs_write(&a, UART_IIR, UART_FCR_ENABLE, &fx);
	serial_regs_write(&a, UART_LCR, 0x03, &fx);
	serial_regs_write(&a, UART_SCR, 0x5a, &fx);
	serial_regs_write(&a, UART_MCR, UART_MCR_LOOP | 0x0b, &fx);
	for (const char *p = "snap!!"; *p; p++)
		serial_regs_write(&a, UART_RBR, (uint8_t)*p, &fx);
	serial_regs_read(&a, UART_RBR, &fx);
	serial_regs_read(&a, UART_RBR, &fx);
	serial_regs_write(&a, UART_IER, UART_IER_RDI | UART_IER_THRI, &fx);
	ck_assert_uint_eq(a.rx_head, 2);
	ck_assert_uint_eq(a.rx_count, 4);
	ck_assert(fx.irq);
}

START_TEST(regs_round_trip)
{
	struct snap_writer w;
	pc_save(&from_a, &w);
	ck_assert_uint_eq(w.len, UART_BYTES);
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert_mem_eq(&a, &b, sizeof(a));
	ck_assert_uint_eq(serial_regs_read(&b, UART_RBR, &fx), 'a');
	snap_writer_free(&w);
}
END_TEST

START_TEST(regs_reject_damage)
{
	struct snap_writer w;
	pc_save(&from_a, &w);
	pc_reject_cuts_and_framing(&into_b, w.buf, w.len);
	pc_reject_patch(&into_b, w.buf, w.len, OFF_HEAD, SERIAL_RX_FIFO, 1, "receive FIFO at 64");
	pc_reject_patch(&into_b, w.buf, w.len, OFF_CNT, SERIAL_RX_FIFO + 1, 1, "holding 65");
	pc_reject_patch(&into_b, w.buf, w.len, OFF_CNT, 0, 1, "LSR 0x61 with 0 bytes");
	pc_reject_patch(&into_b, w.buf, w.len, OFF_LSR, UART_LSR_THRE | UART_LSR_DR, 1, "LSR");
	pc_reject_patch(&into_b, w.buf, w.len, OFF_IER, 0x10, 1, "IER 0x10");
	pc_reject_patch(&into_b, w.buf, w.len, OFF_THR, 2, 1, "neither 0 nor 1");
	snap_writer_free(&w);
}
END_TEST

/* A full FIFO that wrapped is a state serial_regs.c can reach. */
START_TEST(regs_full_fifo)
{
	struct snap_writer w;
	uint8_t byte = 'x';
	for (int i = 0; i < SERIAL_RX_FIFO; i++)
		serial_regs_receive(&a, &byte, 1, &fx);
	ck_assert_uint_eq(a.rx_count, SERIAL_RX_FIFO);
	pc_save(&from_a, &w);
	pc_restore_ok(&into_b, w.buf, w.len);
	ck_assert_mem_eq(&a, &b, sizeof(a));
	snap_writer_free(&w);
}
END_TEST

static int line_calls;
static bool line_level;

static void line(void *opaque, bool level)
{
	line_calls++;
	line_level = level;
}

static void io(struct serial *s, unsigned off, uint8_t v)
{
	serial_io(s, off, &v, 1, true);
}

/* After a restore the device's IRQ line follows the restored registers. */
START_TEST(device_sets_irq_line)
{
	struct vm_err err = { { 0 } };
	struct serial *s1 = serial_new(line, NULL, false, NULL, &err);
	struct serial *s2 = serial_new(line, NULL, false, NULL, &err);
	struct snap_writer on, off;
	struct snap_reader r;
	ck_assert_ptr_nonnull(s1);
	ck_assert_ptr_nonnull(s2);
	snap_writer_init(&off);
	serial_save(s1, &off); /* line low */
	io(s1, UART_MCR, UART_MCR_LOOP);
	io(s1, UART_RBR, 'k');
	io(s1, UART_IER, UART_IER_RDI);
	ck_assert(line_level);
	snap_writer_init(&on);
	serial_save(s1, &on);
	line_calls = 0;
	snap_reader_init(&r, on.buf, on.len);
	ck_assert_msg(serial_restore(s2, &r), "%s", r.err);
	ck_assert_int_eq(line_calls, 1);
	ck_assert(line_level);
	snap_reader_init(&r, off.buf, off.len);
	ck_assert_msg(serial_restore(s2, &r), "%s", r.err);
	ck_assert_int_eq(line_calls, 2);
	ck_assert(!line_level);
	/* A refused restore leaves the line alone. */
	snap_reader_init(&r, on.buf, on.len - 1);
	ck_assert(!serial_restore(s2, &r));
	ck_assert_int_eq(line_calls, 2);
	snap_writer_free(&on);
	snap_writer_free(&off);
	serial_free(s1);
	serial_free(s2);
}
END_TEST

static void save_pm(void *dev, struct snap_writer *w)
{
	pm_save(w);
}

static bool restore_pm(void *dev, struct snap_reader *r)
{
	return pm_restore(r);
}

START_TEST(pm_section)
{
	const struct pc_dev pm = { NULL, save_pm, restore_pm };
	struct snap_writer w;
	pc_save(&pm, &w);
	ck_assert_uint_eq(w.len, PC_HDR);
	ck_assert_uint_eq(pc_get(w.buf, 0, 4), SNAP_TAG('P', 'M', 'I', 'O'));
	pc_restore_ok(&pm, w.buf, w.len);
	pc_reject_cuts_and_framing(&pm, w.buf, w.len);
	snap_writer_free(&w);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vm_serial_persist");
	TCase *t = tcase_create("uart");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, regs_round_trip);
	tcase_add_test(t, regs_reject_damage);
	tcase_add_test(t, regs_full_fifo);
	tcase_add_test(t, device_sets_irq_line);
	suite_add_tcase(s, t);
	TCase *p = tcase_create("pm");
	tcase_add_test(p, pm_section);
	suite_add_tcase(s, p);
	return s;
}

CHECK_MAIN(suite)

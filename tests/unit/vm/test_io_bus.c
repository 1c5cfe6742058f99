/* test_io_bus.c - I/O dispatch, power/reset port decoding, event loop. */
#include "../check_main.h"
#include "daemon/vm/event_loop.h"
#include "daemon/vm/io_bus.h"
#include "daemon/vm/pm.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct hit {
	uint64_t off;
	uint32_t len;
	bool write;
	int count;
};

static void handler(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct hit *h = opaque;
	h->off = off;
	h->len = len;
	h->write = is_write;
	h->count++;
	if (!is_write)
		memset(data, 0x42, len);
}

START_TEST(register_and_dispatch)
{
	struct io_bus bus = { 0 };
	struct hit a = { 0 }, b = { 0 };
	ck_assert_int_eq(io_bus_register(&bus, 0x3f8, 8, handler, &a), 0);
	ck_assert_int_eq(io_bus_register(&bus, 0xd0000000, 0x1000, handler, &b), 0);
	uint8_t data[8] = { 0 };
	ck_assert(io_bus_dispatch(&bus, 0x3fd, data, 1, false));
	ck_assert_uint_eq(a.off, 5);
	ck_assert_uint_eq(data[0], 0x42);
	ck_assert(io_bus_dispatch(&bus, 0xd0000050, data, 4, true));
	ck_assert_uint_eq(b.off, 0x50);
	ck_assert(b.write);
	ck_assert_uint_eq(b.len, 4);
	/* Edges: last byte inside, first byte after. */
	ck_assert(io_bus_dispatch(&bus, 0x3ff, data, 1, true));
	memset(data, 0, sizeof(data));
	ck_assert(!io_bus_dispatch(&bus, 0x400, data, 2, false));
	ck_assert_uint_eq(data[0], 0xff); /* unclaimed reads are all ones */
	ck_assert_uint_eq(data[1], 0xff);
	ck_assert(!io_bus_dispatch(&bus, 0x3f7, data, 1, true));
	ck_assert_int_eq(a.count, 2);
}
END_TEST

START_TEST(overlap_and_limits)
{
	struct io_bus bus = { 0 };
	struct hit a = { 0 };
	ck_assert_int_eq(io_bus_register(&bus, 0x1000, 0x100, handler, &a), 0);
	errno = 0;
	ck_assert_int_eq(io_bus_register(&bus, 0x10ff, 1, handler, &a), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(io_bus_register(&bus, 0xf00, 0x101, handler, &a), -1);
	ck_assert_int_eq(io_bus_register(&bus, 0x0, 0x10000, handler, &a), -1);
	ck_assert_int_eq(io_bus_register(&bus, 0x1100, 1, handler, &a), 0); /* adjacent ok */
	ck_assert_int_eq(io_bus_register(&bus, 0x2000, 0, handler, &a), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(io_bus_register(&bus, UINT64_MAX, 2, handler, &a), -1);
	for (int i = bus.nranges; i < IO_BUS_MAX_RANGES; i++)
		ck_assert_int_eq(io_bus_register(&bus, 0x10000 + i * 16, 16, handler, &a), 0);
	ck_assert_int_eq(io_bus_register(&bus, 0x90000, 16, handler, &a), -1);
	ck_assert_int_eq(errno, ENOSPC);
}
END_TEST

START_TEST(power_ports)
{
	/* SLP_TYP in bits 2..4, SLP_EN bit 5 (ACPI sleep control register). */
	ck_assert_int_eq(pm_decode_sleep((PM_S5_SLP_TYP << 2) | 0x20), VM_POWEROFF);
	ck_assert_int_eq(pm_decode_sleep(PM_S5_SLP_TYP << 2), -1);  /* no SLP_EN */
	ck_assert_int_eq(pm_decode_sleep((3 << 2) | 0x20), -1);     /* S3: ignored */
	ck_assert_int_eq(pm_decode_reset(PM_RESET_VALUE), VM_REBOOT);
	ck_assert_int_eq(pm_decode_reset(0), -1);
	ck_assert_int_eq(pm_decode_i8042(0xfe), VM_REBOOT);
	ck_assert_int_eq(pm_decode_i8042(0xd1), -1);
}
END_TEST

struct ctx {
	struct event_loop *loop;
	int fd;
	int fired;
};

static void on_ctx(void *opaque, uint32_t ev)
{
	struct ctx *c = opaque;
	uint64_t v;
	ck_assert_int_eq(read(c->fd, &v, 8), 8);
	if (++c->fired == 2) {
		event_loop_del(c->loop, c->fd); /* deleting itself mid-batch is safe */
		event_loop_stop(c->loop);
	}
}

static void *run_loop(void *arg)
{
	return (void *)(intptr_t)event_loop_run(arg);
}

START_TEST(event_loop_basic)
{
	struct ctx c = { .loop = event_loop_new(), .fd = eventfd(0, EFD_NONBLOCK) };
	ck_assert_ptr_nonnull(c.loop);
	ck_assert_int_eq(event_loop_add(c.loop, c.fd, EPOLLIN, on_ctx, &c), 0);
	ck_assert_int_eq(event_loop_add(c.loop, c.fd, EPOLLIN, on_ctx, &c), -1);
	pthread_t t;
	pthread_create(&t, NULL, run_loop, c.loop);
	uint64_t one = 1;
	ck_assert_int_eq(write(c.fd, &one, 8), 8);
	while (__atomic_load_n(&c.fired, __ATOMIC_ACQUIRE) < 1)
		usleep(1000);
	ck_assert_int_eq(write(c.fd, &one, 8), 8);
	void *ret;
	pthread_join(t, &ret);
	ck_assert_int_eq((int)(intptr_t)ret, 0);
	ck_assert_int_eq(c.fired, 2);
	ck_assert_int_eq(event_loop_del(c.loop, c.fd), -1); /* already gone */
	ck_assert_int_eq(event_loop_mod(c.loop, c.fd, EPOLLIN), -1);
	/* stop() from another thread before run(): run returns at once. */
	event_loop_stop(c.loop);
	ck_assert_int_eq(event_loop_run(c.loop), 0);
	event_loop_free(c.loop);
	close(c.fd);
}
END_TEST

static Suite *io_suite(void)
{
	Suite *s = suite_create("io_bus");
	TCase *t = tcase_create("io");
	tcase_add_test(t, register_and_dispatch);
	tcase_add_test(t, overlap_and_limits);
	tcase_add_test(t, power_ports);
	tcase_add_test(t, event_loop_basic);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(io_suite)

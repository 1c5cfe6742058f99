/* test_options.c - supermachine-vmm's command line, and the console sink
 * (log file contents, panic detection) that --console-log configures. */
#include "../check_main.h"
#include "daemon/vm/options.h"
#include "daemon/vm/serial.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* argv outlives the call (static): o->run_argv points into it. */
static int parse(struct options *o, struct vm_err *err, ...)
{
	static char *argv[32];
	memset(argv, 0, sizeof argv);
	argv[0] = "supermachine-vmm";
	int argc = 1;
	va_list ap;
	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	return options_parse(argc, argv, o, err);
}

START_TEST(full_command_line)
{
	struct options o;
	struct vm_err err = { "" };
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--initrd", "i", "--cmdline", "a b",
			       "--vcpus", "2", "--mem", "512", "--console", "--console-log", "l",
			       "--timeout", "1.5", "--stats", "--no-jail", NULL), 0);
	ck_assert_str_eq(o.vm.kernel, "k");
	ck_assert_str_eq(o.vm.initrd, "i");
	ck_assert_str_eq(o.vm.cmdline, "a b");
	ck_assert_int_eq(o.vm.vcpus, 2);
	ck_assert_uint_eq(o.vm.mem_bytes, 512ULL << 20);
	ck_assert(o.vm.console_stdout);
	ck_assert_str_eq(o.vm.console_log, "l");
	ck_assert(o.vm.timeout_sec == 1.5);
	ck_assert(o.stats);
	ck_assert(o.no_jail);
	ck_assert(!o.probe);
}
END_TEST

/* Idle slots, a bound folder and --fs-allow folders: what the jail gets. */
START_TEST(fs_slots_and_allow)
{
	struct options o;
	struct vm_err err = { "" };
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--fs", "sm0", "--fs", "sm1=/srv/b,ro",
			       "--fs-allow", "/home/me,rw", "--fs-allow", "/srv/x,ro,ro", NULL), 0);
	ck_assert_int_eq(o.dev.nfs, 2);
	ck_assert_str_eq(o.dev.fs[0].path, "");
	ck_assert_int_eq(o.dev.nallow, 2);
	struct jail_folders f;
	virtio_opts_folders(&o.dev, &f);
	ck_assert_int_eq(f.n, 3); /* the idle slot has none */
	ck_assert_str_eq(f.path[0], "/srv/b");
	ck_assert(f.readonly[0]);
	ck_assert_str_eq(f.path[1], "/home/me");
	ck_assert(!f.readonly[1]);
	ck_assert_str_eq(f.path[2], "/srv/x,ro"); /* one suffix is stripped */
	ck_assert(f.readonly[2]);
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--fs-allow", "", NULL), -1);
	ck_assert_msg(strstr(err.msg, "--fs-allow : want FOLDER[,ro]"), "%s", err.msg);
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--fs-allow", "/a", "--fs-allow", "/b",
			       "--fs-allow", "/c", "--fs-allow", "/d", "--fs-allow", "/e", NULL), -1);
	ck_assert_msg(strstr(err.msg, "--fs-allow: at most 4 folders"), "%s", err.msg);
}
END_TEST

START_TEST(defaults_and_probe)
{
	struct options o;
	struct vm_err err = { "" };
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", NULL), 0);
	ck_assert_int_eq(o.vm.vcpus, 1);
	ck_assert_uint_eq(o.vm.mem_bytes, (uint64_t)OPTIONS_DEFAULT_MEM_MIB << 20);
	ck_assert_str_eq(o.vm.cmdline, OPTIONS_DEFAULT_CMDLINE);
	ck_assert_ptr_null(o.vm.initrd);
	ck_assert(o.vm.timeout_sec == 0);
	ck_assert(!o.no_jail); /* jailed unless asked */
	ck_assert_int_eq(parse(&o, &err, "--probe", NULL), 0);
	ck_assert(o.probe);
}
END_TEST

START_TEST(bad_usage)
{
	struct options o;
	struct vm_err err = { "" };
	ck_assert_int_eq(parse(&o, &err, NULL), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "--kernel"));
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--vcpus", "0", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--vcpus", "65", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--vcpus", "2x", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--mem", "8", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--timeout", "-1", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--bogus", NULL), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "--bogus"));
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "extra", NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "--kernel", NULL), -1);
}
END_TEST

START_TEST(run_mode_command)
{
	struct options o;
	struct vm_err err = { "" };
	/* CMD's own options after -- stay CMD's */
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--disk", "r", "--", "sh", "-c",
			       "exit 7", "--stats", NULL), 0);
	ck_assert_ptr_nonnull(o.run_argv);
	ck_assert_str_eq(o.run_argv[0], "sh");
	ck_assert_str_eq(o.run_argv[1], "-c");
	ck_assert_str_eq(o.run_argv[2], "exit 7");
	ck_assert_str_eq(o.run_argv[3], "--stats");
	ck_assert_ptr_null(o.run_argv[4]);
	ck_assert(!o.stats);
	ck_assert_str_eq(o.vm.cmdline, OPTIONS_RUN_CMDLINE);
	ck_assert(o.agent_timeout_sec == OPTIONS_DEFAULT_AGENT_TIMEOUT);
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--agent-timeout", "2.5",
			       "--cmdline", "x", "--", "true", NULL), 0);
	ck_assert(o.agent_timeout_sec == 2.5);
	ck_assert_str_eq(o.vm.cmdline, "x");
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", NULL), 0);
	ck_assert_ptr_null(o.run_argv);
	/* errors: nothing after --, a command without --, zero timeout, both modes */
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--", NULL), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "no command"));
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "echo", "hi", NULL), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "--"));
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--agent-timeout", "0", "--", "true",
			       NULL), -1);
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--control-fd", "3", "--", "true",
			       NULL), -1);
}
END_TEST

static int irq_changes;
static void irq(void *opaque, bool level) { irq_changes++; }
static int panics;
static void on_panic(void *opaque) { panics++; }

static void out(struct serial *s, const char *text)
{
	for (; *text; text++) {
		uint8_t b = (uint8_t)*text;
		serial_io(s, UART_RBR, &b, 1, true);
	}
}

START_TEST(console_log_and_panic)
{
	char path[] = "/tmp/sm-console-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	struct vm_err err = { "" };
	struct serial *s = serial_new(irq, NULL, false, path, &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	serial_on_panic(s, on_panic, NULL);
	uint8_t ier = UART_IER_THRI;
	serial_io(s, UART_IER, &ier, 1, true);
	ck_assert_int_eq(irq_changes, 1); /* line raised once, not per access */
	out(s, "hello\n");
	bool ended;
	ck_assert(!serial_panicked(s, &ended));
	out(s, "[    1.0] Kernel panic - not syncing: VFS: Unable to mount root fs\n");
	ck_assert(serial_panicked(s, &ended));
	ck_assert(!ended);
	ck_assert_int_eq(panics, 0);
	out(s, "[    1.1] ---[ end Kernel panic - not syncing: VFS ]---\n");
	ck_assert(serial_panicked(s, &ended));
	ck_assert(ended);
	ck_assert_int_eq(panics, 1);
	out(s, "partial");
	serial_free(s);
	FILE *f = fopen(path, "r");
	char text[512] = { 0 };
	ck_assert_uint_gt(fread(text, 1, sizeof(text) - 1, f), 0);
	fclose(f);
	ck_assert(strncmp(text, "hello\n[    1.0] Kernel panic", 27) == 0);
	ck_assert_ptr_nonnull(strstr(text, "end Kernel panic"));
	ck_assert_ptr_nonnull(strstr(text, "]---\npartial")); /* flushed at free */
	unlink(path);
	ck_assert_ptr_null(serial_new(irq, NULL, false, "/nonexistent/dir/log", &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/dir/log"));
}
END_TEST

/* --net MAC: off by default; one, unicast and locally administered. */
START_TEST(net_option)
{
	struct options o;
	struct vm_err err = { "" };
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", NULL), 0);
	ck_assert(!o.dev.net);
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--net", "52:54:00:Ab:cD:01", NULL), 0);
	ck_assert(o.dev.net);
	ck_assert_mem_eq(o.dev.net_mac, ((uint8_t[]){ 0x52, 0x54, 0, 0xab, 0xcd, 1 }), 6);
	static const struct { const char *arg, *err; } bad[] = {
		{ "52:54:00:ab:cd", "--net: MAC \"52:54:00:ab:cd\": want six hex pairs joined by ':'" },
		{ "52:54:00:ab:cd:1", "--net: MAC \"52:54:00:ab:cd:1\": want six hex pairs" },
		{ "", "--net: MAC \"\": want six hex pairs" },
		{ "53:54:00:ab:cd:01", "--net: MAC \"53:54:00:ab:cd:01\": a multicast address" },
		{ "00:16:3e:ab:cd:01", "--net: MAC \"00:16:3e:ab:cd:01\": not locally administered" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--net", bad[i].arg, NULL), -1);
		ck_assert_msg(strstr(err.msg, bad[i].err) == err.msg, "%s", err.msg);
	}
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--net", "52:54:00:00:00:01", "--net",
			       "52:54:00:00:00:02", NULL), -1);
	ck_assert_str_eq(err.msg, "--net 52:54:00:00:00:02: given twice (a VM has one network "
			 "device)");
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--net", NULL), -1);
}
END_TEST

START_TEST(layers_option)
{
	struct options o;
	struct vm_err err = { "" };
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--layer", "l0", "--disk", "d,ro",
			       "--layer", "l1", NULL), 0);
	ck_assert_int_eq(o.dev.nlayers, 2);
	ck_assert_str_eq(o.dev.layer[0], "l0");
	ck_assert_str_eq(o.dev.layer[1], "l1");
	ck_assert_int_eq(o.dev.ndisks, 1);
	ck_assert_str_eq(o.vm.cmdline, OPTIONS_DEFAULT_CMDLINE " sm.layers=2");
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--layer", "l0", "--", "true", NULL), 0);
	ck_assert_str_eq(o.vm.cmdline, OPTIONS_RUN_CMDLINE " sm.layers=1");
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--layer", "l0", "--cmdline", "x",
			       NULL), 0);
	ck_assert_str_eq(o.vm.cmdline, "x"); /* a given command line is kept as it is */
	ck_assert_int_eq(parse(&o, &err, "--kernel", "k", "--layer", "", NULL), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "--layer"));
	/* 127 layers, not 128 */
	static char *argv[4 + 2 * (BLK_MAX_LAYERS + 1)];
	int argc = 0;
	argv[argc++] = "supermachine-vmm";
	argv[argc++] = "--kernel";
	argv[argc++] = "k";
	for (int i = 0; i < BLK_MAX_LAYERS; i++) {
		argv[argc++] = "--layer";
		argv[argc++] = "l";
	}
	ck_assert_int_eq(options_parse(argc, argv, &o, &err), 0);
	ck_assert_int_eq(o.dev.nlayers, BLK_MAX_LAYERS);
	ck_assert_str_eq(o.vm.cmdline, OPTIONS_DEFAULT_CMDLINE " sm.layers=127");
	argv[argc++] = "--layer";
	argv[argc++] = "l";
	ck_assert_int_eq(options_parse(argc, argv, &o, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "at most 127 layers"));
}
END_TEST

static Suite *options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *t = tcase_create("options");
	tcase_add_test(t, full_command_line);
	tcase_add_test(t, defaults_and_probe);
	tcase_add_test(t, fs_slots_and_allow);
	tcase_add_test(t, bad_usage);
	tcase_add_test(t, run_mode_command);
	tcase_add_test(t, layers_option);
	tcase_add_test(t, net_option);
	tcase_add_test(t, console_log_and_panic);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(options_suite)

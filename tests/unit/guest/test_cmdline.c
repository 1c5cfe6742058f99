/* test_cmdline.c - guest/init's sm.* command-line keys. */
#include "init_cmdline.h"

#include "agent_proto.h"

#include <check.h>
#include "../check_main.h"

START_TEST(keys)
{
	struct init_opts o;
	ck_assert_int_eq(init_parse_cmdline("console=ttyS0 sm.poweroff quiet sm.root=/dev/vdb "
					    "sm.port=2000 sm.debug\n", &o), 0);
	ck_assert(o.poweroff);
	ck_assert(!o.panic);
	ck_assert(o.debug);
	ck_assert_str_eq(o.root, "/dev/vdb");
	ck_assert_uint_eq(o.port, 2000);
	ck_assert_uint_eq(o.layers, 0);
	ck_assert_int_eq(init_parse_cmdline("sm.layers=3", &o), 0);
	ck_assert_uint_eq(o.layers, 3);
	ck_assert_int_eq(init_parse_cmdline("sm.layers=0", &o), -1);
	ck_assert_int_eq(init_parse_cmdline("sm.layers=127", &o), 0);
	ck_assert_uint_eq(o.layers, 127);
	ck_assert_int_eq(init_parse_cmdline("sm.layers=128", &o), -1);
	ck_assert_uint_eq(o.layers, 0);
}
END_TEST

START_TEST(defaults_and_invalid)
{
	struct init_opts o;
	ck_assert_int_eq(init_parse_cmdline("", &o), 0);
	ck_assert(!o.poweroff && !o.panic);
	ck_assert_str_eq(o.root, "");
	ck_assert_uint_eq(o.port, SM_AGENT_PORT);
	ck_assert_int_eq(init_parse_cmdline("sm.port=abc sm.panic", &o), -1);
	ck_assert_uint_eq(o.port, SM_AGENT_PORT);
	ck_assert(o.panic);
	ck_assert_int_eq(init_parse_cmdline("sm.poweroff=1", &o), -1);
	ck_assert(!o.poweroff);
	ck_assert_int_eq(init_parse_cmdline("sm.unknown", &o), -1);
	ck_assert_int_eq(init_parse_cmdline("xsm.panic sm.panicky", &o), -1);
	ck_assert(!o.panic);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cmdline");
	TCase *t = tcase_create("cmdline");
	tcase_add_test(t, keys);
	tcase_add_test(t, defaults_and_invalid);
	suite_add_tcase(s, t);
	return check_run(s, CK_FORK_GETENV);
}

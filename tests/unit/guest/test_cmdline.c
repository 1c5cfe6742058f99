/* test_cmdline.c - guest/init's sm.* command-line keys. */
#include "init_cmdline.h"

#include "agent_proto.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
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
	ck_assert_str_eq(o.upper, "");
	ck_assert_int_eq(init_parse_cmdline("sm.layers=2 sm.upper=vdc", &o), 0);
	ck_assert_str_eq(o.upper, "vdc");
	ck_assert_int_eq(init_parse_cmdline("sm.upper=vdaa", &o), 0);
	ck_assert_str_eq(o.upper, "vdaa");
	/* only a virtio disk's name: nothing that leaves /dev */
	const char *bad[] = { "sm.upper=", "sm.upper=vd", "sm.upper=sda", "sm.upper=vd1",
			      "sm.upper=vdb/../x", "sm.upper=../vda", "sm.upper=vdabcdefghijklmnop" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(init_parse_cmdline(bad[i], &o), -1);
		ck_assert_str_eq(o.upper, "");
	}
}
END_TEST

START_TEST(volumes)
{
	struct init_opts o;
	ck_assert_int_eq(init_parse_cmdline("sm.layers=2 sm.vol=vdc:rw:/data "
					    "sm.vol=vdd:ro:/srv/a-b_c.d", &o), 0);
	ck_assert_uint_eq(o.n_vols, 2);
	ck_assert_str_eq(o.vols[0].dev, "vdc");
	ck_assert(!o.vols[0].readonly);
	ck_assert_str_eq(o.vols[0].path, "/data");
	ck_assert_str_eq(o.vols[1].dev, "vdd");
	ck_assert(o.vols[1].readonly);
	ck_assert_str_eq(o.vols[1].path, "/srv/a-b_c.d");
	static const char *const bad[] = {
		"sm.vol=", "sm.vol=vdc", "sm.vol=vdc:rw", "sm.vol=vdc:rw:", "sm.vol=vdc:rw:/",
		"sm.vol=vdc:rw:data", "sm.vol=vdc:wr:/d", "sm.vol=sda:rw:/d", "sm.vol=vd:rw:/d",
		"sm.vol=vd1:rw:/d", "sm.vol=vdc:rw:/a:b", "sm.vol=../x:rw:/d",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(init_parse_cmdline(bad[i], &o), -1);
		ck_assert_uint_eq(o.n_vols, 0);
	}
	char line[2048] = "";
	for (int i = 0; i < 5; i++)
		strcat(line, "sm.vol=vdc:rw:/d ");
	ck_assert_int_eq(init_parse_cmdline(line, &o), -1);   /* a fifth one */
	ck_assert_uint_eq(o.n_vols, 4);
	char path[300];
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	snprintf(line, sizeof(line), "sm.vol=vdc:rw:%.*s", (int)sizeof(path), path);
	ck_assert_int_eq(init_parse_cmdline(line, &o), -1);   /* too long */
	ck_assert_uint_eq(o.n_vols, 0);
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
	tcase_add_test(t, volumes);
	suite_add_tcase(s, t);
	return check_run(s, CK_FORK_GETENV);
}

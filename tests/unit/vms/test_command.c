/* test_command.c - a VM's command as docker merges it
 * (daemon/vms/vms_command.c): ENTRYPOINT + CMD, a cmd given replacing
 * the image's, an entrypoint given replacing the image's and dropping its
 * CMD, an empty or [""] entrypoint counting as none, and no command at
 * all; and a record's entrypoint and cmd in its JSON and back from a
 * previous run's row (daemon/vms/vms_rec.c). No VM needed.
 */
#include "../check_main.h"
#include "daemon/vms/vms_int.h"

#include <stdlib.h>
#include <string.h>

static char *img_ep[] = { "/bin/sh", "-c", "script", "sh", NULL };
static char *img_cmd[] = { "default", NULL };
static char *empty_ep[] = { "", NULL };
static char *no_strs[] = { NULL };
static char digest[] = "sha256:0000";
static char blank[] = "";
static char data_dir[] = "/tmp/sm-test-command";
static struct vms fake_vms = { .data_dir = data_dir };

static struct sm_image_config image(char **ep, char **cmd)
{
	size_t ne = 0, nc = 0;
	while (ep[ne])
		ne++;
	while (cmd[nc])
		nc++;
	return (struct sm_image_config){
		.manifest_digest = digest, .workdir = blank, .user = blank,
		.entrypoint = ep, .n_entrypoint = ne, .cmd = cmd, .n_cmd = nc,
		.env = no_strs, .layers = no_strs,
	};
}

/* The command of a VM of cfg with these overrides, joined by '|' ("" for
 * none); and whether vm_spec_has_command agrees. */
static void expect(const struct sm_image_config *cfg, const char *const *ep,
		   const char *const *cmd, const char *want)
{
	struct vm_spec spec = { .image = "img", .image_cfg = cfg, .vcpus = 1, .memory_mib = 64,
				.entrypoint = ep, .cmd = cmd };
	char err[256], got[256] = "";
	struct vm_rec *r = rec_new(&fake_vms, &spec, err, sizeof err);
	ck_assert_msg(r != NULL, "rec_new: %s", err);
	const char **argv = vm_command(r);
	for (size_t i = 0; argv && argv[i]; i++) {
		strcat(got, i ? "|" : "");
		strcat(got, argv[i]);
	}
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(vm_spec_has_command(&spec), argv != NULL);
	free(argv);
	rec_free(r);
}

START_TEST(image_command)
{
	struct sm_image_config cfg = image(img_ep, img_cmd);
	expect(&cfg, NULL, NULL, "/bin/sh|-c|script|sh|default");
	const char *args[] = { "x", "y", NULL };
	expect(&cfg, NULL, args, "/bin/sh|-c|script|sh|x|y");
}
END_TEST

START_TEST(entrypoint_drops_image_cmd)
{
	struct sm_image_config cfg = image(img_ep, img_cmd);
	const char *echo[] = { "/bin/echo", NULL }, *hi[] = { "hi", NULL };
	expect(&cfg, echo, NULL, "/bin/echo");
	expect(&cfg, echo, hi, "/bin/echo|hi");
}
END_TEST

START_TEST(empty_entrypoint_is_none)
{
	struct sm_image_config cfg = image(img_ep, img_cmd);
	const char *none[] = { NULL }, *blank_ep[] = { "", NULL };
	const char *ls[] = { "ls", "-l", NULL };
	expect(&cfg, none, ls, "ls|-l");
	expect(&cfg, blank_ep, ls, "ls|-l");
	expect(&cfg, none, NULL, "");
	expect(&cfg, blank_ep, NULL, "");
	/* an image whose ENTRYPOINT is [""]: docker resets it too */
	struct sm_image_config reset = image(empty_ep, img_cmd);
	expect(&reset, NULL, NULL, "default");
}
END_TEST

START_TEST(image_without_command)
{
	struct sm_image_config cfg = image(no_strs, no_strs);
	const char *sh[] = { "sh", NULL };
	expect(&cfg, NULL, NULL, "");
	expect(&cfg, NULL, sh, "sh");
	expect(&cfg, sh, NULL, "sh");
}
END_TEST

/* r's JSON has "entrypoint" and "cmd" (arrays or null), and a previous
 * run's row brings them back. */
static void round_trip(const char *const *ep, const char *const *cmd, const char *want_ep)
{
	struct sm_image_config cfg = image(img_ep, img_cmd);
	struct vm_spec spec = { .image = "img", .image_cfg = &cfg, .vcpus = 1, .memory_mib = 64,
				.entrypoint = ep, .cmd = cmd };
	char err[256];
	struct vm_rec *r = rec_new(&fake_vms, &spec, err, sizeof err);
	ck_assert_ptr_nonnull(r);
	json_t *j = rec_json_locked(r);
	char *text = json_dumps(json_object_get(j, "entrypoint"), JSON_ENCODE_ANY | JSON_COMPACT);
	ck_assert_str_eq(text, want_ep);
	free(text);
	struct vm_rec *back = rec_from_json(&fake_vms, j);
	ck_assert_ptr_nonnull(back);
	json_t *jb = rec_json_locked(back);
	ck_assert(json_equal(json_object_get(jb, "entrypoint"), json_object_get(j, "entrypoint")));
	ck_assert(json_equal(json_object_get(jb, "cmd"), json_object_get(j, "cmd")));
	json_decref(jb);
	json_decref(j);
	rec_free(back);
	rec_free(r);
}

START_TEST(record_json)
{
	const char *echo[] = { "/bin/echo", "-n", NULL }, *none[] = { NULL };
	const char *hi[] = { "hi", NULL };
	round_trip(NULL, NULL, "null");
	round_trip(echo, hi, "[\"/bin/echo\",\"-n\"]");
	round_trip(none, hi, "[]");
}
END_TEST

static Suite *command_suite(void)
{
	Suite *s = suite_create("vms_command");
	TCase *tc = tcase_create("merge");
	tcase_add_test(tc, image_command);
	tcase_add_test(tc, entrypoint_drops_image_cmd);
	tcase_add_test(tc, empty_entrypoint_is_none);
	tcase_add_test(tc, image_without_command);
	tcase_add_test(tc, record_json);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(command_suite)

/* test_moddep.c - modules.dep parsing and load ordering. */
#include "moddep.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "../check_main.h"

static const char dep_text[] =
	"kernel/drivers/virtio/virtio_ring.ko:\n"
	"kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko\n"
	"kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n"
	"kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n"
	"kernel/net/vmw_vsock/vsock.ko:\n"
	"kernel/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko: kernel/net/vmw_vsock/vsock.ko\n"
	"kernel/net/vmw_vsock/vmw_vsock_virtio_transport.ko: kernel/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko kernel/net/vmw_vsock/vsock.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n"
	"kernel/fs/erofs/erofs.ko: kernel/lib/libcrc32c.ko\n"
	"kernel/lib/libcrc32c.ko:\n";

static const char builtin_text[] =
	"kernel/drivers/char/hw_random/rng-core.ko\nkernel/fs/ext4/ext4.ko\n";

static int pos(const char **order, size_t n, const char *suffix)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(order[i]), s = strlen(suffix);
		if (l >= s && !strcmp(order[i] + l - s, suffix))
			return (int)i;
	}
	return -1;
}

START_TEST(dependencies_first_each_once)
{
	struct moddep d;
	char err[256];
	const char **order;
	size_t n;
	const char *want[] = { "vmw_vsock_virtio_transport", "virtio_mmio", "virtio_rng",
			       "rng-core", "erofs", "ext4", "vsock" };
	ck_assert_int_eq(moddep_parse(dep_text, &d, err, sizeof(err)), 0);
	ck_assert_uint_eq(d.n, 9);
	ck_assert_int_eq(moddep_resolve(&d, want, 7, builtin_text, &order, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 9); /* every module once; built-ins skipped */
	ck_assert_int_lt(pos(order, n, "/virtio_ring.ko"), pos(order, n, "/virtio.ko"));
	ck_assert_int_lt(pos(order, n, "/virtio.ko"), pos(order, n, "/virtio_mmio.ko"));
	ck_assert_int_lt(pos(order, n, "/vsock.ko"), pos(order, n, "_transport_common.ko"));
	ck_assert_int_lt(pos(order, n, "_transport_common.ko"),
			 pos(order, n, "/vmw_vsock_virtio_transport.ko"));
	ck_assert_int_lt(pos(order, n, "/libcrc32c.ko"), pos(order, n, "/erofs.ko"));
	ck_assert_int_ge(pos(order, n, "/virtio-rng.ko"), 0); /* '_' matches '-' */
	free(order);
	moddep_free(&d);
}
END_TEST

START_TEST(missing_module_is_an_error)
{
	struct moddep d;
	char err[256];
	const char **order;
	size_t n;
	const char *want[] = { "virtio_blk" };
	ck_assert_int_eq(moddep_parse(dep_text, &d, err, sizeof(err)), 0);
	ck_assert_int_eq(moddep_resolve(&d, want, 1, builtin_text, &order, &n, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "virtio_blk"), "%s", err);
	moddep_free(&d);
}
END_TEST

START_TEST(dangling_dep_and_cycle)
{
	struct moddep d;
	char err[256];
	const char **order;
	size_t n;
	const char *want[] = { "a" };
	ck_assert_int_eq(moddep_parse("a.ko: b.ko\n", &d, err, sizeof(err)), 0);
	ck_assert_int_eq(moddep_resolve(&d, want, 1, NULL, &order, &n, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "b.ko"), "%s", err);
	moddep_free(&d);
	ck_assert_int_eq(moddep_parse("a.ko: b.ko\nb.ko: a.ko\n", &d, err, sizeof(err)), 0);
	ck_assert_int_eq(moddep_resolve(&d, want, 1, NULL, &order, &n, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "cycle"), "%s", err);
	moddep_free(&d);
	ck_assert_int_eq(moddep_parse("no colon here\n", &d, err, sizeof(err)), -1);
	moddep_free(&d);
}
END_TEST

START_TEST(names_normalized)
{
	char n[64];
	moddep_name("kernel/drivers/char/hw_random/virtio-rng.ko", n, sizeof(n));
	ck_assert_str_eq(n, "virtio_rng");
	moddep_name("kernel/fs/fuse/fuse.ko.xz", n, sizeof(n));
	ck_assert_str_eq(n, "fuse");
	moddep_name("rng-core", n, sizeof(n));
	ck_assert_str_eq(n, "rng_core");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("moddep");
	TCase *t = tcase_create("moddep");
	tcase_add_test(t, dependencies_first_each_once);
	tcase_add_test(t, missing_module_is_an_error);
	tcase_add_test(t, dangling_dep_and_cycle);
	tcase_add_test(t, names_normalized);
	suite_add_tcase(s, t);
	return check_run(s, CK_FORK_GETENV);
}

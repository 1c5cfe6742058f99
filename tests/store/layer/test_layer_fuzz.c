/* test_layer_fuzz.c - corrupted layers never crash the converter.
 *
 * A small layer with every entry kind (pax xattrs, links, whiteouts,
 * devices) is corrupted deterministically: random byte flips, and
 * sometimes a cut. Each variant is converted in this process under
 * ASan/UBSan; a conversion either fails with a message and leaves no
 * output, or succeeds with an image fsck.erofs accepts.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "helpers.h"
#include "../../unit/check_main.h"

#define ROUNDS 400

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const struct fx_entry base[] = {
	{ "a/", 'd', 0755 },
	{ "a/f", 'f', 0644, 1, 2, .data = "some file data that spans a while",
	  .xname = { "user.k" }, .xval = { "v" } },
	{ "a/big", 'f', 0600, .gen_size = 9000 },
	{ "a/l", 'l', .link = "f" },
	{ "a/h", 'h', .link = "a/f" },
	{ "b/.wh.x", 'f' },
	{ "b/.wh..wh..opq", 'f' },
	{ "c", 'c', 0600, .rmaj = 1, .rmin = 5 },
	{ "p", 'p', 0600 },
};

static unsigned char *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	b = malloc(*len);
	ck_assert_uint_eq(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

static void save(const char *path, const unsigned char *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, len, f), len);
	fclose(f);
}

START_TEST(corrupted_layers_fail_cleanly_or_convert)
{
	char *tmp = th_tmpdir();
	const char *tar = th_path(tmp, "base.tar"), *mut = th_path(tmp, "mut.tar");
	const char *img = th_path(tmp, "out.erofs");
	unsigned char *orig, *b;
	size_t len;
	int converted = 0;

	ck_assert_int_eq(fx_write(tar, FX_PLAIN, base, sizeof(base) / sizeof(base[0])), 0);
	orig = load(tar, &len);
	b = malloc(len);
	for (int round = 0; round < ROUNDS; round++) {
		size_t n = len;
		char err[512];

		memcpy(b, orig, len);
		for (int k = 1 + (int)(next_rand() % 8); k; k--)
			b[next_rand() % len] = (unsigned char)next_rand();
		if (next_rand() % 5 == 0)
			n = next_rand() % len;
		save(mut, b, n);
		if (layer_convert(mut, img, NULL, err, sizeof(err)) == 0) {
			converted++;
			ck_assert_msg(th_fsck(img) == 0, "round %d: fsck failed", round);
		} else {
			ck_assert_msg(err[0], "round %d: failure without a message", round);
			ck_assert_msg(!th_exists(img), "round %d: output left", round);
		}
		unlink(img);
	}
	ck_assert_int_gt(converted, 0);         /* some variants stay valid */
	ck_assert_int_eq(th_count_matching(tmp, ".tmp-"), 0);
	free(b);
	free(orig);
	th_rmtree(tmp);
	free(tmp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("layer_fuzz");
	TCase *tc = tcase_create("fuzz");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, corrupted_layers_fail_cleanly_or_convert);
	suite_add_tcase(s, tc);
	th_main_begin();
	int rc = check_run(s, CK_FORK_GETENV);
	th_main_end();
	return rc;
}

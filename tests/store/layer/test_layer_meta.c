/* test_layer_meta.c - file types and metadata survive layer -> erofs.
 *
 * A pax layer with every kind of entry (setuid/setgid/sticky modes, large
 * uid/gid, nanosecond mtimes, xattrs incl. security.capability and a
 * POSIX ACL as system.posix_acl_access (docker's encoding), symlinks
 * short and long, hard links, char/block devices, fifos, multi-block
 * directories, inline and block tails) is extracted with GNU tar as root
 * as the reference. The erofs image must pass fsck.erofs, its
 * fsck.erofs --extract must match the reference, and the kernel's own
 * erofs mount must match it including hard links and xattrs. gzip, zstd
 * and plain inputs give byte-identical images; ACLs given as SCHILY.acl
 * records (GNU tar, bsdtar) match tar --acls, default ACLs included; empty layers, GNU/pax
 * sparse entries and a 100 MB mostly-zero file round-trip.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fixture.h"
#include "helpers.h"
#include "../../unit/check_main.h"

/* struct vfs_cap_data, revision 2: cap_net_bind_service permitted. */
static const char cap_v2[20] = { 0x00, 0x00, 0x00, 0x02, 0x00, 0x04 };

/* system.posix_acl_access, version 2: user::rw- user:1000:r--
 * group::r-- mask::r-- other::--- (tag, perm, id little-endian). */
static const char acl_v2[44] = {
	2, 0, 0, 0,
	0x01, 0, 6, 0, -1, -1, -1, -1,
	0x02, 0, 4, 0, (char)0xe8, 0x03, 0, 0,
	0x04, 0, 4, 0, -1, -1, -1, -1,
	0x10, 0, 4, 0, -1, -1, -1, -1,
	0x20, 0, 0, 0, -1, -1, -1, -1,
};

#define NBIG 600

static char long_target[3001], long_name[256], big_names[NBIG][32];

static size_t meta_fixture(struct fx_entry *e)
{
	size_t n = 0;
	const struct fx_entry fixed[] = {
		{ "./", 'd', 0755 },
		{ "bin/", 'd', 0755 },
		{ "bin/tool", 'f', 04755, .data = "#!/bin/sh\necho hi\n",
		  .xname = { "security.capability" }, .xval = { cap_v2 },
		  .xlen = { sizeof(cap_v2) } },
		{ "bin/sgid", 'f', 02711, 0, 50, .data = "x" },
		{ "tmp/", 'd', 01777, .mtime = 1600000000 },
		{ "etc/", 'd', 0750, 0, 4, .mtime = 1500000000 },
		{ "etc/passwd", 'f', 0644, .data = "root:x:0:0::/root:/bin/sh\n",
		  .xname = { "user.note", "trusted.keep" }, .xval = { "hello", "t" } },
		{ "etc/big-ids", 'f', 0600, 100000, 200000, .data = "ids" },
		{ "etc/acl", 'f', 0640, .data = "acl",
		  .xname = { "system.posix_acl_access" }, .xval = { acl_v2 },
		  .xlen = { sizeof(acl_v2) } },
		{ "etc/nsec", 'f', 0644, .mtime = 1234567890, .mtime_nsec = 123456789,
		  .data = "n" },
		{ "lib/", 'd', 0755 },
		{ "lib/libfoo.so.1", 'f', 0755, .gen_size = 10000 },
		{ "lib/libfoo.so", 'l', .link = "libfoo.so.1" },
		{ "lib/hard", 'h', .link = "lib/libfoo.so.1" },
		{ "lib/hard2", 'h', .link = "lib/libfoo.so.1" },
		{ "dev/", 'd' },
		{ "dev/null", 'c', 0666, .rmaj = 1, .rmin = 3 },
		{ "dev/sda", 'b', 0660, 0, 6, .rmaj = 8, .rmin = 0 },
		{ "dev/wide", 'c', 0600, .rmaj = 200, .rmin = 70000 },
		{ "dev/fifo", 'p', 0620 },
		{ "var/", 'd', 0755, .mtime = 1700000001, .mtime_nsec = 5 },
		{ "var/empty", 'f', 0644 },
		{ "var/blk4096", 'f', 0644, .gen_size = 4096 },
		{ "var/tail3000", 'f', 0644, .gen_size = 3000 },
		{ "var/long-link", 'l', .link = long_target },
		{ "var/!bang", 'f', .data = "!" },
		{ "var/-dash", 'f', .data = "-" },
		{ "var/\xc3\xa9t\xc3\xa9", 'f', .data = "utf8" },
		{ "opt/", 'd', 0755 },
		{ "opt/xdir/", 'd', 0711, .xname = { "user.dir" }, .xval = { "1" } },
		{ long_name, 'f', .data = "long name" },
	};

	memset(long_target, 'a', sizeof(long_target) - 1);
	snprintf(long_name, sizeof(long_name), "opt/%0250d", 7);
	memcpy(e, fixed, sizeof(fixed));
	n = sizeof(fixed) / sizeof(fixed[0]);
	e[n++] = (struct fx_entry){ "usr/", 'd', 0755 };
	e[n++] = (struct fx_entry){ "usr/share/", 'd', 0755 };
	e[n++] = (struct fx_entry){ "usr/share/big/", 'd', 0755 };
	for (int i = 0; i < NBIG; i++) {
		snprintf(big_names[i], sizeof(big_names[i]), "usr/share/big/f%04d", i);
		e[n++] = (struct fx_entry){ big_names[i], 'f', 0644,
					    .data = i % 3 ? "" : "abc" };
	}
	return n;
}

static char *tmp;
static struct fx_entry ents[64 + NBIG];
static size_t nents;

static void setup(void)
{
	tmp = th_tmpdir();
	ck_assert_ptr_nonnull(tmp);
	nents = meta_fixture(ents);
}

static void teardown(void)
{
	th_rmtree(tmp);
	free(tmp);
}

static void convert_ok(const char *tar, const char *img, struct layer_stats *st)
{
	char err[512];

	ck_assert_msg(layer_convert(tar, img, st, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(th_fsck(img) == 0, "fsck.erofs rejected %s", img);
}

/* GNU tar as root; with acls it restores SCHILY.acl records (and then
 * drops ACLs carried as xattrs, so each test uses one kind). */
static void reference(const char *tar, const char *dir, bool acls)
{
	mkdir(dir, 0755);
	ck_assert_int_eq(th_sh("tar --xattrs --xattrs-include='*' --numeric-owner "
			       "--warning=no-unknown-keyword %s "
			       "-xpf '%s' -C '%s'", acls ? "--acls" : "", tar, dir), 0);
}

START_TEST(types_and_metadata_survive)
{
	const char *tar = th_path(tmp, "l.tar"), *img = th_path(tmp, "l.erofs");
	const char *ref = th_path(tmp, "ref"), *ext = th_path(tmp, "ext");
	const char *mnt = th_path(tmp, "mnt");
	struct layer_stats st;
	char msg[512];

	ck_assert_int_eq(fx_write(tar, FX_PLAIN, ents, nents), 0);
	convert_ok(tar, img, &st);
	ck_assert_uint_eq(st.entries, nents);
	ck_assert_uint_eq(st.neutralised, 0);
	reference(tar, ref, false);
	ck_assert_int_eq(th_extract(img, ext), 0);
	ck_assert_msg(th_tree_compare(ref, ext, TC_NSEC | TC_CHOWN_CLEARS_SUGID,
				      msg, sizeof(msg)) == 0,
		      "fsck --extract vs tar -x: %s", msg);
	if (!th_mount_erofs(img, mnt)) {
		th_note_no_mount();
		return;
	}
	ck_assert_msg(th_tree_compare(ref, mnt, TC_NSEC | TC_LINKS | TC_XATTRS |
				      TC_DIRNLINK, msg, sizeof(msg)) == 0,
		      "erofs mount vs tar -x: %s", msg);
	th_umount(mnt);
}
END_TEST

START_TEST(acl_records_become_posix_acls)
{
	const struct fx_entry e[] = {
		{ "./", 'd', 0755 },
		{ "acldir/", 'd', 0750, .acl = 1 },
		{ "acldir/file", 'f', 0750, .data = "acl records", .acl = 1 },
		{ "plain", 'f', 0640, .data = "no acl" },
	};
	const char *tar = th_path(tmp, "acl.tar"), *img = th_path(tmp, "acl.erofs");
	const char *ref = th_path(tmp, "ref"), *mnt = th_path(tmp, "mnt");
	struct layer_stats st;
	char msg[512], v[256];

	ck_assert_int_eq(fx_write(tar, FX_PLAIN, e, 4), 0);
	convert_ok(tar, img, &st);
	ck_assert_uint_eq(st.neutralised, 0);
	reference(tar, ref, true);
	ck_assert_int_gt(lgetxattr(th_path(ref, "acldir"), "system.posix_acl_default",
				   v, sizeof(v)), 0);
	if (!th_mount_erofs(img, mnt)) {
		th_note_no_mount();
		return;
	}
	ck_assert_msg(th_tree_compare(ref, mnt, TC_NSEC | TC_XATTRS, msg,
				      sizeof(msg)) == 0, "erofs vs tar --acls: %s", msg);
	th_umount(mnt);
}
END_TEST

static void read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	*len = (size_t)ftell(f);
	rewind(f);
	*buf = malloc(*len + 1);
	ck_assert_uint_eq(fread(*buf, 1, *len, f), *len);
	fclose(f);
}

START_TEST(gzip_zstd_plain_give_same_image)
{
	static const enum fx_filter filters[] = { FX_PLAIN, FX_GZIP, FX_ZSTD };
	char *img[3];
	size_t len[3];

	for (int i = 0; i < 3; i++) {
		char tar[64], out[64];
		struct layer_stats st;

		snprintf(tar, sizeof(tar), "l%d.tar", i);
		snprintf(out, sizeof(out), "l%d.erofs", i);
		ck_assert_int_eq(fx_write(th_path(tmp, tar), filters[i], ents, nents), 0);
		convert_ok(th_path(tmp, tar), th_path(tmp, out), &st);
		ck_assert_uint_eq(st.entries, nents);
		read_file(th_path(tmp, out), &img[i], &len[i]);
	}
	for (int i = 1; i < 3; i++) {
		ck_assert_uint_eq(len[i], len[0]);
		ck_assert_msg(memcmp(img[i], img[0], len[0]) == 0,
			      "filter %d gave a different image", i);
	}
	for (int i = 0; i < 3; i++)
		free(img[i]);
}
END_TEST

static void check_root_only(const char *img, const char *ext)
{
	struct stat st;

	ck_assert_int_eq(th_fsck(img), 0);
	ck_assert_int_eq(th_extract(img, ext), 0);
	ck_assert_int_eq(th_sh("test -z \"$(ls -A '%s')\"", ext), 0);
	ck_assert_int_eq(stat(img, &st), 0);
	ck_assert_int_eq(st.st_size % 4096, 0);
}

START_TEST(empty_layers)
{
	const char *tar = th_path(tmp, "e.tar"), *tgz = th_path(tmp, "e.tgz");
	const char *zero = th_path(tmp, "zero");
	struct layer_stats st;
	char err[512];
	int fd;

	ck_assert_int_eq(fx_write(tar, FX_PLAIN, NULL, 0), 0);
	ck_assert_int_eq(fx_write(tgz, FX_GZIP, NULL, 0), 0);
	fd = open(zero, O_CREAT | O_WRONLY, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_msg(layer_convert(tar, th_path(tmp, "e1"), &st, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_uint_eq(st.inodes, 1);
	check_root_only(th_path(tmp, "e1"), th_path(tmp, "x1"));
	ck_assert_msg(layer_convert(tgz, th_path(tmp, "e2"), &st, err, sizeof(err)) == 0, "%s", err);
	check_root_only(th_path(tmp, "e2"), th_path(tmp, "x2"));
	ck_assert_msg(layer_convert(zero, th_path(tmp, "e3"), &st, err, sizeof(err)) == 0, "%s", err);
	check_root_only(th_path(tmp, "e3"), th_path(tmp, "x3"));
}
END_TEST

#define BIG_SIZE ((100ull << 20) + 123)

static void check_big_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	static uint8_t buf[1 << 20];
	uint64_t off = 0;
	size_t n;

	ck_assert_ptr_nonnull(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		for (size_t i = 0; i < n; i++)
			if (buf[i] != fx_gen_byte(off + i))
				ck_abort_msg("%s: byte %llu differs", path,
					     (unsigned long long)(off + i));
		off += n;
	}
	fclose(f);
	ck_assert_uint_eq(off, BIG_SIZE);
}

START_TEST(large_file_round_trips)
{
	const struct fx_entry e[] = {
		{ "data/big.bin", 'f', 0600, 7, 8, .gen_size = BIG_SIZE },
		{ "data/after", 'f', .data = "after" },
	};
	const char *tar = th_path(tmp, "big.tar.zst"), *img = th_path(tmp, "big.erofs");
	const char *ext = th_path(tmp, "ext"), *mnt = th_path(tmp, "mnt");
	struct layer_stats st;
	struct stat is;

	ck_assert_int_eq(fx_write(tar, FX_ZSTD, e, 2), 0);
	convert_ok(tar, img, &st);
	ck_assert_uint_ge(st.image_bytes, BIG_SIZE);
	ck_assert_int_eq(stat(img, &is), 0);            /* zero blocks: holes */
	ck_assert_int_lt((long long)is.st_blocks * 512, 4 << 20);
	ck_assert_int_eq(th_extract(img, ext), 0);
	check_big_file(th_path(ext, "data/big.bin"));
	ck_assert_int_eq(th_sh("test \"$(cat '%s/data/after')\" = after", ext), 0);
	if (!th_mount_erofs(img, mnt)) {
		th_note_no_mount();
		return;
	}
	check_big_file(th_path(mnt, "data/big.bin"));
	th_umount(mnt);
}
END_TEST

/* GNU tar sparse entries (old GNU and pax 1.0 encodings): holes read
 * back as zeros and stay holes in the image file. */
START_TEST(sparse_tar_entries)
{
	static const char *formats[] = { "gnu", "pax" };
	const char *src = th_path(tmp, "src"), *sp = th_path(tmp, "src/sparse");
	int fd;

	mkdir(src, 0755);
	fd = open(sp, O_CREAT | O_WRONLY, 0640);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "head", 4, 0), 4);
	ck_assert_int_eq(pwrite(fd, "middle", 6, 20 << 20), 6);
	ck_assert_int_eq(pwrite(fd, "tail", 4, (64 << 20) - 4), 4);
	close(fd);
	for (int i = 0; i < 2; i++) {
		const char *tar = th_path(tmp, "s.tar"), *img = th_path(tmp, "s.erofs");
		const char *ext = th_path(tmp, "ext");
		struct layer_stats st;
		struct stat is;

		ck_assert_int_eq(th_sh("rm -rf '%s' && tar --sparse --format=%s -cf "
				       "'%s' -C '%s' sparse", ext, formats[i], tar,
				       src), 0);
		convert_ok(tar, img, &st);
		ck_assert_int_eq(stat(img, &is), 0);
		ck_assert_int_lt((long long)is.st_blocks * 512, 8 << 20);
		ck_assert_int_eq(th_extract(img, ext), 0);
		ck_assert_msg(th_sh("cmp '%s' '%s/sparse'", sp, ext) == 0,
			      "%s sparse entry differs", formats[i]);
	}
}
END_TEST

/* layer_convert_fd reading a pipe gives the same image as the file. */
START_TEST(convert_from_a_pipe)
{
	const char *tar = th_path(tmp, "l.tar.zst");
	char *a, *b, err[512];
	size_t la, lb;
	struct layer_stats st;
	FILE *p;
	char cmd[4200];

	ck_assert_int_eq(fx_write(tar, FX_ZSTD, ents, nents), 0);
	convert_ok(tar, th_path(tmp, "file.erofs"), &st);
	snprintf(cmd, sizeof(cmd), "cat '%s'", tar);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(layer_convert_fd(fileno(p), "pipe", th_path(tmp, "pipe.erofs"),
				       NULL, &st, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_uint_eq(st.entries, nents);
	read_file(th_path(tmp, "file.erofs"), &a, &la);
	read_file(th_path(tmp, "pipe.erofs"), &b, &lb);
	ck_assert_uint_eq(la, lb);
	ck_assert(memcmp(a, b, la) == 0);
	free(a);
	free(b);
}
END_TEST

/* The superblock carries a crc32c: a flipped bit in it stops the mount. */
START_TEST(superblock_checksum_guards_the_image)
{
	const char *tar = th_path(tmp, "l.tar"), *img = th_path(tmp, "l.erofs");
	struct layer_stats st;
	FILE *f;

	ck_assert_int_eq(fx_write(tar, FX_PLAIN, ents, 4), 0);
	convert_ok(tar, img, &st);
	ck_assert_int_eq(th_sh("dump.erofs -s '%s' | grep -q sb_csum", img), 0);
	if (!th_mount_erofs(img, th_path(tmp, "mnt"))) {
		th_note_no_mount();
		return;
	}
	th_umount(th_path(tmp, "mnt"));
	f = fopen(img, "r+b");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 1024 + 48, SEEK_SET), 0);     /* the uuid */
	fputc(0x5a, f);
	fclose(f);
	ck_assert(!th_mount_erofs(img, th_path(tmp, "mnt2")));
}
END_TEST

START_TEST(conversion_is_deterministic)
{
	const char *tar = th_path(tmp, "l.tar");
	char *a, *b;
	size_t la, lb;
	struct layer_stats st;

	ck_assert_int_eq(fx_write(tar, FX_GZIP, ents, nents), 0);
	convert_ok(tar, th_path(tmp, "a.erofs"), &st);
	convert_ok(tar, th_path(tmp, "b.erofs"), &st);
	read_file(th_path(tmp, "a.erofs"), &a, &la);
	read_file(th_path(tmp, "b.erofs"), &b, &lb);
	ck_assert_uint_eq(la, lb);
	ck_assert(memcmp(a, b, la) == 0);
	free(a);
	free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("layer_meta");
	TCase *tc = tcase_create("meta");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, types_and_metadata_survive);
	tcase_add_test(tc, acl_records_become_posix_acls);
	tcase_add_test(tc, gzip_zstd_plain_give_same_image);
	tcase_add_test(tc, empty_layers);
	tcase_add_test(tc, large_file_round_trips);
	tcase_add_test(tc, sparse_tar_entries);
	tcase_add_test(tc, convert_from_a_pipe);
	tcase_add_test(tc, superblock_checksum_guards_the_image);
	tcase_add_test(tc, conversion_is_deterministic);
	suite_add_tcase(s, tc);
	th_main_begin();
	int rc = check_run(s, CK_FORK_GETENV);
	th_main_end();
	return rc;
}

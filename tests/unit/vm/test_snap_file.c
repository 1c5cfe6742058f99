/* test_snap_file.c - the snapshot state file's envelope and memory file:
 * a good file loads; every truncation, every flipped byte, another format
 * version, another VMM version and a section of the wrong tag or a future
 * version are refused with a message; guest memory is written sparse. */
#include "../check_main.h"
#include "daemon/vm/snapshot/snap_file.h"
#include "daemon/vm/snapshot/snap_mem.h"
#include "daemon/vm/snapshot/snapshot.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAG_TEST SNAP_TAG('T', 'E', 'S', 'T')

/* A state file with one section holding a u64 and a string. */
static void make_file(struct snap_writer *w, uint32_t section_version)
{
	struct snap_header h = { .vcpus = 2, .mem_bytes = 64ULL << 20 };
	memset(h.kernel_digest, 0xaa, SNAP_DIGEST_BYTES);
	snap_writer_init(w);
	snap_file_begin(w, &h);
	size_t s = snap_begin(w, TAG_TEST, section_version);
	snap_put_u64(w, 0x1122334455667788ULL);
	snap_put_str(w, "hello");
	snap_end(w, s);
	/* the checksum, as snap_file_finish appends it */
	uint8_t sum[SNAP_DIGEST_BYTES];
	snap_sha256(w->buf, w->len, sum);
	snap_put_bytes(w, sum, sizeof(sum));
}

static void refix_checksum(uint8_t *buf, size_t len)
{
	snap_sha256(buf, len - SNAP_DIGEST_BYTES, buf + len - SNAP_DIGEST_BYTES);
}

START_TEST(good_file_loads)
{
	struct snap_writer w;
	make_file(&w, 1);
	struct snap_file f;
	struct vm_err err = { "" };
	ck_assert_int_eq(snap_file_parse(w.buf, w.len, &f, &err), 0);
	ck_assert_uint_eq(f.hdr.vcpus, 2);
	ck_assert_uint_eq(f.hdr.mem_bytes, 64ULL << 20);
	ck_assert_uint_eq(f.hdr.kernel_digest[5], 0xaa);
	struct snap_reader sec;
	uint32_t v;
	ck_assert(snap_open(&f.r, TAG_TEST, 1, &sec, &v));
	uint64_t x;
	char s[8];
	ck_assert(snap_get_u64(&sec, &x) && x == 0x1122334455667788ULL);
	ck_assert(snap_get_str(&sec, s, sizeof(s)) && strcmp(s, "hello") == 0);
	ck_assert(snap_done(&sec, "test"));
	ck_assert(snap_done(&f.r, "file"));
	snap_writer_free(&w);
}
END_TEST

START_TEST(every_truncation_refused)
{
	struct snap_writer w;
	make_file(&w, 1);
	for (size_t n = 0; n < w.len; n++) {
		struct snap_file f;
		struct vm_err err = { "" };
		ck_assert_msg(snap_file_parse(w.buf, n, &f, &err) < 0, "accepted %zu bytes", n);
		ck_assert(err.msg[0]);
	}
	snap_writer_free(&w);
}
END_TEST

START_TEST(every_flipped_byte_refused)
{
	struct snap_writer w;
	make_file(&w, 1);
	for (size_t i = 0; i < w.len; i++) {
		w.buf[i] ^= 0x40;
		struct snap_file f;
		struct vm_err err = { "" };
		ck_assert_msg(snap_file_parse(w.buf, w.len, &f, &err) < 0, "byte %zu", i);
		ck_assert_msg(strstr(err.msg, "checksum") || strstr(err.msg, "magic"), "%s",
			      err.msg);
		w.buf[i] ^= 0x40;
	}
	snap_writer_free(&w);
}
END_TEST

START_TEST(other_format_version_refused)
{
	struct snap_writer w;
	make_file(&w, 1);
	w.buf[8] = SNAP_FORMAT_VERSION + 1; /* u32 after the magic */
	refix_checksum(w.buf, w.len);
	struct snap_file f;
	struct vm_err err = { "" };
	ck_assert_int_lt(snap_file_parse(w.buf, w.len, &f, &err), 0);
	ck_assert_msg(strstr(err.msg, "format version 2"), "%s", err.msg);
	snap_writer_free(&w);
}
END_TEST

START_TEST(other_vmm_version_refused)
{
	struct snap_writer w;
	make_file(&w, 1);
	size_t at = 8 + 4 + 4; /* magic, format, string length */
	w.buf[at] ^= 1;        /* first character of the version string */
	refix_checksum(w.buf, w.len);
	struct snap_file f;
	struct vm_err err = { "" };
	ck_assert_int_lt(snap_file_parse(w.buf, w.len, &f, &err), 0);
	ck_assert_msg(strstr(err.msg, "made by supermachine-vmm"), "%s", err.msg);
	snap_writer_free(&w);
}
END_TEST

START_TEST(wrong_tag_and_future_section_refused)
{
	struct snap_writer w;
	make_file(&w, 2);
	struct snap_file f;
	struct vm_err err = { "" };
	ck_assert_int_eq(snap_file_parse(w.buf, w.len, &f, &err), 0);
	struct snap_reader copy = f.r, sec;
	ck_assert(!snap_open(&f.r, TAG_TEST, 1, &sec, NULL));
	ck_assert_msg(strstr(f.r.err, "format version 2"), "%s", f.r.err);
	ck_assert(!snap_open(&copy, SNAP_TAG('V', 'C', 'P', 'U'), 9, &sec, NULL));
	ck_assert_msg(strstr(copy.err, "section TEST where VCPU"), "%s", copy.err);
	snap_writer_free(&w);
}
END_TEST

START_TEST(bad_bool_and_long_string_refused)
{
	uint8_t b[] = { 2 };
	struct snap_reader r;
	bool v;
	snap_reader_init(&r, b, 1);
	ck_assert(!snap_get_bool(&r, &v));
	uint8_t s[] = { 9, 0, 0, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i' };
	char out[4];
	snap_reader_init(&r, s, sizeof(s));
	ck_assert(!snap_get_str(&r, out, sizeof(out)));
	ck_assert(r.bad && strstr(r.err, "9-byte string"));
}
END_TEST

START_TEST(memory_written_sparse)
{
	const uint64_t size = 64 * SNAP_PAGE;
	uint8_t *ram = calloc(1, size);
	ram[3 * SNAP_PAGE + 7] = 1;
	ram[40 * SNAP_PAGE] = 2;
	struct guest_mem m = { .nregions = 1, .total = size };
	m.region[0] = (struct guest_mem_region){ .gpa = 0, .size = size, .host = ram };
	char path[] = "/tmp/snapmemXXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	uint64_t written;
	struct vm_err err = { "" };
	ck_assert_int_eq(snap_mem_save(&m, fd, &written, &err), 0);
	ck_assert_uint_eq(written, 3 * SNAP_PAGE); /* two pages + the last */
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, size);
	uint8_t *back = malloc(size);
	ck_assert_int_eq(pread(fd, back, size, 0), (ssize_t)size);
	ck_assert(memcmp(back, ram, size) == 0);
	close(fd);
	free(back);
	free(ram);
}
END_TEST

START_TEST(given_digests_match_hashed_ones)
{
	char path[] = "/tmp/snapkernXXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "kernel bytes", 12), 12);
	close(fd);
	struct snap_ids hashed, given;
	struct vm_err err = { "" };
	ck_assert_int_eq(snap_ids_compute(path, NULL, NULL, NULL, &hashed, &err), 0);
	char d[7 + 2 * SNAP_DIGEST_BYTES + 1] = "sha256:";
	for (int i = 0; i < SNAP_DIGEST_BYTES; i++)
		snprintf(d + 7 + 2 * i, 3, "%02x", hashed.kernel[i]);
	ck_assert_int_eq(snap_ids_compute("/nonexistent", NULL, d, NULL, &given, &err), 0);
	ck_assert(memcmp(hashed.kernel, given.kernel, SNAP_DIGEST_BYTES) == 0);
	d[10] = 'X';
	ck_assert_int_lt(snap_ids_compute(path, NULL, d, NULL, &given, &err), 0);
	ck_assert_msg(strstr(err.msg, "want sha256:"), "%s", err.msg);
	ck_assert_int_lt(snap_ids_compute(path, NULL, "sha256:abc", NULL, &given, &err), 0);
	ck_assert_int_lt(snap_ids_compute("/nonexistent", NULL, NULL, NULL, &given, &err), 0);
	unlink(path);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("snap_file");
	TCase *t = tcase_create("envelope");
	tcase_add_test(t, good_file_loads);
	tcase_add_test(t, every_truncation_refused);
	tcase_add_test(t, every_flipped_byte_refused);
	tcase_add_test(t, other_format_version_refused);
	tcase_add_test(t, other_vmm_version_refused);
	tcase_add_test(t, wrong_tag_and_future_section_refused);
	tcase_add_test(t, bad_bool_and_long_string_refused);
	tcase_add_test(t, memory_written_sparse);
	tcase_add_test(t, given_digests_match_hashed_ones);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(suite)

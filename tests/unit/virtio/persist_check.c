/* persist_check.c - see persist_check.h. */
#include "persist_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pc_save(const struct pc_dev *d, struct snap_writer *w)
{
	snap_writer_init(w);
	d->save(d->dev, w);
	ck_assert(!w->oom);
}

void pc_restore_ok(const struct pc_dev *d, const uint8_t *buf, size_t len)
{
	struct snap_reader r;
	snap_reader_init(&r, buf, len);
	ck_assert_msg(d->restore(d->dev, &r), "restore refused: %s", r.err);
	ck_assert_uint_eq(r.off, len);
}

void pc_resave_same(const struct pc_dev *d, const uint8_t *buf, size_t len)
{
	struct snap_writer again;
	pc_save(d, &again);
	ck_assert_uint_eq(again.len, len);
	ck_assert_mem_eq(again.buf, buf, len);
	snap_writer_free(&again);
}

void pc_reject(const struct pc_dev *d, const uint8_t *buf, size_t len, const char *want)
{
	struct snap_writer before, after;
	struct snap_reader r;
	pc_save(d, &before);
	snap_reader_init(&r, buf, len);
	ck_assert_msg(!d->restore(d->dev, &r), "restore accepted what should fail with \"%s\"",
		      want);
	ck_assert(r.bad);
	ck_assert_msg(strstr(r.err, want), "message \"%s\" lacks \"%s\"", r.err, want);
	pc_save(d, &after);
	ck_assert_uint_eq(before.len, after.len);
	ck_assert_msg(memcmp(before.buf, after.buf, before.len) == 0,
		      "a refused restore (%s) changed the device", r.err);
	snap_writer_free(&before);
	snap_writer_free(&after);
}

void pc_reject_truncations(const struct pc_dev *d, const uint8_t *buf, size_t len)
{
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */
		memcpy(copy, buf, n);
		pc_reject(d, copy, n, n < PC_HDR ? "truncated" : "runs past the end");
		/* The same prefix with its length fixed up: the device's own
		 * reads (or a nested section) must find the end. */
		if (n >= PC_HDR) {
			pc_put(copy, PC_LEN, n - PC_HDR, 4);
			pc_reject(d, copy, n, "");
		}
		free(copy);
	}
}

void pc_remove_tmpdir(char *dir)
{
	char cmd[200];
	size_t n = strlen(dir);
	ck_assert_uint_ge(n, 6);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	memcpy(dir + n - 6, "XXXXXX", 6);
}

uint64_t pc_get(const uint8_t *buf, size_t off, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)buf[off + i] << (8 * i);
	return v;
}

void pc_put(uint8_t *buf, size_t off, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		buf[off + i] = (uint8_t)(v >> (8 * i));
}

void pc_reject_patch(const struct pc_dev *d, const uint8_t *buf, size_t len, size_t off,
		     uint64_t v, int n, const char *want)
{
	uint8_t *copy = malloc(len);
	memcpy(copy, buf, len);
	ck_assert_uint_le(off + (size_t)n, len);
	pc_put(copy, off, v, n);
	pc_reject(d, copy, len, want);
	free(copy);
}

void pc_reject_framing(const struct pc_dev *d, const uint8_t *buf, size_t len)
{
	pc_reject_patch(d, buf, len, 0, SNAP_TAG('N', 'O', 'P', 'E'), 4, "where");
	uint64_t next = pc_get(buf, PC_VERSION, 4) + 1; /* one past the current */
	char want[40];
	snprintf(want, sizeof(want), "format version %llu", (unsigned long long)next);
	pc_reject_patch(d, buf, len, PC_VERSION, next, 4, want);
	pc_reject_patch(d, buf, len, PC_VERSION, 0, 4, "format version 0");
	pc_reject_patch(d, buf, len, PC_LEN, len - PC_HDR + 1, 4, "runs past the end");
	/* One byte more inside the section: the device must notice it. */
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, buf, len);
	longer[len] = 0;
	pc_put(longer, PC_LEN, len - PC_HDR + 1, 4);
	pc_reject(d, longer, len + 1, "left over");
	free(longer);
}

void pc_reject_cuts_and_framing(const struct pc_dev *d, const uint8_t *buf, size_t len)
{
	pc_reject_truncations(d, buf, len);
	pc_reject_framing(d, buf, len);
}

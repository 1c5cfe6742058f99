/* fsck.c - independent check of a store's invariants, read straight from
 * store.db with SQL of its own (not the library's): SQLite integrity and
 * foreign keys, every blob row's file complete with the right sha256,
 * every layer row's erofs file present with the erofs magic, refcounts
 * equal to the manifests' actual references. Used after crash tests.
 */
#include "fsck.h"
#include "digest.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int check_sql_empty(sqlite3 *db, const char *sql, const char *what)
{
	sqlite3_stmt *s;
	int bad = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "fsck: %s: %s\n", what, sqlite3_errmsg(db));
		return 1;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		if (t && !strcmp((const char *)t, "ok"))
			continue;
		fprintf(stderr, "fsck: %s: %s\n", what, t ? (const char *)t : "(row)");
		bad++;
	}
	sqlite3_finalize(s);
	return bad;
}

static int check_blobs(sqlite3 *db, const char *dir)
{
	sqlite3_stmt *s;
	int bad = 0;

	sqlite3_prepare_v2(db, "SELECT digest, size, path FROM blobs", -1, &s, NULL);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *dg = (const char *)sqlite3_column_text(s, 0);
		uint64_t size = (uint64_t)sqlite3_column_int64(s, 1), got_size = 0;
		char path[PATH_MAX], got[SM_DIGEST_LEN], e[256];
		snprintf(path, sizeof path, "%s/%s", dir, (const char *)sqlite3_column_text(s, 2));
		if (sm_sha256_file(path, got, &got_size, e, sizeof e) < 0) {
			fprintf(stderr, "fsck: blob %s: %s\n", dg, e);
			bad++;
		} else if (got_size != size || strcmp(got, dg)) {
			fprintf(stderr, "fsck: blob %s: file has %s, %llu bytes\n", dg, got,
				(unsigned long long)got_size);
			bad++;
		}
	}
	sqlite3_finalize(s);
	return bad;
}

static int check_layers(sqlite3 *db, const char *dir)
{
	sqlite3_stmt *s;
	int bad = 0;

	sqlite3_prepare_v2(db, "SELECT digest, erofs_path, erofs_size FROM layers", -1, &s, NULL);
	while (sqlite3_step(s) == SQLITE_ROW) {
		char path[PATH_MAX];
		unsigned char magic[4] = { 0 };
		struct stat sb;
		snprintf(path, sizeof path, "%s/%s", dir, (const char *)sqlite3_column_text(s, 1));
		FILE *f = fopen(path, "rb");
		if (f && fseek(f, 1024, SEEK_SET) == 0 && fread(magic, 1, 4, f) == 4) {
			;
		}
		if (f)
			fclose(f);
		uint32_t m = (uint32_t)magic[0] | (uint32_t)magic[1] << 8 |
			     (uint32_t)magic[2] << 16 | (uint32_t)magic[3] << 24;
		if (stat(path, &sb) < 0 || m != 0xE0F5E1E2u ||
		    (uint64_t)sb.st_size != (uint64_t)sqlite3_column_int64(s, 2)) {
			fprintf(stderr, "fsck: layer %s: %s missing, short or not erofs\n",
				(const char *)sqlite3_column_text(s, 0), path);
			bad++;
		}
	}
	sqlite3_finalize(s);
	return bad;
}

int sm_test_fsck(const char *dir)
{
	char dbpath[PATH_MAX];
	sqlite3 *db;
	int bad = 0;

	snprintf(dbpath, sizeof dbpath, "%s/store.db", dir);
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "fsck: open %s: %s\n", dbpath, sqlite3_errmsg(db));
		sqlite3_close(db);
		return 1;
	}
	bad += check_sql_empty(db, "PRAGMA integrity_check", "integrity");
	bad += check_sql_empty(db, "PRAGMA foreign_key_check", "foreign key");
	bad += check_sql_empty(db, "SELECT 'refcount of ' || b.digest || ' is ' || b.refcount "
			       "|| ', references ' || ((SELECT COUNT(*) FROM manifests m WHERE "
			       "m.config_digest = b.digest) + (SELECT COUNT(*) FROM manifest_layers"
			       " ml WHERE ml.layer_digest = b.digest)) FROM blobs b WHERE "
			       "b.refcount != (SELECT COUNT(*) FROM manifests m WHERE "
			       "m.config_digest = b.digest) + (SELECT COUNT(*) FROM manifest_layers"
			       " ml WHERE ml.layer_digest = b.digest)", "refcount");
	bad += check_sql_empty(db, "SELECT 'manifest ' || digest || ' has no image' FROM "
			       "manifests WHERE digest NOT IN (SELECT id FROM images)", "orphan");
	bad += check_blobs(db, dir);
	bad += check_layers(db, dir);
	sqlite3_close(db);
	if (!bad)
		printf("fsck ok\n");
	return bad;
}

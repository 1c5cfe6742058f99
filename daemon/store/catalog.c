/* catalog.c - SQL for the store's rows (see catalog.h).
 *
 * blobs.refcount counts manifest references (config + each layer entry);
 * it changes only when a manifest row is inserted or deleted, in the same
 * transaction, so gc can trust refcount = 0 means unreferenced.
 */
#include "catalog.h"
#include "db.h"
#include "err.h"
#include "ref.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int sm_cat_prep(struct sm_store *st, const char *sql, sqlite3_stmt **s, char *err,
		size_t errlen)
{
	return sm_stmt_get(&st->stmts, st->db, sql, s, err, errlen);
}

char **sm_cat_strings(struct sm_store *st, const char *sql, const char *arg, size_t *n,
		      char *err, size_t errlen)
{
	sqlite3_stmt *s;
	size_t k = 0, cap = 8;
	char **v = calloc(cap + 1, sizeof *v);

	if (!v || sm_cat_prep(st, sql, &s, err, errlen) < 0) {
		free(v);
		return NULL;
	}
	sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (k == cap) {
			char **nv = realloc(v, (cap * 2 + 1) * sizeof *v);
			if (!nv)
				break;
			v = nv;
			cap *= 2;
		}
		v[k++] = strdup((const char *)sqlite3_column_text(s, 0));
		v[k] = NULL;
	}
	sm_stmt_put(&st->stmts, s);
	*n = k;
	return v;
}

/* Runs a statement expecting no rows; binds text args (NULL-terminated). */
static int run(struct sm_store *st, const char *sql, char *err, size_t errlen, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	const char *a;
	int i = 1;

	if (sm_cat_prep(st, sql, &s, err, errlen) < 0)
		return -1;
	va_start(ap, errlen);
	while ((a = va_arg(ap, const char *)))
		sqlite3_bind_text(s, i++, a, -1, SQLITE_TRANSIENT);
	va_end(ap);
	int rc = sqlite3_step(s);
	sm_stmt_put(&st->stmts, s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sm_err(err, errlen, "sqlite: %s", sqlite3_errmsg(st->db));
	return 0;
}

/* One text column of the first row: 1 found, 0 none, -1 error. */
static int query_text(struct sm_store *st, const char *sql, const char *arg, char *out, size_t len,
		      char *err, size_t errlen)
{
	sqlite3_stmt *s;

	if (sm_cat_prep(st, sql, &s, err, errlen) < 0)
		return -1;
	sqlite3_bind_text(s, 1, arg, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		snprintf(out, len, "%s", (const char *)sqlite3_column_text(s, 0));
	sm_stmt_put(&st->stmts, s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sm_err(err, errlen, "sqlite: %s", sqlite3_errmsg(st->db));
	return rc == SQLITE_ROW;
}

int sm_cat_blob_find(struct sm_store *st, const char *digest, char *relpath, size_t len,
		     char *err, size_t errlen)
{
	return query_text(st, "SELECT path FROM blobs WHERE digest = ?", digest, relpath, len,
			  err, errlen);
}

int sm_cat_layer_find(struct sm_store *st, const char *digest, char *relpath, size_t len,
		      char *err, size_t errlen)
{
	return query_text(st, "SELECT erofs_path FROM layers WHERE digest = ?", digest,
			  relpath, len, err, errlen);
}

int sm_cat_blob_add(struct sm_store *st, const struct sm_desc *d, const char *relpath,
		    char *err, size_t errlen)
{
	sqlite3_stmt *s;

	if (sm_cat_prep(st, "INSERT OR IGNORE INTO blobs(digest, size, media_type, path) "
		 "VALUES (?, ?, ?, ?)", &s, err, errlen) < 0)
		return -1;
	sqlite3_bind_text(s, 1, d->digest, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)d->size);
	sqlite3_bind_text(s, 3, d->media_type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, relpath, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	sm_stmt_put(&st->stmts, s);
	return rc == SQLITE_DONE ? 0 : sm_err(err, errlen, "recording blob %s: %s",
					      d->digest, sqlite3_errmsg(st->db));
}

int sm_cat_layer_add(struct sm_store *st, const char *digest, const char *relpath,
		     uint64_t size, uint64_t entries, char *err, size_t errlen)
{
	sqlite3_stmt *s;

	if (sm_cat_prep(st, "INSERT OR REPLACE INTO layers(digest, erofs_path, erofs_size, entries) "
		 "VALUES (?, ?, ?, ?)", &s, err, errlen) < 0)
		return -1;
	sqlite3_bind_text(s, 1, digest, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, relpath, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)size);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)entries);
	int rc = sqlite3_step(s);
	sm_stmt_put(&st->stmts, s);
	return rc == SQLITE_DONE ? 0 : sm_err(err, errlen, "recording layer %s: %s",
					      digest, sqlite3_errmsg(st->db));
}

static int insert_manifest(struct sm_store *st, const struct sm_ingest *in, char *err,
			   size_t errlen)
{
	sqlite3_stmt *s;
	const struct sm_manifest *m = in->m;

	if (sm_cat_prep(st, "INSERT INTO manifests(digest, media_type, content, config_digest) "
		 "VALUES (?, ?, ?, ?)", &s, err, errlen) < 0)
		return -1;
	sqlite3_bind_text(s, 1, in->manifest_digest, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, in->manifest_mt, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(s, 3, in->manifest, (int)in->manifest_len, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, m->config.digest, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	sm_stmt_put(&st->stmts, s);
	if (rc != SQLITE_DONE)
		return sm_err(err, errlen, "recording manifest: %s", sqlite3_errmsg(st->db));
	const char *inc = "UPDATE blobs SET refcount = refcount + 1 WHERE digest = ?";
	if (run(st, inc, err, errlen, m->config.digest, NULL) < 0)
		return -1;
	for (size_t i = 0; i < m->nlayers; i++) {
		char pos[24];
		snprintf(pos, sizeof pos, "%zu", i);
		if (run(st, "INSERT INTO manifest_layers(manifest_digest, position, layer_digest)"
			" VALUES (?, CAST(? AS INTEGER), ?)", err, errlen, in->manifest_digest, pos,
			m->layers[i].digest, NULL) < 0 ||
		    run(st, inc, err, errlen, m->layers[i].digest, NULL) < 0)
			return -1;
	}
	return 0;
}

static int insert_image(struct sm_store *st, const struct sm_ingest *in, const char *config,
			size_t config_len, const char *os, const char *arch,
			char *err, size_t errlen)
{
	sqlite3_stmt *s;
	uint64_t size = in->m->config.size;

	for (size_t i = 0; i < in->m->nlayers; i++)
		size += in->m->layers[i].size;
	if (sm_cat_prep(st, "INSERT OR IGNORE INTO images(id, config, os, arch, size, created) "
		 "VALUES (?, ?, ?, ?, ?, ?)", &s, err, errlen) < 0)
		return -1;
	sqlite3_bind_text(s, 1, in->manifest_digest, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, config, (int)config_len, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, os, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, arch, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)size);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)time(NULL));
	int rc = sqlite3_step(s);
	sm_stmt_put(&st->stmts, s);
	return rc == SQLITE_DONE ? 0 : sm_err(err, errlen, "recording image: %s",
					      sqlite3_errmsg(st->db));
}

int sm_cat_record_image(struct sm_store *st, const struct sm_ingest *in, const char *config,
			size_t config_len, const char *os, const char *arch,
			char *err, size_t errlen)
{
	char found[SM_DIGEST_LEN];

	if (sm_db_exec(st->db, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	int have = query_text(st, "SELECT digest FROM manifests WHERE digest = ?",
			      in->manifest_digest, found, sizeof found, err, errlen);
	if (have < 0 || (!have && insert_manifest(st, in, err, errlen) < 0) ||
	    insert_image(st, in, config, config_len, os, arch, err, errlen) < 0 ||
	    (in->tag && run(st, "INSERT OR REPLACE INTO tags(name, image_id) VALUES (?, ?)",
			    err, errlen, in->tag, in->manifest_digest, NULL) < 0)) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return sm_db_exec(st->db, "COMMIT", err, errlen);
}

static int all_hex(const char *s)
{
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return 0;
	return 1;
}

static int resolve_prefix(struct sm_store *st, const char *hex, char id[SM_DIGEST_LEN],
			  char *err, size_t errlen)
{
	sqlite3_stmt *s;
	char pattern[80];
	int n = 0;

	snprintf(pattern, sizeof pattern, "sha256:%s%%", hex);
	if (sm_cat_prep(st, "SELECT id FROM images WHERE id LIKE ? LIMIT 2", &s, err, errlen) < 0)
		return -1;
	sqlite3_bind_text(s, 1, pattern, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(s) == SQLITE_ROW && n < 2)
		if (n++ == 0)
			snprintf(id, SM_DIGEST_LEN, "%s", (const char *)sqlite3_column_text(s, 0));
	sm_stmt_put(&st->stmts, s);
	if (n > 1)
		return sm_err(err, errlen, "image id prefix %s is ambiguous", hex);
	return n;
}

int sm_cat_resolve(struct sm_store *st, const char *name, char id[SM_DIGEST_LEN],
		   char *err, size_t errlen)
{
	struct sm_ref r;
	char canon[700];
	int rc;

	if (sm_digest_valid(name))
		rc = query_text(st, "SELECT id FROM images WHERE id = ?", name, id,
				SM_DIGEST_LEN, err, errlen);
	else if (strlen(name) >= 12 && strlen(name) <= 64 && all_hex(name))
		rc = resolve_prefix(st, name, id, err, errlen);
	else if (sm_ref_parse(name, &r, err, errlen) < 0)
		return -1;
	else if (!r.tag[0] || r.digest[0])
		rc = query_text(st, "SELECT id FROM images WHERE id = ?", r.digest, id,
				SM_DIGEST_LEN, err, errlen);
	else {
		sm_ref_name(&r, canon, sizeof canon);
		rc = query_text(st, "SELECT image_id FROM tags WHERE name = ?", canon, id,
				SM_DIGEST_LEN, err, errlen);
	}
	if (rc == 0)
		return sm_err(err, errlen, "no such image: %s", name);
	return rc < 0 ? -1 : 0;
}

int sm_cat_image_detail(struct sm_store *st, const char *id, char **config, char *config_digest,
			char ***layers, size_t *n_layers, char *err, size_t errlen)
{
	sqlite3_stmt *s;

	if (sm_cat_prep(st, "SELECT i.config, m.config_digest FROM images i JOIN manifests m "
		 "ON m.digest = i.id WHERE i.id = ?", &s, err, errlen) < 0)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sm_stmt_put(&st->stmts, s);
		return sm_err(err, errlen, "no such image: %s", id);
	}
	*config = strdup((const char *)sqlite3_column_text(s, 0));
	snprintf(config_digest, SM_DIGEST_LEN, "%s", (const char *)sqlite3_column_text(s, 1));
	sm_stmt_put(&st->stmts, s);
	*layers = sm_cat_strings(st, "SELECT l.erofs_path FROM manifest_layers ml JOIN layers l "
				 "ON l.digest = ml.layer_digest WHERE ml.manifest_digest = ? "
				 "ORDER BY ml.position", id, n_layers, err, errlen);
	if (!*config || !*layers) {
		free(*config);
		return sm_err(err, errlen, "out of memory reading image %s", id);
	}
	return 0;
}

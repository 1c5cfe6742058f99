/* catalog_images.c - listing and deleting images (see catalog.h).
 *
 * Deleting an image drops its manifest and decrements the refcount of its
 * config and layer blobs in the same transaction; the files themselves are
 * removed later by gc.
 */
#include "catalog.h"
#include "db.h"
#include "err.h"
#include "ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sm_cat_list(struct sm_store *st, struct sm_image_info **out, size_t *n, char *err,
		size_t errlen)
{
	sqlite3_stmt *s;
	size_t k = 0, cap = 8;
	struct sm_image_info *v = calloc(cap, sizeof *v);

	if (!v)
		return sm_err(err, errlen, "out of memory");
	if (sm_cat_prep(st, "SELECT i.id, m.config_digest, i.size, i.created FROM images i "
			"JOIN manifests m ON m.digest = i.id ORDER BY i.created, i.id", &s,
			err, errlen) < 0) {
		free(v);
		return -1;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (k == cap) {
			struct sm_image_info *nv = realloc(v, cap * 2 * sizeof *v);
			if (!nv)
				break;
			v = nv;
			cap *= 2;
		}
		struct sm_image_info *im = &v[k++];
		im->id = strdup((const char *)sqlite3_column_text(s, 0));
		im->config_digest = strdup((const char *)sqlite3_column_text(s, 1));
		im->size = (uint64_t)sqlite3_column_int64(s, 2);
		im->created = sqlite3_column_int64(s, 3);
		im->tags = sm_cat_strings(st, "SELECT name FROM tags WHERE image_id = ? "
					  "ORDER BY name", im->id, &im->n_tags, err, errlen);
	}
	sm_stmt_put(&st->stmts, s);
	*out = v;
	*n = k;
	return 0;
}

static int exec_bound(struct sm_store *st, const char *sql, const char *arg, char *err,
		      size_t errlen)
{
	sqlite3_stmt *s;

	if (sm_cat_prep(st, sql, &s, err, errlen) < 0)
		return -1;
	sqlite3_bind_text(s, 1, arg, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	sm_stmt_put(&st->stmts, s);
	return rc == SQLITE_DONE ? 0 : sm_err(err, errlen, "sqlite: %s", sqlite3_errmsg(st->db));
}

static int remove_image(struct sm_store *st, const char *id, char *err, size_t errlen)
{
	if (exec_bound(st, "DELETE FROM images WHERE id = ?", id, err, errlen) < 0 ||
	    exec_bound(st, "UPDATE blobs SET refcount = refcount - 1 WHERE digest = "
		       "(SELECT config_digest FROM manifests WHERE digest = ?1)", id, err, errlen) < 0 ||
	    exec_bound(st, "UPDATE blobs SET refcount = refcount - (SELECT COUNT(*) FROM "
		       "manifest_layers ml WHERE ml.manifest_digest = ?1 AND ml.layer_digest = "
		       "blobs.digest) WHERE digest IN (SELECT layer_digest FROM manifest_layers "
		       "WHERE manifest_digest = ?1)", id, err, errlen) < 0)
		return -1;
	return exec_bound(st, "DELETE FROM manifests WHERE digest = ?", id, err, errlen);
}

static int count_tags(struct sm_store *st, const char *id)
{
	sqlite3_stmt *s;
	int n = -1;

	char err[8];

	if (sm_cat_prep(st, "SELECT COUNT(*) FROM tags WHERE image_id = ?", &s, err,
			sizeof err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sm_stmt_put(&st->stmts, s);
	return n;
}

/* A name that is a tag (not an id or a digest reference) only untags. */
static int is_tag_name(const char *name, char *canon, size_t len)
{
	struct sm_ref r;
	char e[8];

	size_t n = strlen(name);

	if (n >= 12 && n <= 64 && strspn(name, "0123456789abcdef") == n)
		return 0; /* an id prefix, as sm_cat_resolve reads it */
	if (sm_digest_valid(name) || sm_ref_parse(name, &r, e, sizeof e) < 0 || r.digest[0])
		return 0;
	sm_ref_name(&r, canon, len);
	return 1;
}

int sm_cat_delete(struct sm_store *st, const char *name, char *err, size_t errlen)
{
	char id[SM_DIGEST_LEN], canon[700];
	int rc = 0;

	if (sm_db_exec(st->db, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	if (sm_cat_resolve(st, name, id, err, errlen) < 0)
		rc = -1;
	else if (is_tag_name(name, canon, sizeof canon) && count_tags(st, id) > 0) {
		rc = exec_bound(st, "DELETE FROM tags WHERE name = ?", canon, err, errlen);
		if (rc == 0 && count_tags(st, id) == 0)
			rc = remove_image(st, id, err, errlen);
	} else
		rc = remove_image(st, id, err, errlen);
	if (rc < 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return sm_db_exec(st->db, "COMMIT", err, errlen);
}

/* gc.c - garbage collection (store.h: sm_store_gc).
 *
 * Rows first, files second: blobs with refcount 0 (and the layer images
 * built from them) are deleted in one transaction, then their files are
 * unlinked, so no row ever names a missing file. A sweep then removes
 * files no row names (left by a crash between rename and commit) and
 * everything in tmp/ (partial downloads, unfinished conversions). Runs
 * with the store lock held and only when no pull or import is active.
 */
#include "store_int.h"
#include "db.h"
#include "err.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pathlist {
	char **v;
	size_t n, cap;
};

static int push(struct pathlist *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	return (l->v[l->n] = strdup(s)) ? (int)l->n++ * 0 : -1;
}

static void pathlist_free(struct pathlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int collect(sqlite3 *db, const char *sql, struct pathlist *l, uint64_t *count,
		   char *err, size_t errlen)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return sm_err(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (push(l, (const char *)sqlite3_column_text(s, 0)) < 0) {
			sqlite3_finalize(s);
			return sm_err(err, errlen, "out of memory");
		}
		(*count)++;
	}
	sqlite3_finalize(s);
	return 0;
}

static int drop_rows(sqlite3 *db, struct pathlist *files, struct sm_gc_stats *gs,
		     char *err, size_t errlen)
{
	if (sm_db_exec(db, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	if (collect(db, "SELECT l.erofs_path FROM layers l JOIN blobs b ON b.digest = l.digest "
		    "WHERE b.refcount <= 0", files, &gs->layers_removed, err, errlen) < 0 ||
	    collect(db, "SELECT path FROM blobs WHERE refcount <= 0", files,
		    &gs->blobs_removed, err, errlen) < 0 ||
	    sm_db_exec(db, "DELETE FROM layers WHERE digest IN "
		       "(SELECT digest FROM blobs WHERE refcount <= 0);"
		       "DELETE FROM blobs WHERE refcount <= 0;", err, errlen) < 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return sm_db_exec(db, "COMMIT", err, errlen);
}

static void remove_file(const char *path, struct sm_gc_stats *gs)
{
	struct stat sb;

	if (lstat(path, &sb) == 0 && unlink(path) == 0) {
		gs->files_removed++;
		gs->bytes_freed += (uint64_t)sb.st_size;
	}
}

static int referenced(sqlite3 *db, const char *rel)
{
	sqlite3_stmt *s;
	int found = 1; /* on error keep the file */

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM blobs WHERE path = ?1 UNION ALL "
			       "SELECT 1 FROM layers WHERE erofs_path = ?1 UNION ALL "
			       "SELECT 1 FROM volumes WHERE path = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return 1;
	sqlite3_bind_text(s, 1, rel, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		found = 0;
	sqlite3_finalize(s);
	return found;
}

/* Unlinks entries of st->dir/sub that no row names (all of them if all). */
static void sweep(struct sm_store *st, const char *sub, int all, struct sm_gc_stats *gs)
{
	char dirpath[PATH_MAX], rel[PATH_MAX], path[PATH_MAX * 2];
	struct dirent *e;

	sm_abspath(st, sub, dirpath, sizeof dirpath);
	DIR *d = opendir(dirpath);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		snprintf(rel, sizeof rel, "%s/%s", sub, e->d_name);
		if (!all && referenced(st->db, rel))
			continue;
		snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
		remove_file(path, gs);
	}
	closedir(d);
}

int sm_store_gc(struct sm_store *st, struct sm_gc_stats *stats, char *err, size_t errlen)
{
	struct sm_gc_stats gs = { 0 };
	struct pathlist files = { 0 };
	char path[PATH_MAX];

	pthread_mutex_lock(&st->lock);
	if (st->active > 0) {
		pthread_mutex_unlock(&st->lock);
		return sm_err(err, errlen, "gc refused: %d pull(s) or import(s) in progress",
			      st->active);
	}
	int rc = drop_rows(st->db, &files, &gs, err, errlen);
	if (rc == 0) {
		for (size_t i = 0; i < files.n; i++) {
			sm_abspath(st, files.v[i], path, sizeof path);
			remove_file(path, &gs);
		}
		sweep(st, "blobs/sha256", 0, &gs);
		sweep(st, "layers/sha256", 0, &gs);
		sweep(st, "volumes", 0, &gs);
		sweep(st, "tmp", 1, &gs);
	}
	pthread_mutex_unlock(&st->lock);
	pathlist_free(&files);
	if (stats)
		*stats = gs;
	return rc;
}

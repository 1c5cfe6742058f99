/* volumes.c - the store's named persistent disks (see volumes.h).
 *
 * Create formats the disk in tmp/ and, under the store lock, renames it
 * into volumes/ and inserts its row, so gc (which holds the same lock and
 * sweeps files without a row) never sees one without the other. Delete
 * drops the row first, then the file: a crash between leaves a file that
 * gc removes.
 */
#include "volumes.h"
#include "mkfs_ext4.h"
#include "store_int.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool sm_volume_name_valid(const char *name, char *err, size_t errlen)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0)
		return sm_err(err, errlen, "a volume name must not be empty"), false;
	if (n > SM_VOLUME_NAME_MAX)
		return sm_err(err, errlen, "volume name is %zu bytes; at most %d", n,
			      SM_VOLUME_NAME_MAX), false;
	if (!isalnum((unsigned char)name[0]))
		return sm_err(err, errlen, "volume name \"%s\" must start with a letter or digit",
			      name), false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && c != '_' && c != '.' && c != '-')
			return sm_err(err, errlen, "volume name \"%s\" has '%c'; allowed are "
				      "letters, digits, '_', '.' and '-'", name, c), false;
	}
	return true;
}

static void rel_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "volumes/%s.ext4", name);
}

static int insert_row(struct sm_store *st, const char *name, const char *rel,
		      uint64_t size_mib, int64_t created, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "INSERT INTO volumes(name, path, size_mib, created) "
			       "VALUES (?, ?, ?, ?)", -1, &s, NULL) != SQLITE_OK)
		return sm_err(err, errlen, "sqlite: %s", sqlite3_errmsg(st->db));
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, rel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)size_mib);
	sqlite3_bind_int64(s, 4, created);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_CONSTRAINT)
		return sm_err(err, errlen, "volume %s already exists", name), -2;
	if (rc != SQLITE_DONE)
		return sm_err(err, errlen, "sqlite: %s", sqlite3_errmsg(st->db));
	return 0;
}

static void fill(struct sm_store *st, const char *name, const char *rel, uint64_t size_mib,
		 int64_t created, struct sm_volume *out)
{
	char abs[PATH_MAX];
	struct stat sb;
	sm_abspath(st, rel, abs, sizeof abs);
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", name);
	out->path = strdup(abs);
	out->size_mib = size_mib;
	out->used_bytes = stat(abs, &sb) == 0 ? (uint64_t)sb.st_blocks * 512 : 0;
	out->created = created;
}

static bool row_exists(struct sm_store *st, const char *name)
{
	sqlite3_stmt *s;
	bool found = false;
	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM volumes WHERE name = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return found;
}

/* Under the store lock: the formatted tmp file becomes volume name. */
static int commit_volume(struct sm_store *st, const char *name, const char *tmp,
			 const char *rel, uint64_t size_mib, int64_t now, char *err, size_t errlen)
{
	char dst[PATH_MAX];
	if (row_exists(st, name))
		return sm_err(err, errlen, "volume %s already exists", name), -2;
	sm_abspath(st, rel, dst, sizeof dst);
	if (sm_commit_file(tmp, dst, err, errlen) < 0)
		return -1;
	int rc = insert_row(st, name, rel, size_mib, now, err, errlen);
	if (rc < 0)
		unlink(dst);
	return rc;
}

int sm_store_volume_create(struct sm_store *st, const char *name, uint64_t size_mib,
			   struct sm_volume *out, char *err, size_t errlen)
{
	static unsigned long seq;
	char rel[PATH_MAX], tmp[PATH_MAX], tmprel[PATH_MAX];
	if (!sm_volume_name_valid(name, err, errlen))
		return -1;
	if (!size_mib)
		size_mib = SM_VOLUME_DEFAULT_MIB;
	if (size_mib < SM_VOLUME_MIN_MIB || size_mib > SM_VOLUME_MAX_MIB)
		return sm_err(err, errlen, "volume size %llu MiB is out of range (%d MiB to %u MiB)",
			      (unsigned long long)size_mib, SM_VOLUME_MIN_MIB, SM_VOLUME_MAX_MIB);
	pthread_mutex_lock(&st->lock);
	bool taken = row_exists(st, name);
	unsigned long n = ++seq;
	pthread_mutex_unlock(&st->lock);
	if (taken)
		return sm_err(err, errlen, "volume %s already exists", name), -2;
	rel_path(name, rel, sizeof rel);
	snprintf(tmprel, sizeof tmprel, "tmp/volume-%ld-%lu", (long)getpid(), n);
	sm_abspath(st, tmprel, tmp, sizeof tmp);
	if (sm_mkfs_ext4(tmp, size_mib, true, NULL, err, errlen) < 0)
		return sm_err_prefix(err, errlen, "volume %s: ", name);
	int64_t now = (int64_t)time(NULL);
	pthread_mutex_lock(&st->lock);
	int rc = commit_volume(st, name, tmp, rel, size_mib, now, err, errlen);
	pthread_mutex_unlock(&st->lock);
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	fill(st, name, rel, size_mib, now, out);
	return out->path ? 0 : sm_err(err, errlen, "out of memory");
}

static int read_rows(struct sm_store *st, const char *name, struct sm_volume **out, size_t *n,
		     char *err, size_t errlen)
{
	sqlite3_stmt *s;
	const char *sql = name ? "SELECT name, path, size_mib, created FROM volumes WHERE name = ?"
			       : "SELECT name, path, size_mib, created FROM volumes ORDER BY name";
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return sm_err(err, errlen, "sqlite: %s", sqlite3_errmsg(st->db));
	if (name)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct sm_volume *v = realloc(*out, (*n + 1) * sizeof **out);
		if (!v)
			break;
		*out = v;
		fill(st, (const char *)sqlite3_column_text(s, 0),
		     (const char *)sqlite3_column_text(s, 1),
		     (uint64_t)sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3), &v[*n]);
		(*n)++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		sm_volume_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return sm_err(err, errlen, "reading volumes: %s", rc == SQLITE_ROW ? "out of memory"
			      : sqlite3_errmsg(st->db));
	}
	return 0;
}

int sm_store_volume_list(struct sm_store *st, struct sm_volume **out, size_t *n,
			 char *err, size_t errlen)
{
	pthread_mutex_lock(&st->lock);
	int rc = read_rows(st, NULL, out, n, err, errlen);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int sm_store_volume_get(struct sm_store *st, const char *name, struct sm_volume *out,
			char *err, size_t errlen)
{
	struct sm_volume *v;
	size_t n;
	if (!sm_volume_name_valid(name, err, errlen))
		return -1;
	pthread_mutex_lock(&st->lock);
	int rc = read_rows(st, name, &v, &n, err, errlen);
	pthread_mutex_unlock(&st->lock);
	if (rc < 0)
		return -1;
	if (n == 0)
		return sm_err(err, errlen, "no such volume: %s", name), -2;
	*out = v[0];
	free(v);
	return 0;
}

int sm_store_volume_delete(struct sm_store *st, const char *name, char *err, size_t errlen)
{
	struct sm_volume v;
	int rc = sm_store_volume_get(st, name, &v, err, errlen);
	if (rc < 0)
		return rc;
	sqlite3_stmt *s;
	pthread_mutex_lock(&st->lock);
	rc = sqlite3_prepare_v2(st->db, "DELETE FROM volumes WHERE name = ?", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
	}
	if (rc == SQLITE_DONE && sqlite3_changes(st->db) == 0)
		rc = -2;
	else if (rc != SQLITE_DONE)
		rc = sm_err(err, errlen, "deleting volume %s: %s", name, sqlite3_errmsg(st->db));
	else
		rc = 0;
	pthread_mutex_unlock(&st->lock);
	if (rc == -2)
		sm_err(err, errlen, "no such volume: %s", name);
	if (rc == 0 && unlink(v.path) < 0 && errno != ENOENT)
		rc = sm_err(err, errlen, "volume %s: its row is gone, but unlink %s: %s (gc "
			    "removes it)", name, v.path, strerror(errno));
	sm_volume_clear(&v);
	return rc;
}

void sm_volume_clear(struct sm_volume *v)
{
	free(v->path);
	v->path = NULL;
}

void sm_volume_list_free(struct sm_volume *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sm_volume_clear(&v[i]);
	free(v);
}

/* db.c - database opening and schema migrations (see db.h).
 *
 * Tables: blobs (content files, with a refcount of manifests using them),
 * layers (the erofs image built from a layer blob), manifests (raw bytes
 * and their ordered layers), images (one per manifest, with its config
 * JSON) and tags (canonical reference -> image); since version 2,
 * volumes (named persistent disks, daemon/store/volumes.c).
 */
#include "db.h"
#include "err.h"

#include <stdio.h>

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE blobs ("
	"  digest TEXT PRIMARY KEY,"
	"  size INTEGER NOT NULL,"
	"  media_type TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  refcount INTEGER NOT NULL DEFAULT 0 CHECK (refcount >= 0));"
	"CREATE TABLE layers ("
	"  digest TEXT PRIMARY KEY REFERENCES blobs(digest),"
	"  erofs_path TEXT NOT NULL,"
	"  erofs_size INTEGER NOT NULL,"
	"  entries INTEGER NOT NULL);"
	"CREATE TABLE manifests ("
	"  digest TEXT PRIMARY KEY,"
	"  media_type TEXT NOT NULL,"
	"  content BLOB NOT NULL,"
	"  config_digest TEXT NOT NULL REFERENCES blobs(digest));"
	"CREATE TABLE manifest_layers ("
	"  manifest_digest TEXT NOT NULL REFERENCES manifests(digest) ON DELETE CASCADE,"
	"  position INTEGER NOT NULL,"
	"  layer_digest TEXT NOT NULL REFERENCES layers(digest),"
	"  PRIMARY KEY (manifest_digest, position));"
	"CREATE INDEX manifest_layers_layer ON manifest_layers(layer_digest);"
	"CREATE TABLE images ("
	"  id TEXT PRIMARY KEY REFERENCES manifests(digest),"
	"  config TEXT NOT NULL,"
	"  os TEXT NOT NULL,"
	"  arch TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE tags ("
	"  name TEXT PRIMARY KEY,"
	"  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
	"CREATE INDEX tags_image ON tags(image_id);",
	/* 1 -> 2 */
	"CREATE TABLE volumes ("
	"  name TEXT PRIMARY KEY,"
	"  path TEXT NOT NULL,"
	"  size_mib INTEGER NOT NULL CHECK (size_mib > 0),"
	"  created INTEGER NOT NULL);",
};

int sm_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sm_err(err, errlen, "sqlite: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int sm_db_version(sqlite3 *db)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	int v = sm_db_version(db);
	int latest = (int)(sizeof migrations / sizeof migrations[0]);
	char bump[64];

	if (v < 0)
		return sm_err(err, errlen, "cannot read schema version: %s", sqlite3_errmsg(db));
	if (v > latest)
		return sm_err(err, errlen, "store schema version %d is newer than this "
			      "program's %d", v, latest);
	for (; v < latest; v++) {
		snprintf(bump, sizeof bump, "PRAGMA user_version = %d;", v + 1);
		if (sm_db_exec(db, "BEGIN IMMEDIATE", err, errlen) < 0)
			return -1;
		if (sm_db_exec(db, migrations[v], err, errlen) < 0 ||
		    sm_db_exec(db, bump, err, errlen) < 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return sm_err_prefix(err, errlen, "migrating schema to version %d: ", v + 1);
		}
		if (sm_db_exec(db, "COMMIT", err, errlen) < 0)
			return -1;
	}
	return 0;
}

int sm_db_open(const char *path, sqlite3 **out, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;

	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		sm_err(err, errlen, "open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sm_db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		       "PRAGMA foreign_keys=ON;", err, errlen) < 0 ||
	    migrate(db, err, errlen) < 0) {
		sqlite3_close(db);
		return sm_err_prefix(err, errlen, "%s: ", path);
	}
	*out = db;
	return 0;
}

int sm_stmt_get(struct sm_stmt_cache *c, sqlite3 *db, const char *sql, sqlite3_stmt **out,
		char *err, size_t errlen)
{
	int slot = -1;
	for (int i = 0; i < c->n; i++)
		if (c->e[i].sql == sql) {
			if (!c->e[i].lent) {
				c->e[i].lent = true;
				*out = c->e[i].s;
				return 0;
			}
			slot = -2; /* the cached one is out: lend a fresh, uncached one */
		}
	if (slot == -1 && c->n < SM_STMT_CACHE_MAX)
		slot = c->n;
	if (sqlite3_prepare_v3(db, sql, -1, slot >= 0 ? SQLITE_PREPARE_PERSISTENT : 0, out,
			       NULL) != SQLITE_OK)
		return sm_err(err, errlen, "sqlite prepare: %s", sqlite3_errmsg(db));
	if (slot >= 0) {
		c->e[slot].sql = sql;
		c->e[slot].s = *out;
		c->e[slot].lent = true;
		c->n++;
	}
	return 0;
}

void sm_stmt_put(struct sm_stmt_cache *c, sqlite3_stmt *s)
{
	for (int i = 0; i < c->n; i++)
		if (c->e[i].s == s) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			c->e[i].lent = false;
			return;
		}
	sqlite3_finalize(s);
}

void sm_stmt_cache_clear(struct sm_stmt_cache *c)
{
	for (int i = 0; i < c->n; i++)
		sqlite3_finalize(c->e[i].s);
	c->n = 0;
}

/* db.h - the store's SQLite database: opening it (WAL, foreign keys, busy
 * timeout) and bringing its schema to the current version.
 *
 * The schema version is PRAGMA user_version; migrations[] in db.c holds one
 * SQL script per version step and each step runs in its own transaction,
 * so an interrupted upgrade leaves the previous version intact.
 */
#ifndef SM_STORE_DB_H
#define SM_STORE_DB_H

#include <stdbool.h>
#include <sqlite3.h>
#include <stddef.h>

#define SM_DB_VERSION 1

int sm_db_open(const char *path, sqlite3 **out, char *err, size_t errlen);

/* A connection's prepared statements, kept for reuse so a request does not
 * compile the same SQL again (for GET /v1/images preparing was most of
 * the cost). Entries are keyed by the SQL text's address: pass string
 * literals. Used under the connection owner's lock; finalize them all
 * (sm_stmt_cache_clear) before closing the connection. */
#define SM_STMT_CACHE_MAX 32
struct sm_stmt_cache {
	struct {
		const char *sql;
		sqlite3_stmt *s;
		bool lent; /* between sm_stmt_get and sm_stmt_put */
	} e[SM_STMT_CACHE_MAX];
	int n;
};

/* A ready statement for sql in *out (cached, or prepared and cached; a
 * fresh uncached one while the cached one is still out, as in a nested
 * use); give it back with sm_stmt_put. 0, or -1 with err. */
int sm_stmt_get(struct sm_stmt_cache *c, sqlite3 *db, const char *sql, sqlite3_stmt **out,
		char *err, size_t errlen);
/* Resets s and clears its bindings (a statement beyond the cache's size
 * is finalized). */
void sm_stmt_put(struct sm_stmt_cache *c, sqlite3_stmt *s);
void sm_stmt_cache_clear(struct sm_stmt_cache *c);
int sm_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);
int sm_db_version(sqlite3 *db);

#endif

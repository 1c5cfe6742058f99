/* db.h - the store's SQLite database: opening it (WAL, foreign keys, busy
 * timeout) and bringing its schema to the current version.
 *
 * The schema version is PRAGMA user_version; migrations[] in db.c holds one
 * SQL script per version step and each step runs in its own transaction,
 * so an interrupted upgrade leaves the previous version intact.
 */
#ifndef SM_STORE_DB_H
#define SM_STORE_DB_H

#include <sqlite3.h>
#include <stddef.h>

#define SM_DB_VERSION 1

int sm_db_open(const char *path, sqlite3 **out, char *err, size_t errlen);
int sm_db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);
int sm_db_version(sqlite3 *db);

#endif

/* pool_db.c - the pools set through the API, in DATA/vms.db (table pools)
 * beside the VMs and snapshots, so a restarted daemon sets them up again.
 * One row per pool: its key and settings (vcpus and memory as given; 0:
 * the daemon's default). The config file's pools are not saved. A
 * connection of our own (SQLite serializes it with daemon/vms's). */
#include "daemon/pool/pool_int.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS pools ("
	" image TEXT PRIMARY KEY,"
	" min INTEGER NOT NULL,"
	" max INTEGER NOT NULL,"
	" idle_timeout INTEGER NOT NULL,"
	" vcpus INTEGER NOT NULL,"        /* 0: the daemon's default */
	" memory_mib INTEGER NOT NULL);"; /* 0: likewise */

int pool_db_open(struct pools *p, const char *data_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	pthread_mutex_init(&p->db_mu, NULL);
	snprintf(path, sizeof path, "%s/vms.db", data_dir);
	if (sqlite3_open_v2(path, &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(p->db, 5000) != SQLITE_OK ||
	    sqlite3_exec(p->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: pools: %s", path,
			 p->db ? sqlite3_errmsg(p->db) : "cannot open");
		return -1;
	}
	return 0;
}

void pool_db_close(struct pools *p)
{
	if (p->db) {
		sqlite3_close(p->db);
		p->db = NULL;
		pthread_mutex_destroy(&p->db_mu);
	}
}

int pool_db_load(struct pools *p, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(p->db, "SELECT image, min, max, idle_timeout, vcpus, memory_mib "
			       "FROM pools ORDER BY image", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "reading pools: %s", sqlite3_errmsg(p->db));
		return -1;
	}
	int rc = 0;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		struct pool_settings s = {
			.min = (unsigned)sqlite3_column_int(st, 1),
			.max = (unsigned)sqlite3_column_int(st, 2),
			.idle_timeout_s = (unsigned)sqlite3_column_int(st, 3),
			.vcpus = sqlite3_column_int(st, 4),
			.memory_mib = (unsigned)sqlite3_column_int(st, 5),
		};
		if (!key || s.max < 1 || s.max > POOL_MAX_VMS || s.min > s.max) {
			fprintf(stderr, "supermachined: vms.db: skipping a bad pool row (%s)\n",
				key ? key : "no image");
			continue;
		}
		rc = pools_start_saved(p, key, &s, err, errlen);
	}
	sqlite3_finalize(st);
	return rc;
}

int pool_db_save(struct pools *p, const char *key, const struct pool_settings *s, char *err,
		 size_t errlen)
{
	sqlite3_stmt *st;
	int rc = -1;
	pthread_mutex_lock(&p->db_mu);
	if (sqlite3_prepare_v2(p->db, "INSERT OR REPLACE INTO pools (image, min, max, "
			       "idle_timeout, vcpus, memory_mib) VALUES (?, ?, ?, ?, ?, ?)", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, (int)s->min);
		sqlite3_bind_int(st, 3, (int)s->max);
		sqlite3_bind_int(st, 4, (int)s->idle_timeout_s);
		sqlite3_bind_int(st, 5, s->vcpus);
		sqlite3_bind_int64(st, 6, s->memory_mib);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(st);
	}
	if (rc < 0)
		snprintf(err, errlen, "saving pool %s: %s", key, sqlite3_errmsg(p->db));
	pthread_mutex_unlock(&p->db_mu);
	return rc;
}

void pool_db_delete(struct pools *p, const char *key)
{
	sqlite3_stmt *st;
	pthread_mutex_lock(&p->db_mu);
	if (sqlite3_prepare_v2(p->db, "DELETE FROM pools WHERE image = ?", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			fprintf(stderr, "supermachined: removing pool %s: %s\n", key,
				sqlite3_errmsg(p->db));
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&p->db_mu);
}

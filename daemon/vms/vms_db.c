/* vms_db.c - VM rows in DATA/vms.db, so a restarted daemon knows the
 * previous run's VMs.
 *
 * One table, vms(id, doc): doc is the VM's JSON as GET /v1/vms/{id} shows
 * it, rewritten at every state change. At start-up every row left by the
 * previous run becomes a "gone" VM (its worker died with that daemon) and
 * DATA/vms/, which held their consoles and sockets, is emptied.
 */
#include "daemon/vms/vms_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int db_fail(struct vms *v, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s/vms.db: %s: %s", v->data_dir, what,
		 v->db ? sqlite3_errmsg(v->db) : "cannot open");
	return -1;
}

int db_open(struct vms *v, char *err, size_t errlen)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/vms.db", v->data_dir);
	if (sqlite3_open_v2(path, &v->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
		return db_fail(v, "open", err, errlen);
	sqlite3_busy_timeout(v->db, 5000);
	if (sqlite3_exec(v->db, "PRAGMA journal_mode=WAL;"
			 "CREATE TABLE IF NOT EXISTS vms (id TEXT PRIMARY KEY, doc TEXT NOT NULL);",
			 NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(v, "schema", err, errlen);
	return 0;
}

void db_save(struct vms *v, struct vm_rec *r)
{
	sqlite3_stmt *st;
	size_t len;
	rec_changed(r);
	if (r->kind != VM_KIND_USER)
		return;   /* hidden VMs die with their daemon and leave no row */
	const char *doc = rec_text_locked(r, &len);
	if (doc && sqlite3_prepare_v2(v->db, "INSERT OR REPLACE INTO vms (id, doc) VALUES (?, ?)",
				      -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, doc, (int)len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			fprintf(stderr, "supermachined: saving VM %s: %s\n", r->id,
				sqlite3_errmsg(v->db));
		sqlite3_finalize(st);
	}
}

void db_delete(struct vms *v, const char *id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(v->db, "DELETE FROM vms WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static int add_rec(struct vms *v, struct vm_rec *r)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct vm_rec **grown = realloc(v->recs, cap * sizeof *grown);
		if (!grown)
			return -1;
		v->recs = grown;
		v->cap = cap;
	}
	v->recs[v->n++] = r;
	return 0;
}

int db_load_previous(struct vms *v, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char dir[PATH_MAX];
	if (sqlite3_prepare_v2(v->db, "SELECT doc FROM vms", -1, &st, NULL) != SQLITE_OK)
		return db_fail(v, "reading VMs", err, errlen);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *doc = (const char *)sqlite3_column_text(st, 0);
		json_t *j = doc ? json_loads(doc, 0, NULL) : NULL;
		struct vm_rec *r = j ? rec_from_json(v, j) : NULL;
		json_decref(j);
		if (r && add_rec(v, r) < 0)
			rec_free(r);
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < v->n; i++)
		db_save(v, v->recs[i]);
	snprintf(dir, sizeof dir, "%s/vms", v->data_dir);
	rmtree(dir);
	if (mkdir(dir, 0750) < 0) {
		snprintf(err, errlen, "mkdir %s: %m", dir);
		return -1;
	}
	return 0;
}

int vms_add_rec(struct vms *v, struct vm_rec *r)
{
	return add_rec(v, r);
}

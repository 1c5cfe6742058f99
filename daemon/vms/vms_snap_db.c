/* vms_snap_db.c - snapshot rows in DATA/vms.db, beside the VMs' table.
 *
 * One row per finished snapshot (a snapshot being taken has none yet):
 * plain columns for what a restore and a listing need; env, cmd and
 * entrypoint are JSON arrays (cmd and entrypoint NULL when the image's).
 * Written once when the snapshot is complete and deleted with it; nothing
 * in a row changes. Columns added since the first version are added to
 * an older database at open (added[]).
 */
#include "daemon/vms/vms_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS snapshots ("
	" name TEXT PRIMARY KEY,"
	" source_vm TEXT NOT NULL,"
	" image TEXT NOT NULL,"
	" image_id TEXT NOT NULL,"
	" vcpus INTEGER NOT NULL,"
	" memory_mib INTEGER NOT NULL,"
	" env TEXT NOT NULL,"            /* JSON array of "K=V" overrides */
	" cmd TEXT,"                     /* JSON array; NULL: the image's */
	" workdir TEXT NOT NULL,"
	" user TEXT NOT NULL,"
	" created INTEGER NOT NULL,"     /* unix time */
	" state_bytes INTEGER NOT NULL,"
	" memory_bytes INTEGER NOT NULL,"      /* vm.mem's apparent size */
	" memory_disk_bytes INTEGER NOT NULL," /* what it takes on disk */
	" temporary INTEGER NOT NULL DEFAULT 0);";
/* Columns added later, in order: a database made before one gets it at
 * open (rows from before take its default). */
static const struct {
	const char *column, *sql;
} added[] = {
	/* the idle virtio-fs slots the saved VM had (vms_mounts.c); rows
	 * from before have none */
	{ "fs_slots", "ALTER TABLE snapshots ADD COLUMN fs_slots INTEGER NOT NULL DEFAULT 0" },
	/* the writable layer disk (upper.img) and what it takes on disk;
	 * rows from before have none (0: their VMs keep a tmpfs upper) */
	{ "storage_mib", "ALTER TABLE snapshots ADD COLUMN storage_mib INTEGER NOT NULL DEFAULT 0" },
	{ "upper_disk_bytes",
	  "ALTER TABLE snapshots ADD COLUMN upper_disk_bytes INTEGER NOT NULL DEFAULT 0" },
	/* the VM's entrypoint (JSON array; NULL: the image's, as for rows
	 * from before) */
	{ "entrypoint", "ALTER TABLE snapshots ADD COLUMN entrypoint TEXT" },
};

static int fail(struct vms *v, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s/vms.db: %s: %s", v->data_dir, what, sqlite3_errmsg(v->db));
	return -1;
}

int snap_db_open(struct vms *v, char *err, size_t errlen)
{
	char what[64];
	if (sqlite3_exec(v->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		return fail(v, "snapshots schema", err, errlen);
	for (size_t i = 0; i < sizeof added / sizeof added[0]; i++) {
		if (sqlite3_exec(v->db, added[i].sql, NULL, NULL, NULL) == SQLITE_OK ||
		    strstr(sqlite3_errmsg(v->db), "duplicate column"))
			continue;
		snprintf(what, sizeof what, "snapshots schema (adding %s)", added[i].column);
		return fail(v, what, err, errlen);
	}
	return 0;
}

static char *strv_text(char *const *sv)
{
	json_t *j = strv_to_json(sv);
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return t;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
	if (text)
		sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int snap_db_insert(struct vms *v, const struct vm_snap *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char *env = strv_text(s->env), *cmd = s->cmd ? strv_text(s->cmd) : NULL;
	char *ep = s->entrypoint ? strv_text(s->entrypoint) : NULL;
	int rc = -1;
	if (!env || (s->cmd && !cmd) || (s->entrypoint && !ep)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(v->db, "INSERT INTO snapshots (name, source_vm, image, image_id, "
			       "vcpus, memory_mib, env, cmd, workdir, user, created, state_bytes, "
			       "memory_bytes, memory_disk_bytes, temporary, fs_slots, storage_mib, "
			       "upper_disk_bytes, entrypoint) VALUES "
			       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK) {
		fail(v, "saving a snapshot", err, errlen);
		goto out;
	}
	sqlite3_bind_text(st, 1, s->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->source_vm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, s->image, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, s->image_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, s->vcpus);
	sqlite3_bind_int64(st, 6, s->memory_mib);
	sqlite3_bind_text(st, 7, env, -1, SQLITE_STATIC);
	bind_text_or_null(st, 8, cmd);
	sqlite3_bind_text(st, 9, s->workdir, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, s->user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)s->created);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)s->state_bytes);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)s->memory_bytes);
	sqlite3_bind_int64(st, 14, (sqlite3_int64)s->memory_disk_bytes);
	sqlite3_bind_int(st, 15, s->temporary);
	sqlite3_bind_int(st, 16, s->fs_slots);
	sqlite3_bind_int64(st, 17, s->storage_mib);
	sqlite3_bind_int64(st, 18, (sqlite3_int64)s->upper_disk_bytes);
	bind_text_or_null(st, 19, ep);
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
	else
		fail(v, "saving a snapshot", err, errlen);
	sqlite3_finalize(st);
out:
	free(env);
	free(cmd);
	free(ep);
	return rc;
}

void snap_db_delete(struct vms *v, const char *name)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(v->db, "DELETE FROM snapshots WHERE name = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		fprintf(stderr, "supermachined: removing snapshot %s: %s\n", name,
			sqlite3_errmsg(v->db));
	sqlite3_finalize(st);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return strdup(t ? t : "");
}

/* A JSON array column as a string array (NULL column: *out NULL). */
static int col_strv(sqlite3_stmt *st, int i, char ***out)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	*out = NULL;
	if (!t)
		return 0;
	json_t *a = json_loads(t, 0, NULL);
	size_t n = json_array_size(a), k;
	json_t *item;
	char **sv = json_is_array(a) ? calloc(n + 1, sizeof *sv) : NULL;
	json_array_foreach(a, k, item)
		if (sv && !(sv[k] = strdup(json_string_value(item) ? json_string_value(item) : ""))) {
			strv_free(sv);
			sv = NULL;
		}
	json_decref(a);
	*out = sv;
	return sv ? 0 : -1;
}

static struct vm_snap *row_snap(struct vms *v, sqlite3_stmt *st)
{
	struct vm_snap *s = calloc(1, sizeof *s);
	const char *name = (const char *)sqlite3_column_text(st, 0);
	if (!s || !name || strlen(name) > SNAP_NAME_MAX) {
		free(s);
		return NULL;
	}
	snprintf(s->name, sizeof s->name, "%s", name);
	snap_dir_for(v, name, s->dir, sizeof s->dir);
	s->source_vm = col_dup(st, 1);
	s->image = col_dup(st, 2);
	s->image_id = col_dup(st, 3);
	s->vcpus = sqlite3_column_int(st, 4);
	s->memory_mib = (unsigned)sqlite3_column_int64(st, 5);
	int bad = col_strv(st, 6, &s->env) < 0 || !s->env;
	bad |= col_strv(st, 7, &s->cmd) < 0;
	bad |= col_strv(st, 18, &s->entrypoint) < 0;
	s->workdir = col_dup(st, 8);
	s->user = col_dup(st, 9);
	s->created = (time_t)sqlite3_column_int64(st, 10);
	s->state_bytes = (uint64_t)sqlite3_column_int64(st, 11);
	s->memory_bytes = (uint64_t)sqlite3_column_int64(st, 12);
	s->memory_disk_bytes = (uint64_t)sqlite3_column_int64(st, 13);
	s->temporary = sqlite3_column_int(st, 14) != 0;
	s->fs_slots = sqlite3_column_int(st, 15);
	s->storage_mib = (unsigned)sqlite3_column_int64(st, 16);
	s->upper_disk_bytes = (uint64_t)sqlite3_column_int64(st, 17);
	s->ready = true;
	if (bad || !s->source_vm || !s->image || !s->image_id || !s->workdir || !s->user) {
		strv_free(s->env);
		strv_free(s->cmd);
		strv_free(s->entrypoint);
		free(s->source_vm);
		free(s->image);
		free(s->image_id);
		free(s->workdir);
		free(s->user);
		free(s);
		return NULL;
	}
	return s;
}

int snap_db_load(struct vms *v, int (*add)(struct vms *v, struct vm_snap *s), char *err,
		 size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(v->db, "SELECT name, source_vm, image, image_id, vcpus, "
			       "memory_mib, env, cmd, workdir, user, created, state_bytes, "
			       "memory_bytes, memory_disk_bytes, temporary, fs_slots, storage_mib, "
			       "upper_disk_bytes, entrypoint FROM snapshots "
			       "ORDER BY created, name", -1, &st, NULL) != SQLITE_OK)
		return fail(v, "reading snapshots", err, errlen);
	int rc = 0;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct vm_snap *s = row_snap(v, st);
		if (!s) {
			fprintf(stderr, "supermachined: %s/vms.db: skipping an unreadable snapshot "
				"row (%s)\n", v->data_dir, sqlite3_column_text(st, 0));
			continue;
		}
		rc = add(v, s);
		if (rc < 0)
			snprintf(err, errlen, "loading snapshots: out of memory");
	}
	sqlite3_finalize(st);
	return rc;
}

/* watch_coalesce.c - the coalescing window: records wait here until the
 * window closes, merged per (mount, path) by the rules in watch.h.
 *
 * Pending records form one list in arrival order. Each (mount, path) has
 * a key (in a hash table) that links its own records, newest last, so a
 * new record only looks at the records of its path since the last
 * structural one (CREATE, DELETE, RENAME_*, RESCAN): its "generation".
 * Records are only ever appended or removed, never moved, which keeps the
 * order of distinct paths and the adjacency of rename pairs. Pending
 * RESCANs also sit on a short list of their own: records beneath one are
 * dropped on arrival. No clock is read here; callers pass the time.
 */
#include "daemon/fs/watch/watch_int.h"

#include <stdlib.h>
#include <string.h>

struct ckey;

struct crec {
	struct crec *prev, *next;      /* pending order */
	struct crec *kprev, *knext;    /* the same key's records */
	struct crec *rprev, *rnext;    /* pending RESCANs */
	struct ckey *key;
	enum fs_change_kind kind;
	bool is_dir;
	uint32_t cookie;
};

struct ckey {
	struct ckey *hnext;
	uint64_t hash;
	uint32_t mount;
	struct crec *first, *last;
	char path[];
};

struct wcoal {
	unsigned delay_ms, max_delay_ms, max_pending;
	struct crec *head, *tail, *rescans;
	size_t count;
	struct ckey **buckets;
	size_t nbuckets, nkeys;
	uint64_t first_ms, last_ms;
	size_t lost;
	uint32_t next_cookie;
};

static const char rescan_path[] = "";

struct wcoal *wcoal_new(const struct wcoal_cfg *cfg)
{
	struct wcoal *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->delay_ms = cfg && cfg->delay_ms ? cfg->delay_ms : WATCH_DEFAULT_DELAY_MS;
	c->max_delay_ms = cfg && cfg->max_delay_ms ? cfg->max_delay_ms : WATCH_DEFAULT_MAX_DELAY_MS;
	c->max_pending = cfg && cfg->max_pending ? cfg->max_pending : WATCH_DEFAULT_MAX_PENDING;
	c->nbuckets = 64;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	return c;
}

void wcoal_free(struct wcoal *c)
{
	if (!c)
		return;
	for (struct crec *r = c->head, *n; r; r = n) {
		n = r->next;
		free(r);
	}
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct ckey *k = c->buckets[i], *n; k; k = n) {
			n = k->hnext;
			free(k);
		}
	free(c->buckets);
	free(c);
}

/* ---- keys ---- */

static uint64_t key_hash(uint32_t mount, const char *path)
{
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((mount >> (8 * i)) & 0xff)) * 1099511628211ull;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

static void keys_grow(struct wcoal *c)
{
	size_t nb = c->nbuckets * 2;
	struct ckey **b = calloc(nb, sizeof(*b));
	if (!b)
		return;   /* longer chains, still correct */
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct ckey *k = c->buckets[i], *n; k; k = n) {
			n = k->hnext;
			k->hnext = b[k->hash % nb];
			b[k->hash % nb] = k;
		}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = nb;
}

/* The key of (mount, path), made if missing; NULL when out of memory. */
static struct ckey *key_get(struct wcoal *c, uint32_t mount, const char *path)
{
	uint64_t h = key_hash(mount, path);
	for (struct ckey *k = c->buckets[h % c->nbuckets]; k; k = k->hnext)
		if (k->hash == h && k->mount == mount && strcmp(k->path, path) == 0)
			return k;
	if (c->nkeys >= c->nbuckets)
		keys_grow(c);
	size_t len = strlen(path);
	struct ckey *k = calloc(1, sizeof(*k) + len + 1);
	if (!k)
		return NULL;
	k->hash = h;
	k->mount = mount;
	memcpy(k->path, path, len + 1);
	k->hnext = c->buckets[h % c->nbuckets];
	c->buckets[h % c->nbuckets] = k;
	c->nkeys++;
	return k;
}

/* Free a key that no pending record uses any more. */
static void key_drop_if_unused(struct wcoal *c, struct ckey *k)
{
	if (!k || k->last)
		return;
	struct ckey **pp = &c->buckets[k->hash % c->nbuckets];
	while (*pp != k)
		pp = &(*pp)->hnext;
	*pp = k->hnext;
	c->nkeys--;
	free(k);
}

/* ---- records ---- */

static bool is_structural(enum fs_change_kind kind)
{
	return kind != FS_CHANGE_MODIFY && kind != FS_CHANGE_ATTRIB;
}

static struct crec *rec_append(struct wcoal *c, struct ckey *k, enum fs_change_kind kind,
			       bool is_dir, uint32_t cookie)
{
	struct crec *r = calloc(1, sizeof(*r));
	if (!r) {
		c->lost++;
		return NULL;
	}
	r->key = k;
	r->kind = kind;
	r->is_dir = is_dir;
	r->cookie = cookie;
	r->prev = c->tail;
	*(c->tail ? &c->tail->next : &c->head) = r;
	c->tail = r;
	r->kprev = k->last;
	*(k->last ? &k->last->knext : &k->first) = r;
	k->last = r;
	if (kind == FS_CHANGE_RESCAN) {
		r->rnext = c->rescans;
		if (c->rescans)
			c->rescans->rprev = r;
		c->rescans = r;
	}
	c->count++;
	return r;
}

/* Unlink and free r; its key stays (the caller drops it if unused). */
static void rec_remove(struct wcoal *c, struct crec *r)
{
	*(r->prev ? &r->prev->next : &c->head) = r->next;
	*(r->next ? &r->next->prev : &c->tail) = r->prev;
	struct ckey *k = r->key;
	*(r->kprev ? &r->kprev->knext : &k->first) = r->knext;
	*(r->knext ? &r->knext->kprev : &k->last) = r->kprev;
	if (r->kind == FS_CHANGE_RESCAN) {
		*(r->rprev ? &r->rprev->rnext : &c->rescans) = r->rnext;
		if (r->rnext)
			r->rnext->rprev = r->rprev;
	}
	c->count--;
	free(r);
}

static bool covered_by_rescan(const struct wcoal *c, uint32_t mount, const char *path)
{
	for (const struct crec *r = c->rescans; r; r = r->rnext)
		if (r->key->mount == mount && wtree_path_under(path, r->key->path))
			return true;
	return false;
}

static void window_touch(struct wcoal *c, uint64_t now_ms)
{
	if (c->count == 0)
		c->first_ms = now_ms;
	c->last_ms = now_ms;
}

/* ---- the merge rules ---- */

/* MODIFY/ATTRIB: dropped if its generation has a CREATE or the same kind. */
static void add_change(struct wcoal *c, struct ckey *k, enum fs_change_kind kind, bool is_dir)
{
	for (struct crec *r = k->last; r; r = r->kprev) {
		if (r->kind == kind || r->kind == FS_CHANGE_CREATE)
			return;
		if (is_structural(r->kind))
			break;
	}
	rec_append(c, k, kind, is_dir, 0);
}

/* CREATE: dropped if its generation already begins with one (a scan and
 * inotify may both report an entry). */
static void add_create(struct wcoal *c, struct ckey *k, bool is_dir)
{
	for (struct crec *r = k->last; r; r = r->kprev) {
		if (r->kind == FS_CHANGE_CREATE)
			return;
		if (is_structural(r->kind))
			break;
	}
	rec_append(c, k, FS_CHANGE_CREATE, is_dir, 0);
}

/* DELETE: replaces the MODIFY/ATTRIBs of its generation; cancels out with
 * a CREATE that began it; a second DELETE in a row is dropped. */
static void add_delete(struct wcoal *c, struct ckey *k, bool is_dir)
{
	while (k->last && !is_structural(k->last->kind))
		rec_remove(c, k->last);
	if (k->last && k->last->kind == FS_CHANGE_CREATE) {
		rec_remove(c, k->last);
		return;
	}
	if (k->last && k->last->kind == FS_CHANGE_DELETE)
		return;
	rec_append(c, k, FS_CHANGE_DELETE, is_dir, 0);
}

/* RESCAN: drops what it covers (renames only when it covers the root). */
static void add_rescan(struct wcoal *c, struct ckey *k)
{
	bool all = k->path[0] == '\0';
	for (struct crec *r = c->head, *n; r; r = n) {
		n = r->next;
		if (r->key->mount != k->mount || !wtree_path_under(r->key->path, k->path))
			continue;
		bool rename = r->kind == FS_CHANGE_RENAME_FROM || r->kind == FS_CHANGE_RENAME_TO;
		if (rename && !all)
			continue;
		struct ckey *rk = r->key;
		rec_remove(c, r);
		if (rk != k)
			key_drop_if_unused(c, rk);
	}
	rec_append(c, k, FS_CHANGE_RESCAN, true, 0);
}

/* Too many records: the mount that brought the last one collapses. */
static void enforce_cap(struct wcoal *c, uint64_t now_ms, uint32_t mount)
{
	if (c->count > c->max_pending)
		wcoal_add(c, now_ms, mount, FS_CHANGE_RESCAN, "", true);
}

void wcoal_add(struct wcoal *c, uint64_t now_ms, uint32_t mount,
	       enum fs_change_kind kind, const char *path, bool is_dir)
{
	window_touch(c, now_ms);
	if (covered_by_rescan(c, mount, path))
		return;
	struct ckey *k = key_get(c, mount, path);
	if (!k) {
		c->lost++;
		return;
	}
	switch (kind) {
	case FS_CHANGE_MODIFY:
	case FS_CHANGE_ATTRIB:
		add_change(c, k, kind, is_dir);
		break;
	case FS_CHANGE_CREATE:
		add_create(c, k, is_dir);
		break;
	case FS_CHANGE_DELETE:
		add_delete(c, k, is_dir);
		break;
	case FS_CHANGE_RESCAN:
		add_rescan(c, k);
		break;
	default:   /* renames come through wcoal_add_rename */
		break;
	}
	key_drop_if_unused(c, k);
	enforce_cap(c, now_ms, mount);
}

void wcoal_add_rename(struct wcoal *c, uint64_t now_ms, uint32_t mount,
		      const char *from, const char *to, bool is_dir)
{
	window_touch(c, now_ms);
	if (covered_by_rescan(c, mount, from) && covered_by_rescan(c, mount, to))
		return;
	struct ckey *kf = key_get(c, mount, from);
	struct ckey *kt = kf ? key_get(c, mount, to) : NULL;
	if (!kt) {
		c->lost++;
		key_drop_if_unused(c, kf);
		return;
	}
	if (++c->next_cookie == 0)
		c->next_cookie = 1;
	struct crec *r = rec_append(c, kf, FS_CHANGE_RENAME_FROM, is_dir, c->next_cookie);
	if (r && !rec_append(c, kt, FS_CHANGE_RENAME_TO, is_dir, c->next_cookie))
		rec_remove(c, r);   /* never half a pair */
	key_drop_if_unused(c, kf);
	key_drop_if_unused(c, kt);
	enforce_cap(c, now_ms, mount);
}

/* ---- the window and taking batches ---- */

size_t wcoal_count(const struct wcoal *c)
{
	return c->count;
}

uint64_t wcoal_deadline(const struct wcoal *c)
{
	if (c->count == 0)
		return UINT64_MAX;
	uint64_t quiet = c->last_ms + c->delay_ms;
	uint64_t cap = c->first_ms + c->max_delay_ms;
	return quiet < cap ? quiet : cap;
}

size_t wcoal_take_lost(struct wcoal *c)
{
	size_t n = c->lost;
	c->lost = 0;
	return n;
}

size_t wcoal_take(struct wcoal *c, struct fs_change *out, size_t max)
{
	size_t n = 0;
	while (c->head && n < max) {
		struct crec *r = c->head;
		if (r->kind == FS_CHANGE_RENAME_FROM && n + 2 > max && n > 0)
			break;
		struct fs_change *o = &out[n++];
		*o = (struct fs_change){ .mount_id = r->key->mount, .kind = r->kind,
					 .is_dir = r->is_dir, .cookie = r->cookie };
		o->path = strdup(r->key->path);
		if (!o->path) {   /* say what we could not: revalidate it all */
			o->kind = FS_CHANGE_RESCAN;
			o->is_dir = true;
			o->cookie = 0;
			o->path = rescan_path;
		}
		struct ckey *k = r->key;
		rec_remove(c, r);
		key_drop_if_unused(c, k);
	}
	return n;
}

void wcoal_batch_free(struct fs_change *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (out[i].path != rescan_path)
			free((char *)out[i].path);
		out[i].path = NULL;
	}
}

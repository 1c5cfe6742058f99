/* watch_tree.c - one mount's tree: its inotify instance and the map from
 * watch descriptor to the folder's path relative to the root.
 *
 * The map is a chained hash on the wd (inotify hands them out cyclically
 * and never reuses one soon). Renaming or dropping a folder touches its
 * descendants too, found by a walk over the whole map: folders move
 * rarely, events are many, so lookups by wd are the fast path. Building
 * the watch set is watch_scan.c's; turning events into records is
 * watch_event.c's.
 */
#include "daemon/fs/watch/watch_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

void wtree_report(struct wtree *t, const char *fmt, ...)
{
	char msg[400], line[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(t->last_err, sizeof(t->last_err), "%.250s", msg);
	if (!t->on_error)
		return;
	snprintf(line, sizeof(line), "watch mount %u (%.200s): %s", t->mount, t->root_path, msg);
	t->on_error(t->opaque, line);
}

/* ---- paths ---- */

char *wtree_join(const char *rel, const char *name)
{
	size_t a = strlen(rel), b = strlen(name);
	char *p = malloc(a + b + 2);
	if (!p)
		return NULL;
	if (a == 0) {
		memcpy(p, name, b + 1);
		return p;
	}
	memcpy(p, rel, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

bool wtree_path_under(const char *path, const char *rel)
{
	size_t n = strlen(rel);
	if (n == 0)
		return true;
	return strncmp(path, rel, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* ---- the wd map ---- */

static size_t bucket_of(const struct wtree *t, int wd)
{
	return (size_t)(unsigned)wd % t->nbuckets;
}

struct wdir *wtree_find(struct wtree *t, int wd)
{
	for (struct wdir *d = t->buckets[bucket_of(t, wd)]; d; d = d->next)
		if (d->wd == wd)
			return d;
	return NULL;
}

struct wdir *wtree_find_path(struct wtree *t, const char *rel)
{
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct wdir *d = t->buckets[i]; d; d = d->next)
			if (strcmp(d->rel, rel) == 0)
				return d;
	return NULL;
}

static void map_grow(struct wtree *t)
{
	size_t nb = t->nbuckets * 2;
	struct wdir **b = calloc(nb, sizeof(*b));
	if (!b)
		return;   /* longer chains, still correct */
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct wdir *d = t->buckets[i], *n; d; d = n) {
			n = d->next;
			d->next = b[(unsigned)d->wd % nb];
			b[(unsigned)d->wd % nb] = d;
		}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

int wtree_insert(struct wtree *t, int wd, const char *rel, dev_t dev, ino_t ino)
{
	struct wdir *d = wtree_find(t, wd);
	if (d) {   /* the same folder again under another name: the new one */
		char *r = strdup(rel);
		if (!r)
			return -1;
		free(d->rel);
		d->rel = r;
		d->dev = dev;
		d->ino = ino;
		return 0;
	}
	if (t->nwatches >= t->nbuckets)
		map_grow(t);
	d = calloc(1, sizeof(*d));
	if (!d || !(d->rel = strdup(rel))) {
		free(d);
		return -1;
	}
	d->wd = wd;
	d->dev = dev;
	d->ino = ino;
	d->next = t->buckets[bucket_of(t, wd)];
	t->buckets[bucket_of(t, wd)] = d;
	t->nwatches++;
	return 0;
}

void wtree_forget(struct wtree *t, int wd)
{
	for (struct wdir **pp = &t->buckets[bucket_of(t, wd)]; *pp; pp = &(*pp)->next) {
		struct wdir *d = *pp;
		if (d->wd != wd)
			continue;
		*pp = d->next;
		free(d->rel);
		free(d);
		t->nwatches--;
		return;
	}
}

void wtree_unwatch_subtree(struct wtree *t, const char *rel)
{
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct wdir **pp = &t->buckets[i]; *pp;) {
			struct wdir *d = *pp;
			if (!wtree_path_under(d->rel, rel)) {
				pp = &d->next;
				continue;
			}
			inotify_rm_watch(t->ifd, d->wd);   /* its IN_IGNORED finds no entry */
			*pp = d->next;
			free(d->rel);
			free(d);
			t->nwatches--;
		}
}

void wtree_rename_subtree(struct wtree *t, const char *rel, const char *new_rel)
{
	size_t old_len = strlen(rel);
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct wdir *d = t->buckets[i]; d; d = d->next) {
			if (!wtree_path_under(d->rel, rel))
				continue;
			char *r = wtree_join(new_rel, d->rel[old_len] ? d->rel + old_len + 1 : "");
			if (!r)
				continue;   /* stays stale; the next rescan repairs it */
			if (!d->rel[old_len])   /* the folder itself: no trailing '/' */
				strcpy(r, new_rel);
			free(d->rel);
			d->rel = r;
		}
}

static void map_clear(struct wtree *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		for (struct wdir *d = t->buckets[i], *n; d; d = n) {
			n = d->next;
			free(d->rel);
			free(d);
		}
		t->buckets[i] = NULL;
	}
	t->nwatches = 0;
}

/* ---- life of a tree ---- */

static int open_inotify(struct wtree *t, struct fs_watch_err *err)
{
	t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (t->ifd >= 0)
		return 0;
	if (errno == EMFILE)
		return watch_errf(err, "inotify_init1: no inotify instance left (%s; the "
				  "per-user limit is fs.inotify.max_user_instances)",
				  strerror(errno));
	return watch_errf(err, "inotify_init1: %s", strerror(errno));
}

static int open_root(struct wtree *t, struct fs_watch_err *err)
{
	t->root_fd = open(t->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->root_fd < 0)
		return watch_errf(err, "%s: %s", t->root_path, strerror(errno));
	return 0;
}

struct wtree *wtree_new(uint32_t mount, const char *root_path, unsigned max_watches,
			void (*on_error)(void *, const char *), void *opaque,
			struct fs_watch_err *err)
{
	struct wtree *t = calloc(1, sizeof(*t));
	if (t)
		t->root_fd = t->ifd = -1;
	if (!t || !(t->root_path = strdup(root_path)) ||
	    !(t->buckets = calloc(t->nbuckets = 64, sizeof(*t->buckets)))) {
		wtree_free(t);
		watch_errf(err, "out of memory");
		return NULL;
	}
	t->mount = mount;
	t->max_watches = max_watches;
	t->on_error = on_error;
	t->opaque = opaque;
	if (open_root(t, err) < 0 || open_inotify(t, err) < 0) {
		wtree_free(t);
		return NULL;
	}
	wtree_scan(t, "", NULL, false);
	if (!wtree_find_path(t, "")) {
		watch_errf(err, "%.200s: cannot watch the folder: %.200s", root_path,
			   t->last_err[0] ? t->last_err : "?");
		wtree_free(t);
		return NULL;
	}
	return t;
}

void wtree_free(struct wtree *t)
{
	if (!t)
		return;
	if (t->buckets)
		map_clear(t);
	free(t->buckets);
	if (t->ifd >= 0)
		close(t->ifd);
	if (t->root_fd >= 0)
		close(t->root_fd);
	free(t->move_path);
	free(t->root_path);
	free(t);
}

void wtree_degrade(struct wtree *t, uint64_t now_ms)
{
	if (t->degraded)
		return;   /* a rebuild is already due */
	t->degraded = true;
	if (!t->retry_backoff)
		t->retry_backoff = WATCH_RETRY_MIN_MS;
	t->retry_at = now_ms + t->retry_backoff;
}

/* Drop every watch: a new instance drops them, and whatever its queue
 * held, at once; without one, remove them one by one. */
static void drop_all_watches(struct wtree *t)
{
	int old = t->ifd;
	struct fs_watch_err err;
	if (open_inotify(t, &err) == 0) {
		close(old);
	} else {
		wtree_report(t, "rescan: %s; reusing the old instance", err.msg);
		t->ifd = old;
		for (size_t i = 0; i < t->nbuckets; i++)
			for (struct wdir *d = t->buckets[i]; d; d = d->next)
				inotify_rm_watch(t->ifd, d->wd);
	}
	map_clear(t);
}

void wtree_rescan(struct wtree *t, struct wsink *sink)
{
	t->rescans++;
	free(t->move_path);
	t->move_path = NULL;
	t->move_pending = false;
	drop_all_watches(t);
	t->degraded = false;
	if (wtree_scan(t, "", sink, false) == 0)
		t->retry_backoff = 0;
	if (!t->dead && !wtree_find_path(t, "")) {
		t->dead = true;
		wtree_report(t, "rescan: the shared folder cannot be watched any more");
	}
	wsink_put(sink, t->mount, FS_CHANGE_RESCAN, "", true);
}

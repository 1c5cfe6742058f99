/* watch_ignore.c - echo suppression: short-lived rules "drop records of
 * these kinds for this (mount, path) until then", set by whoever knows a
 * change came from the guest itself (fs_watch_ignore). A fixed array
 * under a mutex: rules are few and short-lived, and a lookup with no rule
 * set costs one atomic load.
 */
#include "daemon/fs/watch/watch_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct wrule {
	uint32_t mount;
	unsigned mask;
	uint64_t until_ms;
	char *path;            /* NULL: the slot is free */
};

struct wignore {
	pthread_mutex_t mu;
	size_t live;           /* slots in use (read without the lock) */
	struct wrule rules[WATCH_IGNORE_MAX];
};

struct wignore *wignore_new(void)
{
	struct wignore *ig = calloc(1, sizeof(*ig));
	if (ig)
		pthread_mutex_init(&ig->mu, NULL);
	return ig;
}

void wignore_free(struct wignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < WATCH_IGNORE_MAX; i++)
		free(ig->rules[i].path);
	pthread_mutex_destroy(&ig->mu);
	free(ig);
}

static void rule_clear(struct wignore *ig, struct wrule *r)
{
	free(r->path);
	r->path = NULL;
	__atomic_fetch_sub(&ig->live, 1, __ATOMIC_RELAXED);
}

/* The slot for a new rule: the same (mount, path), a free one, or the
 * one that expires first. */
static struct wrule *rule_slot(struct wignore *ig, uint32_t mount, const char *path)
{
	struct wrule *free_slot = NULL, *oldest = NULL;
	for (size_t i = 0; i < WATCH_IGNORE_MAX; i++) {
		struct wrule *r = &ig->rules[i];
		if (!r->path) {
			if (!free_slot)
				free_slot = r;
			continue;
		}
		if (r->mount == mount && strcmp(r->path, path) == 0)
			return r;
		if (!oldest || r->until_ms < oldest->until_ms)
			oldest = r;
	}
	if (free_slot)
		return free_slot;
	rule_clear(ig, oldest);
	return oldest;
}

void wignore_add(struct wignore *ig, uint32_t mount, const char *path,
		 unsigned kind_mask, uint64_t until_ms)
{
	char *copy = strdup(path);
	if (!copy)
		return;   /* an echo gets through: harmless */
	pthread_mutex_lock(&ig->mu);
	struct wrule *r = rule_slot(ig, mount, path);
	if (r->path) {
		free(r->path);   /* same (mount, path): replaced */
	} else {
		__atomic_fetch_add(&ig->live, 1, __ATOMIC_RELAXED);
	}
	*r = (struct wrule){ .mount = mount, .mask = kind_mask, .until_ms = until_ms,
			     .path = copy };
	pthread_mutex_unlock(&ig->mu);
}

bool wignore_match(struct wignore *ig, uint32_t mount, const char *path,
		   enum fs_change_kind kind, uint64_t now_ms)
{
	if (!ig || __atomic_load_n(&ig->live, __ATOMIC_RELAXED) == 0)
		return false;
	bool hit = false;
	pthread_mutex_lock(&ig->mu);
	for (size_t i = 0; i < WATCH_IGNORE_MAX; i++) {
		struct wrule *r = &ig->rules[i];
		if (!r->path)
			continue;
		if (r->until_ms <= now_ms) {
			rule_clear(ig, r);
			continue;
		}
		if (r->mount == mount && (r->mask & FS_CHANGE_BIT(kind)) &&
		    strcmp(r->path, path) == 0)
			hit = true;
	}
	pthread_mutex_unlock(&ig->mu);
	return hit;
}

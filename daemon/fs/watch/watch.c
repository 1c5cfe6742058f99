/* watch.c - the watcher: its mounts (one wtree each), the thread and its
 * poll loop, and the hand-over of coalesced batches to emit.
 *
 * The thread polls an eventfd (stop, or a mount added) and every tree's
 * inotify instance, with a timeout that ends when the coalescing window
 * closes or a tree has timed work (a move waiting for its pair, a rebuild
 * after a watch limit): it never sleeps otherwise, so stopping is
 * immediate. The mutex guards the tree list and the trees; the thread
 * holds it while it reads and handles events, and lets go of it while it
 * polls and while emit runs. The coalescer is the thread's alone.
 */
#include "daemon/fs/watch/watch_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct fs_watch {
	struct fs_watch_cfg cfg;
	pthread_mutex_t mu;
	struct wtree **trees;
	size_t ntrees, cap;
	struct wcoal *coal;
	struct wignore *ign;
	int wake_fd;
	pthread_t thread;
	bool running, stop;
	uint64_t records, batches;
	struct fs_change *batch;       /* cfg.max_batch slots */
};

/* ---- small shared helpers ---- */

uint64_t watch_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int watch_errf(struct fs_watch_err *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

const char *fs_change_kind_name(enum fs_change_kind kind)
{
	switch (kind) {
	case FS_CHANGE_CREATE: return "create";
	case FS_CHANGE_MODIFY: return "modify";
	case FS_CHANGE_ATTRIB: return "attrib";
	case FS_CHANGE_DELETE: return "delete";
	case FS_CHANGE_RENAME_FROM: return "rename_from";
	case FS_CHANGE_RENAME_TO: return "rename_to";
	case FS_CHANGE_RESCAN: return "rescan";
	}
	return "?";
}

/* The echo rules first, then the window. */
void wsink_put(struct wsink *s, uint32_t mount, enum fs_change_kind kind,
	       const char *path, bool is_dir)
{
	if (wignore_match(s->ign, mount, path, kind, s->now_ms))
		return;
	wcoal_add(s->coal, s->now_ms, mount, kind, path, is_dir);
}

void wsink_rename(struct wsink *s, uint32_t mount, const char *from,
		  const char *to, bool is_dir)
{
	if (wignore_match(s->ign, mount, from, FS_CHANGE_RENAME_FROM, s->now_ms))
		return;
	wcoal_add_rename(s->coal, s->now_ms, mount, from, to, is_dir);
}

/* ---- life cycle ---- */

struct fs_watch *fs_watch_new(const struct fs_watch_cfg *cfg, struct fs_watch_err *err)
{
	if (!cfg || !cfg->emit) {
		watch_errf(err, "fs_watch_new: no emit callback");
		return NULL;
	}
	struct fs_watch *w = calloc(1, sizeof(*w));
	if (!w) {
		watch_errf(err, "fs_watch_new: out of memory");
		return NULL;
	}
	w->cfg = *cfg;
	if (!w->cfg.max_batch)
		w->cfg.max_batch = WATCH_DEFAULT_MAX_BATCH;
	if (w->cfg.max_batch < 2)
		w->cfg.max_batch = 2;   /* a rename pair fits */
	struct wcoal_cfg cc = { cfg->delay_ms, cfg->max_delay_ms, cfg->max_pending };
	pthread_mutex_init(&w->mu, NULL);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->coal = wcoal_new(&cc);
	w->ign = wignore_new();
	w->batch = calloc(w->cfg.max_batch, sizeof(*w->batch));
	if (w->wake_fd < 0 || !w->coal || !w->ign || !w->batch) {
		watch_errf(err, "fs_watch_new: %s", w->wake_fd < 0 ? strerror(errno) : "out of memory");
		fs_watch_free(w);
		return NULL;
	}
	return w;
}

static void wake(struct fs_watch *w)
{
	uint64_t one = 1;
	if (write(w->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so the thread wakes anyway */
	}
}

static bool has_mount(struct fs_watch *w, uint32_t mount_id)
{
	for (size_t i = 0; i < w->ntrees; i++)
		if (w->trees[i]->mount == mount_id)
			return true;
	return false;
}

static int append_tree(struct fs_watch *w, struct wtree *t, struct fs_watch_err *err)
{
	if (has_mount(w, t->mount))
		return watch_errf(err, "mount %u is watched already", t->mount);
	if (w->ntrees == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 4;
		struct wtree **v = realloc(w->trees, cap * sizeof(*v));
		if (!v)
			return watch_errf(err, "out of memory");
		w->trees = v;
		w->cap = cap;
	}
	w->trees[w->ntrees++] = t;
	return 0;
}

int fs_watch_add(struct fs_watch *w, uint32_t mount_id, const char *root_path,
		 struct fs_watch_err *err)
{
	pthread_mutex_lock(&w->mu);
	bool dup = has_mount(w, mount_id);
	pthread_mutex_unlock(&w->mu);
	if (dup)
		return watch_errf(err, "mount %u is watched already", mount_id);
	/* The initial scan runs here, outside the lock: the tree is ours. */
	struct wtree *t = wtree_new(mount_id, root_path, w->cfg.max_watches,
				    w->cfg.on_error, w->cfg.opaque, err);
	if (!t) {
		char why[sizeof(err->msg)] = "";
		if (err)
			memcpy(why, err->msg, sizeof(why));
		return watch_errf(err, "watch mount %u: %.200s", mount_id, why);
	}
	pthread_mutex_lock(&w->mu);
	int rc = append_tree(w, t, err);
	pthread_mutex_unlock(&w->mu);
	if (rc < 0) {
		wtree_free(t);
		return -1;
	}
	wake(w);   /* the thread polls the new instance from now on */
	return 0;
}

static void *watch_main(void *arg);

int fs_watch_start(struct fs_watch *w, struct fs_watch_err *err)
{
	if (w->running)
		return watch_errf(err, "the watcher runs already");
	w->stop = false;
	int rc = pthread_create(&w->thread, NULL, watch_main, w);
	if (rc != 0)
		return watch_errf(err, "watcher thread: %s", strerror(rc));
	w->running = true;
	return 0;
}

void fs_watch_stop(struct fs_watch *w)
{
	if (!w || !w->running)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_mutex_unlock(&w->mu);
	wake(w);
	pthread_join(w->thread, NULL);
	w->running = false;
	size_t n;   /* what waited in the window is dropped */
	while ((n = wcoal_take(w->coal, w->batch, w->cfg.max_batch)) > 0)
		wcoal_batch_free(w->batch, n);
}

void fs_watch_free(struct fs_watch *w)
{
	if (!w)
		return;
	fs_watch_stop(w);
	for (size_t i = 0; i < w->ntrees; i++)
		wtree_free(w->trees[i]);
	free(w->trees);
	wcoal_free(w->coal);
	wignore_free(w->ign);
	free(w->batch);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

void fs_watch_ignore(struct fs_watch *w, uint32_t mount_id, const char *relpath,
		     unsigned kind_mask, unsigned ttl_ms)
{
	wignore_add(w->ign, mount_id, relpath, kind_mask, watch_now_ms() + ttl_ms);
}

void fs_watch_get_stats(struct fs_watch *w, struct fs_watch_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&w->mu);
	st->mounts = w->ntrees;
	for (size_t i = 0; i < w->ntrees; i++) {
		struct wtree *t = w->trees[i];
		st->watches += t->nwatches;
		st->events += t->events;
		st->overflows += t->overflows;
		st->rescans += t->rescans;
		st->degraded |= t->degraded;
	}
	st->records = w->records;
	st->batches = w->batches;
	pthread_mutex_unlock(&w->mu);
}

/* ---- the thread ---- */

/* pfds[0] is the wake eventfd, pfds[1 + i] tree i's instance. */
static struct pollfd *build_pollset(struct fs_watch *w, struct pollfd *pfds, size_t *cap)
{
	if (*cap < w->ntrees + 1) {
		struct pollfd *p = realloc(pfds, (w->ntrees + 1) * sizeof(*p));
		if (!p)
			return pfds;   /* keep polling the trees that fit */
		pfds = p;
		*cap = w->ntrees + 1;
	}
	pfds[0] = (struct pollfd){ .fd = w->wake_fd, .events = POLLIN };
	for (size_t i = 0; i < w->ntrees && i + 1 < *cap; i++)
		pfds[i + 1] = (struct pollfd){ .fd = w->trees[i]->ifd, .events = POLLIN };
	return pfds;
}

/* Milliseconds until the earliest timed work; -1 for none. */
static int poll_timeout(struct fs_watch *w, uint64_t now)
{
	uint64_t next = wcoal_deadline(w->coal);
	for (size_t i = 0; i < w->ntrees; i++) {
		uint64_t t = wtree_next_tick(w->trees[i]);
		if (t < next)
			next = t;
	}
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return next - now > 60000 ? 60000 : (int)(next - now);
}

/* Read the instances poll found ready, then the trees' timed work. */
static void handle_round(struct fs_watch *w, const struct pollfd *pfds, size_t n)
{
	uint64_t drained;
	if (pfds[0].revents & POLLIN && read(w->wake_fd, &drained, sizeof(drained)) < 0) {
		/* EAGAIN: another round drained it */
	}
	struct wsink sink = { .coal = w->coal, .ign = w->ign, .now_ms = watch_now_ms() };
	for (size_t i = 1; i < n; i++)
		if (pfds[i].revents)
			wtree_read(w->trees[i - 1], &sink);
	for (size_t i = 0; i < w->ntrees; i++)
		wtree_tick(w->trees[i], &sink);
	if (wcoal_take_lost(w->coal) > 0)   /* records lost to memory: start over */
		for (size_t i = 0; i < w->ntrees; i++)
			wtree_rescan(w->trees[i], &sink);
}

/* Hand the window's records to emit once it closed, without the lock. */
static void flush_if_due(struct fs_watch *w)
{
	if (watch_now_ms() < wcoal_deadline(w->coal))
		return;
	size_t n;
	while ((n = wcoal_take(w->coal, w->batch, w->cfg.max_batch)) > 0) {
		w->cfg.emit(w->cfg.opaque, w->batch, n);
		wcoal_batch_free(w->batch, n);
		pthread_mutex_lock(&w->mu);
		w->records += n;
		w->batches++;
		pthread_mutex_unlock(&w->mu);
	}
}

static void *watch_main(void *arg)
{
	struct fs_watch *w = arg;
	struct pollfd *pfds = NULL;
	size_t cap = 0;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		if (w->stop) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		pfds = build_pollset(w, pfds, &cap);
		size_t n = pfds ? (w->ntrees + 1 < cap ? w->ntrees + 1 : cap) : 0;
		int timeout = poll_timeout(w, watch_now_ms());
		pthread_mutex_unlock(&w->mu);
		if (n == 0 || (poll(pfds, n, timeout) < 0 && errno != EINTR)) {
			char msg[128];
			snprintf(msg, sizeof(msg), "watcher: poll: %s; the watcher stops",
				 n ? strerror(errno) : "out of memory");
			if (w->cfg.on_error)
				w->cfg.on_error(w->cfg.opaque, msg);
			break;
		}
		pthread_mutex_lock(&w->mu);
		handle_round(w, pfds, n);
		pthread_mutex_unlock(&w->mu);
		flush_if_due(w);
	}
	free(pfds);
	return NULL;
}

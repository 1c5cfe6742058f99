/* watch_int.h - the watcher's parts, shared by its files and unit tests:
 *   wcoal   the coalescing window, a pure data structure (watch_coalesce.c)
 *   wignore the echo-suppression rules (watch_ignore.c)
 *   wtree   one mount: its inotify instance, the wd -> path map of its
 *           folders, and how inotify events become records (watch_tree.c,
 *           watch_scan.c, watch_event.c)
 * The thread that drives them is watch.c.
 */
#ifndef SM_FS_WATCH_INT_H
#define SM_FS_WATCH_INT_H

#include "daemon/fs/watch/watch.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WATCH_DEFAULT_DELAY_MS 30
#define WATCH_DEFAULT_MAX_DELAY_MS 100
#define WATCH_DEFAULT_MAX_BATCH 256
#define WATCH_DEFAULT_MAX_PENDING 4096
#define WATCH_MOVE_PAIR_MS 50       /* how long an IN_MOVED_FROM waits for its pair */
#define WATCH_RETRY_MIN_MS 2000     /* rebuild after a watch limit, first retry */
#define WATCH_RETRY_MAX_MS 60000
#define WATCH_IGNORE_MAX 256

#define FS_CHANGE_BIT(kind) (1u << (kind))

uint64_t watch_now_ms(void);

/* Format an error message into err (may be NULL); returns -1. */
__attribute__((format(printf, 2, 3)))
int watch_errf(struct fs_watch_err *err, const char *fmt, ...);

/* ---- coalescing window (watch_coalesce.c) ---- */

struct wcoal;

struct wcoal_cfg {
	unsigned delay_ms, max_delay_ms, max_pending;   /* 0: the defaults */
};

struct wcoal *wcoal_new(const struct wcoal_cfg *cfg);
void wcoal_free(struct wcoal *c);

/* Add one record (any kind but the RENAMEs) seen at now_ms. */
void wcoal_add(struct wcoal *c, uint64_t now_ms, uint32_t mount,
	       enum fs_change_kind kind, const char *path, bool is_dir);

/* Add a rename pair within one mount. */
void wcoal_add_rename(struct wcoal *c, uint64_t now_ms, uint32_t mount,
		      const char *from, const char *to, bool is_dir);

/* Records waiting. */
size_t wcoal_count(const struct wcoal *c);

/* When the window closes (ms, same clock as now_ms); UINT64_MAX if empty. */
uint64_t wcoal_deadline(const struct wcoal *c);

/* Records dropped because memory ran out since the last call (then
 * the caller should rescan); resets the count. */
size_t wcoal_take_lost(struct wcoal *c);

/* Move up to max (>= 2) of the oldest records into out, never splitting a
 * rename pair; their paths are the caller's until wcoal_batch_free. */
size_t wcoal_take(struct wcoal *c, struct fs_change *out, size_t max);
void wcoal_batch_free(struct fs_change *out, size_t n);

/* ---- echo suppression (watch_ignore.c) ---- */

struct wignore;

struct wignore *wignore_new(void);
void wignore_free(struct wignore *ig);
void wignore_add(struct wignore *ig, uint32_t mount, const char *path,
		 unsigned kind_mask, uint64_t until_ms);
bool wignore_match(struct wignore *ig, uint32_t mount, const char *path,
		   enum fs_change_kind kind, uint64_t now_ms);

/* ---- where the records of a tree go ---- */

struct wsink {
	struct wcoal *coal;
	struct wignore *ign;       /* may be NULL */
	uint64_t now_ms;
};

void wsink_put(struct wsink *s, uint32_t mount, enum fs_change_kind kind,
	       const char *path, bool is_dir);
void wsink_rename(struct wsink *s, uint32_t mount, const char *from,
		  const char *to, bool is_dir);

/* ---- one mount's tree (watch_tree.c, watch_scan.c, watch_event.c) ---- */

struct wdir {
	int wd;
	char *rel;                 /* "" for the root */
	dev_t dev;                 /* the folder's identity when watched */
	ino_t ino;
	struct wdir *next;         /* hash chain */
};

struct wtree {
	uint32_t mount;
	char *root_path;
	int root_fd;               /* O_PATH, the root folder */
	int ifd;                   /* inotify instance, non-blocking */
	unsigned max_watches;      /* 0: none but the kernel's */
	void (*on_error)(void *opaque, const char *msg);
	void *opaque;

	struct wdir **buckets;     /* wd -> folder */
	size_t nbuckets, nwatches;
	bool dead;                 /* the root itself went away */

	/* An IN_MOVED_FROM waiting for its IN_MOVED_TO (the next event). */
	bool move_pending;
	uint32_t move_cookie;
	bool move_is_dir;
	char *move_path;
	uint64_t move_deadline;

	/* A watch could not be added: rebuild at retry_at. */
	bool degraded;
	uint64_t retry_at, retry_backoff;

	uint64_t events, overflows, rescans;
	char last_err[256];        /* what wtree_report said last */
};

/* Open root_path and watch the whole tree (reports nothing). On a watch
 * limit the tree is returned degraded (and on_error told). */
struct wtree *wtree_new(uint32_t mount, const char *root_path, unsigned max_watches,
			void (*on_error)(void *, const char *), void *opaque,
			struct fs_watch_err *err);
void wtree_free(struct wtree *t);

/* Mark t as lacking watches (a limit): a rebuild is due retry_backoff
 * from now_ms. */
void wtree_degrade(struct wtree *t, uint64_t now_ms);

/* Report a non-fatal problem of this tree through on_error. */
__attribute__((format(printf, 2, 3)))
void wtree_report(struct wtree *t, const char *fmt, ...);

/* wd map */
struct wdir *wtree_find(struct wtree *t, int wd);
struct wdir *wtree_find_path(struct wtree *t, const char *rel);
int wtree_insert(struct wtree *t, int wd, const char *rel, dev_t dev, ino_t ino);
void wtree_forget(struct wtree *t, int wd);
/* Remove the watches of rel and everything beneath it. */
void wtree_unwatch_subtree(struct wtree *t, const char *rel);
/* Rename the paths of rel and everything beneath it to new_rel. */
void wtree_rename_subtree(struct wtree *t, const char *rel, const char *new_rel);

/* rel joined with name ("" + "a" = "a", "a" + "b" = "a/b"); malloc'd. */
char *wtree_join(const char *rel, const char *name);
/* Whether path is rel or beneath it ("" holds everything). */
bool wtree_path_under(const char *path, const char *rel);

/* Open folder rel beneath the root for reading, one name at a time with
 * O_NOFOLLOW (watch_scan.c); -1 with errno (ENOTDIR/ELOOP: a symlink). */
int wtree_open_dir(struct wtree *t, const char *rel);

/* Whether the folder at rel is the one d watches (same inode). */
bool wtree_dir_at(struct wtree *t, const struct wdir *d, const char *rel);

/* Scan (watch_scan.c): watch rel and every folder beneath it; with
 * report_entries, put a CREATE into sink for every entry found beneath
 * rel. Returns -1 when a watch could not be added (a limit: the tree is
 * then degraded), 0 otherwise (vanished or unreadable folders are skipped). */
int wtree_scan(struct wtree *t, const char *rel, struct wsink *sink, bool report_entries);

/* Drop every watch and watch the whole tree again with a fresh inotify
 * instance; puts a RESCAN of the root into sink. */
void wtree_rescan(struct wtree *t, struct wsink *sink);

/* Events (watch_event.c). */
/* Handle len bytes of inotify events (as read from t->ifd). */
void wtree_process(struct wtree *t, const char *buf, size_t len, struct wsink *sink);
/* Read what t->ifd holds and process it; 0, or -1 on a read error. */
int wtree_read(struct wtree *t, struct wsink *sink);
/* Time-driven work: an unpaired IN_MOVED_FROM whose wait is over, a
 * rebuild after a watch limit whose time has come. */
void wtree_tick(struct wtree *t, struct wsink *sink);
/* The earliest time wtree_tick has work; UINT64_MAX if none. */
uint64_t wtree_next_tick(const struct wtree *t);

#endif

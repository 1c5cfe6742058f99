/* watch.h - the per-VM host-folder watcher: one thread that watches a VM's
 * shared folders (its mounts) with inotify and hands batches of coalesced
 * change records to a callback, which sends them to the guest agent.
 *
 * Each mount is a host folder (its root) and a mount id. The watcher puts
 * an inotify watch on every folder of the tree, one inotify instance per
 * mount (so mounts may overlap: each sees its own events), and never
 * follows a symbolic link: folders are opened one name at a time with
 * O_NOFOLLOW beneath the root and watched through /proc/self/fd, so a
 * symlink to /etc inside a shared tree is reported as a file and nothing
 * outside the tree is ever watched. New folders are watched as they appear
 * and scanned, so what was created in them before their watch existed is
 * reported too (as CREATE); renamed folders keep their watches under their
 * new paths; folders that leave the tree lose theirs.
 *
 * The root folder is held open (as the FUSE server holds it), so the
 * mount follows that folder, not its path: moving the shared folder
 * changes nothing, and removing it (rm -rf) reports the DELETEs of its
 * contents and leaves an empty folder in the guest, as the FUSE server
 * does.
 *
 * A record says what changed at one path, relative to the mount's root
 * (no leading '/', "" for the root itself). The guest should treat records
 * as hints about the current state: by the time it looks, a path may have
 * changed again, and it must tolerate records for paths it never saw.
 *
 *   CREATE       a new entry (file, folder, symlink, ...). Also for what a
 *                new or moved-in folder holds: an entry moved into the tree
 *                from outside (an unpaired IN_MOVED_TO) is a CREATE of it
 *                and of everything beneath it. A CREATE also means "read
 *                it fresh": no MODIFY follows it within a batch.
 *   MODIFY       contents changed (IN_MODIFY, IN_CLOSE_WRITE).
 *   ATTRIB       metadata changed (mode, owner, times, xattrs, link count).
 *   DELETE       the entry is gone. Also for an entry moved out of the
 *                tree (an unpaired IN_MOVED_FROM); a folder's DELETE covers
 *                everything beneath it.
 *   RENAME_FROM  followed, always at once and in the same batch, by a
 *   RENAME_TO    with the same nonzero cookie: an entry moved within the
 *                mount (the cookies are the watcher's own, not inotify's).
 *   RESCAN       the watcher lost track (inotify's queue overflowed, the
 *                watch limit was hit, too many records piled up): the
 *                guest should revalidate everything under this path
 *                (always the root "" today). Records for that mount that
 *                were pending when it was raised are dropped, and so are
 *                later ones in the same batch.
 *
 * Coalescing: records wait in a window that closes delay_ms after the last
 * event, or max_delay_ms after the first one of the burst, whichever comes
 * first (so a constant stream still flushes every max_delay_ms). Within a
 * window, per (mount, path): a repeated MODIFY or ATTRIB is kept once (at
 * its first place); MODIFY and ATTRIB after a CREATE are dropped; a CREATE
 * then DELETE cancel each other out (the entry came and went: nothing is
 * reported, while what came before the CREATE stays); MODIFY/ATTRIB then
 * DELETE become the DELETE. Records of distinct paths keep their order,
 * renames are never merged or moved relative to other records. A batch
 * holds at most max_batch records; a window with more records makes
 * several emit calls in a row. If more than max_pending records pile up,
 * the mount that overflows them collapses into one RESCAN.
 *
 * Loop guard: the guest's own writes to a shared folder reach the host
 * through virtio-fs and come back here as host changes. Whoever serves
 * them can suppress the echo with fs_watch_ignore() for a short while.
 * The agent must not raise guest events by touching files (chmod, utimes),
 * or every record would echo back for ever; it raises them without
 * writing (see issue 11), so echoes cost a duplicate guest event at worst.
 *
 * Limits: each mount uses one inotify instance (fs.inotify.max_user_
 * instances, 128 per user by default) and one watch per folder
 * (fs.inotify.max_user_watches). When a watch cannot be added (the kernel's
 * limit, or max_watches), the mount keeps the watches it has, a RESCAN is
 * raised and the whole set is rebuilt again later (backing off from 2 s to
 * 60 s) until it fits.
 *
 * Why inotify: fanotify's FAN_REPORT_DFID_NAME would report names too,
 * but its mount and filesystem marks need CAP_SYS_ADMIN (a user daemon has
 * none), and with inode marks it needs a mark per folder just as inotify
 * needs a watch per folder.
 *
 * Threads: fs_watch_add, fs_watch_ignore and fs_watch_get_stats may be
 * called from any thread, also while the watcher runs. emit runs on the
 * watcher thread, on_error there too or in fs_watch_add (its initial
 * scan); neither may call fs_watch_stop/free.
 */
#ifndef SM_FS_WATCH_H
#define SM_FS_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fs_change_kind {
	FS_CHANGE_CREATE = 1,
	FS_CHANGE_MODIFY,
	FS_CHANGE_ATTRIB,
	FS_CHANGE_DELETE,
	FS_CHANGE_RENAME_FROM,
	FS_CHANGE_RENAME_TO,
	FS_CHANGE_RESCAN,
};

/* "create", "modify", ... for logs and tests. */
const char *fs_change_kind_name(enum fs_change_kind kind);

struct fs_change {
	uint32_t mount_id;
	enum fs_change_kind kind;
	bool is_dir;
	uint32_t cookie;       /* RENAME_FROM/RENAME_TO pairs; 0 otherwise */
	const char *path;      /* relative to the mount root; valid during emit */
};

struct fs_watch_cfg {
	/* Called on the watcher thread with 1..max_batch records. */
	void (*emit)(void *opaque, const struct fs_change *changes, size_t n);
	/* Optional: trouble the watcher works around (a watch limit hit, a
	 * folder it cannot read), one line with context. */
	void (*on_error)(void *opaque, const char *msg);
	void *opaque;
	unsigned delay_ms;         /* quiet time that closes a window; 0: 30 */
	unsigned max_delay_ms;     /* longest a record waits; 0: 100 */
	unsigned max_batch;        /* records per emit call (>= 2); 0: 256 */
	unsigned max_pending;      /* records held before RESCAN; 0: 4096 */
	unsigned max_watches;      /* watches per mount; 0: only the kernel's limit */
};

struct fs_watch_err {
	char msg[256];
};

struct fs_watch_stats {
	size_t mounts;
	size_t watches;            /* folders watched, all mounts */
	uint64_t events;           /* inotify events read */
	uint64_t records;          /* records emitted */
	uint64_t batches;          /* emit calls */
	uint64_t overflows;        /* IN_Q_OVERFLOW seen */
	uint64_t rescans;          /* watch sets rebuilt */
	bool degraded;             /* a mount lacks watches and waits to retry */
};

struct fs_watch;

/* A watcher with no mounts, not running. NULL and err set on failure. */
struct fs_watch *fs_watch_new(const struct fs_watch_cfg *cfg, struct fs_watch_err *err);

/* Watch the folder root_path (a directory; the path itself may pass
 * through symlinks, nothing beneath it is followed) as mount mount_id.
 * Puts the watches on the whole tree before it returns; reports nothing
 * for what is already there. Fails on a mount id in use, a root that is
 * not a readable folder, or no inotify instance left. */
int fs_watch_add(struct fs_watch *w, uint32_t mount_id, const char *root_path,
		 struct fs_watch_err *err);

/* Start the watcher thread. */
int fs_watch_start(struct fs_watch *w, struct fs_watch_err *err);

/* Stop the thread and wait for it (prompt: it wakes from its poll at
 * once). Records still waiting in the window are dropped. Safe to call
 * when not running. */
void fs_watch_stop(struct fs_watch *w);

/* Stop if running, close every watch, free. NULL is fine. */
void fs_watch_free(struct fs_watch *w);

/* Suppress records of the given kinds (a mask of 1u << FS_CHANGE_*) for
 * mount_id/relpath for the next ttl_ms milliseconds (echo guard). A rename
 * is suppressed when its RENAME_FROM side matches. At most 256 such rules
 * live at once; adding more replaces the one closest to expiry. */
void fs_watch_ignore(struct fs_watch *w, uint32_t mount_id, const char *relpath,
		     unsigned kind_mask, unsigned ttl_ms);

void fs_watch_get_stats(struct fs_watch *w, struct fs_watch_stats *st);

#endif

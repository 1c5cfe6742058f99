/* watch_event.c - inotify events of one tree become change records.
 *
 * Events name an entry by its folder's wd and its name; the wd map gives
 * the folder's path. A new folder (created, or moved in from outside) is
 * watched and scanned at once, and what it already holds is reported as
 * CREATE: files made in it before its watch existed would be missed
 * otherwise. An IN_MOVED_FROM waits for the next event: the IN_MOVED_TO
 * with its cookie makes a rename (a folder's map entries follow it);
 * anything else, or nothing within WATCH_MOVE_PAIR_MS, means it left the
 * tree: a DELETE, and a folder's watches go. An IN_MOVED_TO without a
 * pair came from outside: a CREATE. IN_Q_OVERFLOW (and IN_UNMOUNT) rebuild
 * the tree's watches (wtree_rescan), and the rest of that read belongs to
 * the instance the rebuild closed.
 */
#include "daemon/fs/watch/watch_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

enum { GO_ON, STOP_READ };

/* A new folder at path: watch it and report what it holds. */
static void watch_new_folder(struct wtree *t, const char *path, struct wsink *s)
{
	if (wtree_scan(t, path, s, true) < 0)
		wsink_put(s, t->mount, FS_CHANGE_RESCAN, "", true);
}

/* The waiting IN_MOVED_FROM had no pair: its entry left the tree. */
static void move_out(struct wtree *t, struct wsink *s)
{
	wsink_put(s, t->mount, FS_CHANGE_DELETE, t->move_path, t->move_is_dir);
	if (t->move_is_dir)
		wtree_unwatch_subtree(t, t->move_path);
	free(t->move_path);
	t->move_path = NULL;
	t->move_pending = false;
}

/* A folder moved from -> to: its watches follow it if the folder now at
 * to is the one they watch (what was watched at to, a folder it replaced
 * or swapped with, goes). Otherwise (it was never watched: created and
 * moved before its IN_CREATE was read; or to holds another one by now, as
 * after an exchange) the watches under from go, the folder at to is
 * watched and scanned as a new one, and whatever is at from now is
 * watched again quietly. */
static void move_folder(struct wtree *t, const char *from, const char *to, struct wsink *s)
{
	struct wdir *d = wtree_find_path(t, from);
	if (d && wtree_dir_at(t, d, to)) {
		wtree_unwatch_subtree(t, to);
		wtree_rename_subtree(t, from, to);
		return;
	}
	wtree_unwatch_subtree(t, from);
	watch_new_folder(t, to, s);
	if (wtree_scan(t, from, s, false) < 0)
		wsink_put(s, t->mount, FS_CHANGE_RESCAN, "", true);
}

/* The waiting IN_MOVED_FROM's pair arrived: a rename to path. */
static void move_within(struct wtree *t, const char *path, struct wsink *s)
{
	wsink_rename(s, t->mount, t->move_path, path, t->move_is_dir);
	if (t->move_is_dir)
		move_folder(t, t->move_path, path, s);
	free(t->move_path);
	t->move_path = NULL;
	t->move_pending = false;
}

/* Events on a watched folder itself (no name). Only the root's count:
 * any other folder's are reported by its parent under its name. */
static void handle_self(struct wtree *t, struct wdir *d, uint32_t mask, struct wsink *s)
{
	bool root = d->rel[0] == '\0';
	if (mask & IN_DELETE_SELF) {
		if (root) {
			wsink_put(s, t->mount, FS_CHANGE_DELETE, "", true);
			t->dead = true;
			wtree_report(t, "the shared folder was removed");
		}
		wtree_forget(t, d->wd);
	} else if ((mask & IN_ATTRIB) && root) {
		wsink_put(s, t->mount, FS_CHANGE_ATTRIB, "", true);
	}
	/* IN_MOVE_SELF of the root: it is still the folder we serve (by its
	 * inode, as the FUSE server holds it), so it is watched on. */
}

/* Events on an entry of a watched folder. */
static void handle_child(struct wtree *t, struct wdir *d, uint32_t mask, uint32_t cookie,
			 const char *name, struct wsink *s)
{
	char *path = wtree_join(d->rel, name);
	if (!path)
		return;
	bool is_dir = mask & IN_ISDIR;
	if (mask & (IN_CREATE | IN_MOVED_TO)) {
		wsink_put(s, t->mount, FS_CHANGE_CREATE, path, is_dir);
		if (is_dir)
			watch_new_folder(t, path, s);
	} else if (mask & IN_MOVED_FROM) {
		t->move_pending = true;
		t->move_cookie = cookie;
		t->move_is_dir = is_dir;
		t->move_path = path;
		t->move_deadline = s->now_ms + WATCH_MOVE_PAIR_MS;
		return;
	} else if (mask & IN_DELETE) {
		wsink_put(s, t->mount, FS_CHANGE_DELETE, path, is_dir);
	} else if (mask & (IN_MODIFY | IN_CLOSE_WRITE)) {
		wsink_put(s, t->mount, FS_CHANGE_MODIFY, path, is_dir);
	} else if (mask & IN_ATTRIB) {
		wsink_put(s, t->mount, FS_CHANGE_ATTRIB, path, is_dir);
	}
	free(path);
}

static int handle_event(struct wtree *t, const struct inotify_event *ev, const char *name,
			struct wsink *s)
{
	t->events++;
	if (t->move_pending) {
		if ((ev->mask & IN_MOVED_TO) && ev->cookie == t->move_cookie && ev->len) {
			struct wdir *d = wtree_find(t, ev->wd);
			char *path = d ? wtree_join(d->rel, name) : NULL;
			if (path) {
				move_within(t, path, s);
				free(path);
				return GO_ON;
			}
		}
		move_out(t, s);
	}
	if (ev->mask & (IN_Q_OVERFLOW | IN_UNMOUNT)) {
		if (ev->mask & IN_Q_OVERFLOW)
			t->overflows++;
		wtree_rescan(t, s);
		return STOP_READ;
	}
	struct wdir *d = wtree_find(t, ev->wd);
	if (!d)
		return GO_ON;   /* a watch we dropped already */
	if (ev->mask & IN_IGNORED) {
		if (d->rel[0] == '\0' && !t->dead) {
			t->dead = true;
			wtree_report(t, "the kernel dropped the watch of the shared folder");
		}
		wtree_forget(t, ev->wd);
	} else if (ev->len == 0 || name[0] == '\0') {
		handle_self(t, d, ev->mask, s);
	} else {
		handle_child(t, d, ev->mask, ev->cookie, name, s);
	}
	return GO_ON;
}

void wtree_process(struct wtree *t, const char *buf, size_t len, struct wsink *s)
{
	size_t off = 0;
	while (off + sizeof(struct inotify_event) <= len) {
		struct inotify_event ev;
		memcpy(&ev, buf + off, sizeof(ev));
		size_t size = sizeof(ev) + ev.len;
		if (off + size > len)
			break;
		/* the name is NUL-padded to ev.len; copy it to be sure it ends */
		char name[ev.len + 1];
		memcpy(name, buf + off + sizeof(ev), ev.len);
		name[ev.len] = '\0';
		off += size;
		if (handle_event(t, &ev, name, s) == STOP_READ)
			break;
	}
}

int wtree_read(struct wtree *t, struct wsink *s)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(t->ifd, buf, sizeof(buf));
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		wtree_report(t, "read inotify: %s", strerror(errno));
		return -1;
	}
	wtree_process(t, buf, (size_t)n, s);
	return 0;
}

void wtree_tick(struct wtree *t, struct wsink *s)
{
	if (t->move_pending && s->now_ms >= t->move_deadline) {
		wtree_read(t, s);   /* its pair may have come in just now */
		if (t->move_pending && s->now_ms >= t->move_deadline)
			move_out(t, s);
	}
	if (t->degraded && s->now_ms >= t->retry_at) {
		t->retry_backoff *= 2;
		if (t->retry_backoff > WATCH_RETRY_MAX_MS)
			t->retry_backoff = WATCH_RETRY_MAX_MS;
		wtree_rescan(t, s);
	}
}

uint64_t wtree_next_tick(const struct wtree *t)
{
	uint64_t next = UINT64_MAX;
	if (t->move_pending)
		next = t->move_deadline;
	if (t->degraded && t->retry_at < next)
		next = t->retry_at;
	return next;
}

/* watch_scan.c - putting watches on a folder and everything beneath it,
 * and reporting what a new folder already holds.
 *
 * Folders are opened beneath the mount's root one name at a time with
 * O_NOFOLLOW, so no symlink, however it was swapped in, leads out of the
 * tree; the watch goes on the opened folder through /proc/self/fd/N (the
 * magic link names exactly that folder). Without /proc, the path with
 * IN_DONT_FOLLOW is the fallback. The walk keeps a stack of paths, not of
 * open folders, so a deep tree costs no file descriptors. A folder that
 * is already watched under another path (a bind mount of a parent) is not
 * entered again.
 */
#include "daemon/fs/watch/watch_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | \
		    IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | \
		    IN_ONLYDIR | IN_EXCL_UNLINK)

int wtree_open_dir(struct wtree *t, const char *rel)
{
	int root_fd = t->root_fd;
	if (!*rel)
		return openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *copy = strdup(rel);
	if (!copy)
		return -1;
	int cur = root_fd;
	char *save = NULL;
	char *name = strtok_r(copy, "/", &save);
	while (name) {
		char *next = strtok_r(NULL, "/", &save);
		int fd = -1;
		if (strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
			errno = EINVAL;
		else
			fd = openat(cur, name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC |
				    (next ? O_PATH : O_RDONLY));
		int saved = errno;
		if (cur != root_fd)
			close(cur);
		if (fd < 0) {
			free(copy);
			errno = saved;
			return -1;
		}
		cur = fd;
		name = next;
	}
	free(copy);
	return cur;
}

bool wtree_dir_at(struct wtree *t, const struct wdir *d, const char *rel)
{
	int fd = wtree_open_dir(t, rel);
	if (fd < 0)
		return false;
	struct stat st;
	bool same = fstat(fd, &st) == 0 && st.st_dev == d->dev && st.st_ino == d->ino;
	close(fd);
	return same;
}

/* Watch the folder open as fd (rel beneath the root): its wd, or -1. */
static int add_watch(struct wtree *t, int fd, const char *rel)
{
	if (t->max_watches && t->nwatches >= t->max_watches) {
		errno = ENOSPC;
		return -1;
	}
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int wd = inotify_add_watch(t->ifd, proc, WATCH_MASK);
	if (wd >= 0 || errno != ENOENT || access("/proc/self/fd", F_OK) == 0)
		return wd;
	char *path = wtree_join(t->root_path, rel);
	if (!path)
		return -1;
	wd = inotify_add_watch(t->ifd, path, WATCH_MASK | IN_DONT_FOLLOW);
	free(path);
	return wd;
}

struct stack {
	char **v;
	size_t n, cap;
};

static int push(struct stack *s, char *path)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof(*v));
		if (!v) {
			free(path);
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = path;
	return 0;
}

static bool entry_is_dir(int dfd, const struct dirent *e)
{
	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	struct stat st;
	return fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Report the entries of the folder open as fd and push its subfolders. */
static void list_entries(struct wtree *t, int fd, const char *rel, struct stack *todo,
			 struct wsink *sink, bool report)
{
	DIR *dir = fdopendir(fd);
	if (!dir) {
		wtree_report(t, "scan %s: fdopendir: %s", *rel ? rel : ".", strerror(errno));
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		bool is_dir = entry_is_dir(dirfd(dir), e);
		char *child = wtree_join(rel, e->d_name);
		if (!child)
			continue;
		if (report && sink)
			wsink_put(sink, t->mount, FS_CHANGE_CREATE, child, is_dir);
		if (is_dir)
			push(todo, child);
		else
			free(child);
	}
	closedir(dir);
}

static bool vanished(int e)
{
	return e == ENOENT || e == ENOTDIR || e == ELOOP;
}

/* Watch one folder and list it; -1 when a watch limit was hit. */
static int scan_one(struct wtree *t, const char *rel, struct stack *todo,
		    struct wsink *sink, bool report)
{
	int fd = wtree_open_dir(t, rel);
	if (fd < 0) {   /* gone, or a symlink now: nothing to watch */
		if (!vanished(errno))
			wtree_report(t, "scan %s: %s", *rel ? rel : ".", strerror(errno));
		return 0;
	}
	int wd = add_watch(t, fd, rel);
	if (wd < 0) {
		int e = errno;
		close(fd);
		if (e == ENOSPC) {
			wtree_report(t, "watch %s: %s (the limit: %s)", *rel ? rel : ".",
				     strerror(e), t->max_watches ? "max_watches" :
				     "fs.inotify.max_user_watches");
			wtree_degrade(t, sink ? sink->now_ms : watch_now_ms());
			return -1;
		}
		if (!vanished(e))
			wtree_report(t, "watch %s: %s", *rel ? rel : ".", strerror(e));
		return 0;
	}
	/* Known under another path: a bind mount shows it twice (enter it
	 * once), or that path is stale (a move the events have not told yet):
	 * then it lives here now. */
	struct wdir *known = wtree_find(t, wd);
	if (known && strcmp(known->rel, rel) != 0 && wtree_dir_at(t, known, known->rel)) {
		close(fd);
		return 0;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		wtree_report(t, "watch %s: fstat: %s", rel, strerror(errno));
		close(fd);
		return 0;
	}
	if (wtree_insert(t, wd, rel, st.st_dev, st.st_ino) < 0) {
		wtree_report(t, "watch %s: out of memory", rel);
		close(fd);
		return 0;
	}
	list_entries(t, fd, rel, todo, sink, report);
	return 0;
}

int wtree_scan(struct wtree *t, const char *rel, struct wsink *sink, bool report_entries)
{
	struct stack todo = { 0 };
	char *first = strdup(rel);
	if (!first || push(&todo, first) < 0)
		return 0;
	int rc = 0;
	while (todo.n > 0) {
		char *cur = todo.v[--todo.n];
		if (rc == 0 && scan_one(t, cur, &todo, sink, report_entries) < 0)
			rc = -1;   /* a limit: drain the stack without watching */
		free(cur);
	}
	free(todo.v);
	return rc;
}

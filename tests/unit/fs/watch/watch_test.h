/* watch_test.h - helpers the watcher's tests share: temporary trees and
 * a record log that the emit callback fills and tests wait on (with a
 * generous deadline: they assert on what arrives, not on how fast). */
#ifndef SM_TEST_WATCH_TEST_H
#define SM_TEST_WATCH_TEST_H

#include "daemon/fs/watch/watch.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 10000

/* ---- files ---- */

static inline void tmp_tree(char *buf, size_t len, const char *tag)
{
	const char *base = getenv("TMPDIR");
	snprintf(buf, len, "%s/sm-watch-%s-XXXXXX", base && *base ? base : "/tmp", tag);
	ck_assert_msg(mkdtemp(buf) != NULL, "mkdtemp %s: %s", buf, strerror(errno));
}

static inline int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	remove(p);
	return 0;
}

static inline void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir/rel into buf. */
__attribute__((format(printf, 3, 4)))
static inline const char *pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return buf;
}

static inline void put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static inline void append_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static inline void make_dir(const char *path)
{
	ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
}

static inline uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the record log ---- */

struct logged {
	uint32_t mount;
	enum fs_change_kind kind;
	bool is_dir;
	uint32_t cookie;
	char *path;
	size_t batch;          /* which emit call brought it */
};

struct rec_log {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct logged *v;
	size_t n, cap, batches, max_batch_seen;
	/* an optional gate: emit waits while it is closed */
	bool gate_closed;
	bool in_emit;
};

static inline void log_init(struct rec_log *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
}

static inline void log_free(struct rec_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
}

static inline void log_emit(void *opaque, const struct fs_change *c, size_t n)
{
	struct rec_log *l = opaque;
	pthread_mutex_lock(&l->mu);
	l->in_emit = true;
	pthread_cond_broadcast(&l->cv);
	while (l->gate_closed)
		pthread_cond_wait(&l->cv, &l->mu);
	l->batches++;
	if (n > l->max_batch_seen)
		l->max_batch_seen = n;
	for (size_t i = 0; i < n; i++) {
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			l->v = realloc(l->v, l->cap * sizeof(*l->v));
		}
		l->v[l->n++] = (struct logged){ c[i].mount_id, c[i].kind, c[i].is_dir,
						c[i].cookie, strdup(c[i].path), l->batches };
	}
	l->in_emit = false;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

/* Index of the first record at or after from matching (mount, kind, path),
 * or -1. Call with the lock held. */
static inline long log_find_locked(struct rec_log *l, size_t from, uint32_t mount,
				   enum fs_change_kind kind, const char *path)
{
	for (size_t i = from; i < l->n; i++)
		if (l->v[i].mount == mount && l->v[i].kind == kind &&
		    strcmp(l->v[i].path, path) == 0)
			return (long)i;
	return -1;
}

static inline long log_find(struct rec_log *l, size_t from, uint32_t mount,
			    enum fs_change_kind kind, const char *path)
{
	pthread_mutex_lock(&l->mu);
	long i = log_find_locked(l, from, mount, kind, path);
	pthread_mutex_unlock(&l->mu);
	return i;
}

/* Wait up to WAIT_MS for such a record; its index, or -1. */
static inline long log_wait(struct rec_log *l, size_t from, uint32_t mount,
			    enum fs_change_kind kind, const char *path)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&l->mu);
	long i;
	while ((i = log_find_locked(l, from, mount, kind, path)) < 0)
		if (pthread_cond_timedwait(&l->cv, &l->mu, &until) == ETIMEDOUT) {
			i = log_find_locked(l, from, mount, kind, path);
			break;
		}
	pthread_mutex_unlock(&l->mu);
	return i;
}

static inline size_t log_count(struct rec_log *l)
{
	pthread_mutex_lock(&l->mu);
	size_t n = l->n;
	pthread_mutex_unlock(&l->mu);
	return n;
}

/* Records from..to (exclusive) whose path is path or lies beneath it. */
static inline size_t log_count_under(struct rec_log *l, size_t from, size_t to,
				     const char *path)
{
	size_t n = 0, len = strlen(path);
	pthread_mutex_lock(&l->mu);
	for (size_t i = from; i < to && i < l->n; i++)
		if (strncmp(l->v[i].path, path, len) == 0 &&
		    (l->v[i].path[len] == '\0' || l->v[i].path[len] == '/'))
			n++;
	pthread_mutex_unlock(&l->mu);
	return n;
}

/* Print the log (for failing tests). */
static inline void log_dump(struct rec_log *l, const char *why)
{
	pthread_mutex_lock(&l->mu);
	fprintf(stderr, "-- records (%s):\n", why);
	for (size_t i = 0; i < l->n; i++)
		fprintf(stderr, "  [%zu] batch %zu mount %u %s %s%s cookie %u\n", i,
			l->v[i].batch, l->v[i].mount, fs_change_kind_name(l->v[i].kind),
			l->v[i].path, l->v[i].is_dir ? " (dir)" : "", l->v[i].cookie);
	pthread_mutex_unlock(&l->mu);
}

#endif

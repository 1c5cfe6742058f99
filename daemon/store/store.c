/* store.c - opening and closing a store, its directory layout, and the
 * small coordination primitives (per-digest claims, work counter) that let
 * pulls run in parallel threads without fetching one blob twice.
 * Query entry points (list, inspect, delete) are in store_query.c.
 */
#include "store_int.h"
#include "db.h"
#include "digest.h"
#include "err.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void sm_blob_relpath(const char *digest, char *buf, size_t len)
{
	snprintf(buf, len, "blobs/sha256/%s", sm_digest_hex(digest));
}

void sm_layer_relpath(const char *digest, char *buf, size_t len)
{
	snprintf(buf, len, "layers/sha256/%s.erofs", sm_digest_hex(digest));
}

void sm_partial_relpath(const char *digest, char *buf, size_t len)
{
	snprintf(buf, len, "tmp/%s.partial", sm_digest_hex(digest));
}

void sm_abspath(const struct sm_store *st, const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", st->dir, rel);
}

static int make_dirs(const char *dir, char *err, size_t errlen)
{
	static const char *const sub[] = { "", "/blobs", "/blobs/sha256", "/layers",
					   "/layers/sha256", "/tmp", "/volumes" };
	char path[PATH_MAX + 32];

	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		snprintf(path, sizeof path, "%s%s", dir, sub[i]);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return sm_err(err, errlen, "mkdir %s: %s", path, strerror(errno));
	}
	return 0;
}

static int lock_dir(struct sm_store *st, char *err, size_t errlen)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof path, "%s/lock", st->dir);
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (st->lock_fd < 0)
		return sm_err(err, errlen, "open %s: %s", path, strerror(errno));
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return sm_err(err, errlen, "store %s is in use by another process", st->dir);
	return 0;
}

/* Creates the layout and keeps the directory's absolute path, so the
 * store keeps working if the daemon changes directory. */
static int set_dir(struct sm_store *st, const char *dir, char *err, size_t errlen)
{
	if (make_dirs(dir, err, errlen) < 0)
		return -1;
	if (!realpath(dir, st->dir))
		return sm_err(err, errlen, "realpath %s: %s", dir, strerror(errno));
	if (strlen(st->dir) >= sizeof st->dir - 100)
		return sm_err(err, errlen, "store path too long");
	return 0;
}

int sm_store_open(const char *dir, struct sm_store **out, char *err, size_t errlen)
{
	char dbpath[PATH_MAX + 16];
	struct sm_store *st = calloc(1, sizeof *st);

	if (!st)
		return sm_err(err, errlen, "out of memory");
	st->lock_fd = -1;
	pthread_once(&curl_once, curl_init_once);
	if (set_dir(st, dir, err, errlen) < 0 || lock_dir(st, err, errlen) < 0) {
		sm_err_prefix(err, errlen, "opening store: ");
		goto fail;
	}
	snprintf(dbpath, sizeof dbpath, "%s/store.db", st->dir);
	if (sm_db_open(dbpath, &st->db, err, errlen) < 0) {
		sm_err_prefix(err, errlen, "opening store: ");
		goto fail;
	}
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cond, NULL);
	*out = st;
	return 0;
fail:
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st);
	return -1;
}

void sm_store_close(struct sm_store *st)
{
	if (!st)
		return;
	sm_stmt_cache_clear(&st->stmts);
	sqlite3_close(st->db);
	close(st->lock_fd);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->cond);
	free(st->inflight);
	free(st);
}

static ssize_t find_inflight(struct sm_store *st, const char *digest)
{
	for (size_t i = 0; i < st->n_inflight; i++)
		if (!strcmp(st->inflight[i], digest))
			return (ssize_t)i;
	return -1;
}

int sm_claim(struct sm_store *st, const char *digest)
{
	pthread_mutex_lock(&st->lock);
	while (find_inflight(st, digest) >= 0)
		pthread_cond_wait(&st->cond, &st->lock);
	if (st->n_inflight == st->cap_inflight) {
		size_t cap = st->cap_inflight ? st->cap_inflight * 2 : 16;
		void *p = realloc(st->inflight, cap * sizeof *st->inflight);
		if (!p) {
			pthread_mutex_unlock(&st->lock);
			return -1;
		}
		st->inflight = p;
		st->cap_inflight = cap;
	}
	snprintf(st->inflight[st->n_inflight++], SM_DIGEST_LEN, "%s", digest);
	pthread_mutex_unlock(&st->lock);
	return 0;
}

void sm_release(struct sm_store *st, const char *digest)
{
	pthread_mutex_lock(&st->lock);
	ssize_t i = find_inflight(st, digest);
	if (i >= 0)
		memcpy(st->inflight[i], st->inflight[--st->n_inflight], SM_DIGEST_LEN);
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
}

void sm_begin_work(struct sm_store *st)
{
	pthread_mutex_lock(&st->lock);
	st->active++;
	pthread_mutex_unlock(&st->lock);
}

void sm_end_work(struct sm_store *st)
{
	pthread_mutex_lock(&st->lock);
	st->active--;
	pthread_mutex_unlock(&st->lock);
}

int sm_fsync_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return sm_err(err, errlen, "fsync %s: %s", dir, strerror(e));
	}
	close(fd);
	return 0;
}

int sm_commit_file(const char *src, const char *dst, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	int fd = open(src, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return sm_err(err, errlen, "fsync %s: %s", src, strerror(e));
	}
	close(fd);
	if (rename(src, dst) < 0)
		return sm_err(err, errlen, "rename %s -> %s: %s", src, dst, strerror(errno));
	snprintf(dir, sizeof dir, "%s", dst);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	return sm_fsync_dir(dir, err, errlen);
}

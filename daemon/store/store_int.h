/* store_int.h - the store's private state and file layout, shared by the
 * files that implement store.h (store.c, ingest.c, pull.c, import.c,
 * catalog.c, gc.c). Not for use outside daemon/store.
 */
#ifndef SM_STORE_INT_H
#define SM_STORE_INT_H

#include "db.h"
#include "manifest.h"
#include "store.h"

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>

struct sm_store {
	char dir[PATH_MAX];
	int lock_fd;             /* flock on <dir>/lock: one process per store */
	sqlite3 *db;
	struct sm_stmt_cache stmts; /* db's statements, for catalog.c */
	pthread_mutex_t lock;    /* serialises db use and the fields below */
	pthread_cond_t cond;     /* signalled when an in-flight digest is done */
	int active;              /* pulls/imports running (gc waits for 0) */
	char (*inflight)[SM_DIGEST_LEN];
	size_t n_inflight, cap_inflight;
};

/* Relative paths inside the store directory. */
void sm_blob_relpath(const char *digest, char *buf, size_t len);
void sm_layer_relpath(const char *digest, char *buf, size_t len);
void sm_partial_relpath(const char *digest, char *buf, size_t len);
void sm_abspath(const struct sm_store *st, const char *rel, char *buf, size_t len);

/* Marks a digest busy, waiting while another thread holds it. */
int sm_claim(struct sm_store *st, const char *digest);
void sm_release(struct sm_store *st, const char *digest);

/* Pull/import bracket: gc is refused while active > 0. */
void sm_begin_work(struct sm_store *st);
void sm_end_work(struct sm_store *st);

/* fsync a directory so a rename in it is durable. */
int sm_fsync_dir(const char *dir, char *err, size_t errlen);
/* fsync src, rename to dst, fsync dst's directory. */
int sm_commit_file(const char *src, const char *dst, char *err, size_t errlen);

/* Where a blob comes from: writes the verified, fsynced bytes of d to
 * partial (an absolute path in tmp/). */
struct sm_source {
	int (*fetch)(void *ctx, const struct sm_desc *d, const char *partial,
		     sm_progress_fn progress, void *ud, char *err, size_t errlen);
	void *ctx;
};

struct sm_ingest {
	const char *manifest_digest;
	const char *manifest_mt;
	const char *manifest;     /* raw bytes as fetched */
	size_t manifest_len;
	const struct sm_manifest *m;
	const char *tag;          /* canonical name or NULL */
	int parallel;
	sm_progress_fn progress;
	void *progress_ud;
	const volatile int *cancel;   /* see sm_pull_opts */
};

/* Fetches config and layers (layers in parallel), converts each layer to
 * erofs, then records the image in one transaction. */
int sm_ingest_image(struct sm_store *st, const struct sm_ingest *in,
		    const struct sm_source *src, char *err, size_t errlen);

#endif

/* ingest.c - bringing one image's blobs into the store and recording it.
 *
 * Shared by pull (blobs from a registry) and import (blobs from local
 * files): the source only has to produce a verified file at a temp path.
 * For each blob: reuse it if its row and file exist; otherwise fetch to
 * tmp/<hex>.partial, fsync, rename into blobs/, then insert the row. Each
 * layer is then converted to layers/sha256/<hex>.erofs (written to a temp
 * name and renamed by layer_convert) before its row is inserted. Layers
 * are processed by a small pool of threads; the first error stops the
 * pool. Finally manifest, image and tag commit in one transaction, so an
 * interrupted ingest leaves only unreferenced blobs that gc can remove
 * and a repeated pull reuses.
 */
#include "store_int.h"
#include "catalog.h"
#include "err.h"
#include "layer/layer_convert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void emit(const struct sm_ingest *in, const char *digest, const char *phase,
		 uint64_t done, uint64_t total)
{
	struct sm_progress ev = { digest, phase, done, total };

	if (in->progress)
		in->progress(&ev, in->progress_ud);
}

static int file_size_is(const char *path, uint64_t size)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == size;
}

/* A file left at the final path by a crash before its row: keep it if it
 * hashes right, else delete it. 1 adopted, 0 not. */
static int adopt_orphan(const char *path, const struct sm_desc *d)
{
	char got[SM_DIGEST_LEN], e[256];
	uint64_t size;

	if (access(path, F_OK) < 0)
		return 0;
	if (sm_sha256_file(path, got, &size, e, sizeof e) == 0 && size == d->size &&
	    !strcmp(got, d->digest))
		return 1;
	unlink(path);
	return 0;
}

static int find_blob(struct sm_store *st, const char *digest, char *rel, size_t len,
		     char *err, size_t errlen)
{
	pthread_mutex_lock(&st->lock);
	int rc = sm_cat_blob_find(st, digest, rel, len, err, errlen);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

static int fetch_blob(struct sm_store *st, const struct sm_ingest *in, const struct sm_desc *d,
		      const struct sm_source *src, char *err, size_t errlen)
{
	char rel[256], path[PATH_MAX], prel[256], partial[PATH_MAX];

	int have = find_blob(st, d->digest, rel, sizeof rel, err, errlen);
	if (have < 0)
		return -1;
	sm_blob_relpath(d->digest, rel, sizeof rel);
	sm_abspath(st, rel, path, sizeof path);
	if (file_size_is(path, d->size) && (have || adopt_orphan(path, d))) {
		emit(in, d->digest, "exists", d->size, d->size);
	} else {
		sm_partial_relpath(d->digest, prel, sizeof prel);
		sm_abspath(st, prel, partial, sizeof partial);
		if (src->fetch(src->ctx, d, partial, in->progress, in->progress_ud, err, errlen) < 0 ||
		    sm_commit_file(partial, path, err, errlen) < 0)
			return -1;
	}
	pthread_mutex_lock(&st->lock);
	int rc = sm_cat_blob_add(st, d, rel, err, errlen);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

static int convert_layer(struct sm_store *st, const struct sm_ingest *in,
			 const struct sm_desc *d, char *err, size_t errlen)
{
	char rel[256], path[PATH_MAX], brel[256], blob[PATH_MAX];
	struct layer_stats stats = { 0 };

	pthread_mutex_lock(&st->lock);
	int have = sm_cat_layer_find(st, d->digest, rel, sizeof rel, err, errlen);
	pthread_mutex_unlock(&st->lock);
	if (have < 0)
		return -1;
	sm_layer_relpath(d->digest, rel, sizeof rel);
	sm_abspath(st, rel, path, sizeof path);
	if (have && access(path, R_OK) == 0)
		return 0;
	sm_blob_relpath(d->digest, brel, sizeof brel);
	sm_abspath(st, brel, blob, sizeof blob);
	emit(in, d->digest, "convert", 0, d->size);
	if (layer_convert(blob, path, &stats, err, errlen) < 0)
		return sm_err_prefix(err, errlen, "converting layer %s: ", d->digest);
	char dir[PATH_MAX];
	sm_abspath(st, "layers/sha256", dir, sizeof dir);
	if (sm_fsync_dir(dir, err, errlen) < 0)
		return -1;
	pthread_mutex_lock(&st->lock);
	int rc = sm_cat_layer_add(st, d->digest, rel, stats.image_bytes, stats.entries,
				  err, errlen);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* Blob then erofs image for one layer, holding the digest's claim. */
static int ingest_layer(struct sm_store *st, const struct sm_ingest *in,
			const struct sm_desc *d, const struct sm_source *src,
			char *err, size_t errlen)
{
	if (sm_claim(st, d->digest) < 0)
		return sm_err(err, errlen, "out of memory");
	int rc = fetch_blob(st, in, d, src, err, errlen);
	if (rc == 0)
		rc = convert_layer(st, in, d, err, errlen);
	sm_release(st, d->digest);
	if (rc == 0)
		emit(in, d->digest, "done", d->size, d->size);
	return rc;
}

struct pool {
	struct sm_store *st;
	const struct sm_ingest *in;
	const struct sm_source *src;
	pthread_mutex_t lock;
	size_t next;
	int failed;
	char err[1024];
};

static void *pool_worker(void *arg)
{
	struct pool *p = arg;
	char err[1024];

	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next++;
		int stop = p->failed || i >= p->in->m->nlayers;
		int cancel = p->in->cancel && __atomic_load_n(p->in->cancel, __ATOMIC_RELAXED);
		if (!stop && cancel) {
			stop = 1;
			if (!p->failed++)
				snprintf(p->err, sizeof p->err, "cancelled");
		}
		pthread_mutex_unlock(&p->lock);
		if (stop)
			return NULL;
		if (ingest_layer(p->st, p->in, &p->in->m->layers[i], p->src, err, sizeof err) < 0) {
			pthread_mutex_lock(&p->lock);
			if (!p->failed++)
				snprintf(p->err, sizeof p->err, "%s", err);
			pthread_mutex_unlock(&p->lock);
		}
	}
}

static int ingest_layers(struct sm_store *st, const struct sm_ingest *in,
			 const struct sm_source *src, char *err, size_t errlen)
{
	struct pool p = { .st = st, .in = in, .src = src };
	size_t n = in->parallel > 0 ? (size_t)in->parallel : 3;
	pthread_t tids[16];
	size_t started = 0;

	if (n > 16)
		n = 16;
	if (n > in->m->nlayers)
		n = in->m->nlayers;
	pthread_mutex_init(&p.lock, NULL);
	for (; started < n; started++)
		if (pthread_create(&tids[started], NULL, pool_worker, &p) != 0)
			break;
	if (started == 0 && n > 0)
		pool_worker(&p);
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&p.lock);
	if (p.failed)
		return sm_err(err, errlen, "%s", p.err);
	return 0;
}

static char *read_small(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = f ? malloc(max + 1) : NULL;

	if (!buf) {
		if (f)
			fclose(f);
		sm_err(err, errlen, "open %s: %s", path, f ? "out of memory" : strerror(errno));
		return NULL;
	}
	*len = fread(buf, 1, max, f);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

static int check_config(const char *cfg, size_t len, const struct sm_manifest *m,
			char *os, char *arch, size_t alen, char *err, size_t errlen)
{
	struct sm_image_config *c = calloc(1, sizeof *c);

	if (!c)
		return sm_err(err, errlen, "out of memory");
	int rc = sm_config_parse(cfg, len, c, err, errlen);
	if (rc == 0) {
		snprintf(os, alen, "%s", c->os);
		snprintf(arch, alen, "%s", c->arch);
	}
	sm_image_config_free(c);
	long ids = rc == 0 ? sm_config_diff_ids(cfg, len) : -1;
	if (rc == 0 && m->nlayers == 0)
		rc = sm_err(err, errlen, "image has no layers");
	else if (rc == 0 && ids >= 0 && (size_t)ids != m->nlayers)
		rc = sm_err(err, errlen, "image config lists %ld layers (rootfs.diff_ids) but "
			    "the manifest has %zu", ids, m->nlayers);
	return rc;
}

static int ingest_config(struct sm_store *st, const struct sm_ingest *in,
			 const struct sm_source *src, char **cfg, size_t *len,
			 char *err, size_t errlen)
{
	const struct sm_desc *d = &in->m->config;
	char rel[256], path[PATH_MAX];

	if (sm_claim(st, d->digest) < 0)
		return sm_err(err, errlen, "out of memory");
	int rc = fetch_blob(st, in, d, src, err, errlen);
	sm_release(st, d->digest);
	if (rc < 0)
		return sm_err_prefix(err, errlen, "config: ");
	sm_blob_relpath(d->digest, rel, sizeof rel);
	sm_abspath(st, rel, path, sizeof path);
	*cfg = read_small(path, SM_CONFIG_MAX, len, err, errlen);
	return *cfg ? 0 : -1;
}

int sm_ingest_image(struct sm_store *st, const struct sm_ingest *in,
		    const struct sm_source *src, char *err, size_t errlen)
{
	char os[64], arch[64], *cfg = NULL;
	size_t len = 0;
	int rc = -1;

	if (ingest_config(st, in, src, &cfg, &len, err, errlen) < 0)
		return -1;
	if (check_config(cfg, len, in->m, os, arch, sizeof os, err, errlen) < 0 ||
	    ingest_layers(st, in, src, err, errlen) < 0)
		goto out;
	pthread_mutex_lock(&st->lock);
	rc = sm_cat_record_image(st, in, cfg, len, os, arch, err, errlen);
	pthread_mutex_unlock(&st->lock);
out:
	free(cfg);
	return rc;
}

/* catalog.h - the store's rows: blobs, layers, manifests, images, tags.
 *
 * Thin, typed wrappers around SQL used by ingest, store and gc. Callers
 * hold st->lock (one connection, serialised); functions that change
 * several rows run their own transaction.
 */
#ifndef SM_STORE_CATALOG_H
#define SM_STORE_CATALOG_H

#include "store_int.h"

#include <stdint.h>

/* A statement for sql (a string literal) from st's cache; give it back
 * with sm_stmt_put(&st->stmts, s). 0, or -1 with err. */
int sm_cat_prep(struct sm_store *st, const char *sql, sqlite3_stmt **s, char *err,
		size_t errlen);

/* Column 0 of every row of sql run with one text argument, as a
 * malloc'd NULL-terminated vector of malloc'd strings (*n of them), or
 * NULL with err. */
char **sm_cat_strings(struct sm_store *st, const char *sql, const char *arg, size_t *n,
		      char *err, size_t errlen);

/* 1 found (relpath filled), 0 absent, -1 error. */
int sm_cat_blob_find(struct sm_store *st, const char *digest, char *relpath, size_t len,
		     char *err, size_t errlen);
int sm_cat_blob_add(struct sm_store *st, const struct sm_desc *d, const char *relpath,
		    char *err, size_t errlen);
int sm_cat_layer_find(struct sm_store *st, const char *digest, char *relpath, size_t len,
		      char *err, size_t errlen);
int sm_cat_layer_add(struct sm_store *st, const char *digest, const char *relpath,
		     uint64_t size, uint64_t entries, char *err, size_t errlen);

/* Manifest (+refcounts), image and tag in one transaction. */
int sm_cat_record_image(struct sm_store *st, const struct sm_ingest *in, const char *config,
			size_t config_len, const char *os, const char *arch,
			char *err, size_t errlen);

/* Image id for a tag, id, id prefix or name@digest. */
int sm_cat_resolve(struct sm_store *st, const char *name, char id[SM_DIGEST_LEN],
		   char *err, size_t errlen);

/* Config JSON (malloc'd), config digest and ordered layer relpaths. */
int sm_cat_image_detail(struct sm_store *st, const char *id, char **config, char *config_digest,
			char ***layers, size_t *n_layers, char *err, size_t errlen);

int sm_cat_list(struct sm_store *st, struct sm_image_info **out, size_t *n, char *err,
		size_t errlen);

/* Untag or remove (see sm_store_delete). */
int sm_cat_delete(struct sm_store *st, const char *name, char *err, size_t errlen);

#endif

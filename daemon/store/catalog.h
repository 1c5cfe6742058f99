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

/* 1 found (relpath filled), 0 absent, -1 error. */
int sm_cat_blob_find(sqlite3 *db, const char *digest, char *relpath, size_t len,
		     char *err, size_t errlen);
int sm_cat_blob_add(sqlite3 *db, const struct sm_desc *d, const char *relpath,
		    char *err, size_t errlen);
int sm_cat_layer_find(sqlite3 *db, const char *digest, char *relpath, size_t len,
		      char *err, size_t errlen);
int sm_cat_layer_add(sqlite3 *db, const char *digest, const char *relpath,
		     uint64_t size, uint64_t entries, char *err, size_t errlen);

/* Manifest (+refcounts), image and tag in one transaction. */
int sm_cat_record_image(sqlite3 *db, const struct sm_ingest *in, const char *config,
			size_t config_len, const char *os, const char *arch,
			char *err, size_t errlen);

/* Image id for a tag, id, id prefix or name@digest. */
int sm_cat_resolve(sqlite3 *db, const char *name, char id[SM_DIGEST_LEN],
		   char *err, size_t errlen);

/* Config JSON (malloc'd), config digest and ordered layer relpaths. */
int sm_cat_image_detail(sqlite3 *db, const char *id, char **config, char *config_digest,
			char ***layers, size_t *n_layers, char *err, size_t errlen);

int sm_cat_list(sqlite3 *db, struct sm_image_info **out, size_t *n, char *err, size_t errlen);

/* Untag or remove (see sm_store_delete). */
int sm_cat_delete(sqlite3 *db, const char *name, char *err, size_t errlen);

#endif

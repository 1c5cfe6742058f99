/* import.h - offline import internals shared by import.c (entry point,
 * tar extraction, file source), import_oci.c (OCI image layout) and
 * import_docker.c (`docker save` tars).
 */
#ifndef SM_STORE_IMPORT_H
#define SM_STORE_IMPORT_H

#include "store_int.h"

/* Blobs served from files inside an import directory. */
struct sm_file_source {
	const char *root;        /* the layout or extracted directory */
	struct {
		char digest[SM_DIGEST_LEN];
		char path[PATH_MAX];
	} *files;                /* explicit digest -> path (docker save) */
	size_t n_files;
};

/* sm_source.fetch for a struct sm_file_source: copy + verify. */
int sm_file_fetch(void *ctx, const struct sm_desc *d, const char *partial,
		  sm_progress_fn progress, void *ud, char *err, size_t errlen);

/* root/rel, refusing absolute paths, "..", and symlinks leading outside. */
int sm_safe_join(const char *root, const char *rel, char *out, size_t len,
		 char *err, size_t errlen);

/* Whole small file into memory (NUL-terminated). */
char *sm_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/* The manifest/name an importer found, ready for sm_ingest_image. */
struct sm_found {
	char *manifest;
	size_t manifest_len;
	char media_type[128];
	char digest[SM_DIGEST_LEN];
	struct sm_manifest m;
	char name[512];          /* a reference found in the archive, or "" */
	char ref[256];           /* OCI: the image's bare ref ("latest"), or "" */
};

/* One image an OCI layout holds (nested indexes flattened). */
#define SM_OCI_MAX_IMAGES 256
struct sm_oci_image {
	struct sm_desc d;        /* its manifest */
	char ref[256];           /* org.opencontainers.image.ref.name, or its index's */
	char name[512];          /* a full reference found for it, or "" */
	char os[32], arch[32], variant[32];  /* "" when not known */
};

/* Which of img[n] to import (see import_oci_pick.c); tag may be NULL. */
int sm_oci_pick(const struct sm_oci_image *img, size_t n, const struct sm_pull_opts *o,
		const char *tag, size_t *pick, char *err, size_t errlen);

/* want (may be NULL): the caller's NAME:REF; its REF narrows the choice. */
int sm_import_oci(const char *dir, const struct sm_pull_opts *o, const char *want,
		  struct sm_found *f, char *err, size_t errlen);
int sm_import_docker(const char *dir, const char *want, struct sm_file_source *src,
		     struct sm_found *f, char *err, size_t errlen);

#endif

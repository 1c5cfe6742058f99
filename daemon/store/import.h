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
};

/* want (may be NULL): the caller's name; picks the entry so annotated. */
int sm_import_oci(const char *dir, const struct sm_pull_opts *o, const char *want,
		  struct sm_found *f, char *err, size_t errlen);
int sm_import_docker(const char *dir, const char *want, struct sm_file_source *src,
		     struct sm_found *f, char *err, size_t errlen);

#endif

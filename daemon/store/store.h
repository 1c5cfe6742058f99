/* store.h - the image store: the daemon's one entry point into daemon/store.
 *
 * A store is a directory holding store.db (SQLite, WAL) and content-
 * addressed files: blobs/sha256/<hex> (verified registry blobs) and
 * layers/sha256/<hex>.erofs (one read-only filesystem image per layer,
 * keyed by the layer blob's digest and shared between images). Images are
 * identified by their manifest digest; tags are canonical references such
 * as "docker.io/library/busybox:latest".
 *
 * Every call returns 0 on success or -1 with a message in err (a caller
 * buffer of errlen bytes, 512+ recommended). A store is safe to use from
 * several threads; one process at a time may open a directory.
 */
#ifndef SM_STORE_H
#define SM_STORE_H

#include <stddef.h>
#include <stdint.h>

struct sm_store;

/* Progress of one blob. phase is "download" (done/total bytes, repeated),
 * "exists" (already in the store), "convert" (erofs build starts), "done". */
struct sm_progress {
	const char *digest;
	const char *phase;
	uint64_t done;
	uint64_t total;
};
/* Called from download threads: it must be thread-safe and quick. */
typedef void (*sm_progress_fn)(const struct sm_progress *ev, void *ud);

struct sm_pull_opts {
	const char *os, *arch, *variant;  /* platform; NULL = linux/amd64/any */
	const char *const *insecure;      /* NULL-terminated hosts ("h:port")
					     spoken to in plain http; loopback
					     hosts get https if they answer
					     TLS, else http; others https */
	const char *username, *password;  /* override ~/.docker/config.json */
	const char *docker_config;        /* NULL: $DOCKER_CONFIG/config.json,
					     else ~/.docker/config.json */
	const char *ca_file;              /* CA bundle used instead of the
					     system's (NULL: system CAs) */
	int parallel;                     /* concurrent blob downloads (3) */
	int retries;                      /* attempts per request (5) */
	unsigned retry_delay_ms;          /* first backoff delay (500) */
	sm_progress_fn progress;
	void *progress_ud;
	const char *ref;                  /* import: take the layout's image
					     with this ref (its org.opencontainers
					     .image.ref.name); NULL: see
					     import_oci_pick.c */
	const char *source_name;          /* import: the file name a default
					     image name is made from (NULL:
					     the path's last component) */
	const volatile int *cancel;       /* when *cancel becomes non-zero the
					     pull stops soon and fails with
					     "cancelled"; partial blobs stay
					     for a later resume (it is read
					     with __atomic_load_n; store
					     with __atomic_store_n) */
};

struct sm_image_config {
	char *manifest_digest;            /* the image id */
	char *config_digest;
	char *os, *arch;
	char **entrypoint; size_t n_entrypoint;   /* NULL-terminated arrays */
	char **cmd;        size_t n_cmd;
	char **env;        size_t n_env;
	char **exposed_ports; size_t n_exposed_ports; /* "80/tcp" */
	char *workdir, *user;             /* "" when unset */
	char **layers;     size_t n_layers;  /* erofs paths, lowest first */
};

struct sm_image_info {
	char *id;                         /* manifest digest */
	char *config_digest;
	char **tags; size_t n_tags;       /* NULL-terminated */
	uint64_t size;                    /* sum of compressed blob sizes */
	int64_t created;                  /* unix time it entered the store */
};

struct sm_gc_stats {
	uint64_t blobs_removed, layers_removed, files_removed, bytes_freed;
};

int sm_store_open(const char *dir, struct sm_store **out, char *err, size_t errlen);
void sm_store_close(struct sm_store *st);

/* Pull ref from its registry; id_out (72 bytes, may be NULL) gets the
 * image id. opts may be NULL for defaults. */
int sm_store_pull(struct sm_store *st, const char *ref, const struct sm_pull_opts *opts,
		  char *id_out, char *err, size_t errlen);

/* Import an OCI image layout directory, a tar of one, or a `docker save`
 * tar. tag (may be NULL) names the image; otherwise names found in the
 * archive are used, or for an OCI image with a bare ref ("latest") the
 * source's file name with the ref as tag ("app.tar" -> "app:latest").
 * opts: only platform, ref, source_name, parallel and progress apply. */
int sm_store_import(struct sm_store *st, const char *path, const char *tag,
		    const struct sm_pull_opts *opts, char *id_out, char *err, size_t errlen);

int sm_store_list(struct sm_store *st, struct sm_image_info **out, size_t *n,
		  char *err, size_t errlen);
void sm_image_list_free(struct sm_image_info *list, size_t n);

/* name: a reference ("busybox", "host:5000/a:b", "a@sha256:..."), an image
 * id ("sha256:<hex>") or a unique id prefix of 12+ hex characters. */
int sm_store_inspect(struct sm_store *st, const char *name, struct sm_image_config **out,
		     char *err, size_t errlen);
void sm_image_config_free(struct sm_image_config *c);

/* By tag: removes the tag, and the image once it has no tag left.
 * By id or digest: removes the image and all its tags. Files stay until gc. */
int sm_store_delete(struct sm_store *st, const char *name, char *err, size_t errlen);

/* Removes blobs, layer images and stray files no image references.
 * Refused with an error while a pull or import is running. */
int sm_store_gc(struct sm_store *st, struct sm_gc_stats *stats, char *err, size_t errlen);

#endif

/* import_docker.c - reading a `docker save` archive (manifest.json with
 * Config, RepoTags and Layers paths). Such archives carry no registry
 * manifest, so one is synthesised (OCI media types, layer digests computed
 * from the files) and stored like any other; its digest is the image id.
 * With several images in one archive, the wanted name picks by RepoTags.
 */
#include "import.h"
#include "err.h"
#include "ref.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *sniff_layer_type(const char *path)
{
	unsigned char m[4] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, m, sizeof m) < 0)
			m[0] = 0;
		close(fd);
	}
	if (m[0] == 0x1f && m[1] == 0x8b)
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	return "application/vnd.oci.image.layer.v1.tar";
}

/* Hashes root/rel, records digest -> path in src and fills the json desc. */
static json_t *describe(const char *root, const char *rel, const char *media_type,
			struct sm_file_source *src, char *err, size_t errlen)
{
	char path[PATH_MAX], digest[SM_DIGEST_LEN];
	uint64_t size;

	if (!rel || sm_safe_join(root, rel, path, sizeof path, err, errlen) < 0 ||
	    sm_sha256_file(path, digest, &size, err, errlen) < 0) {
		if (!rel)
			sm_err(err, errlen, "manifest.json: missing file name");
		return NULL;
	}
	void *p = realloc(src->files, (src->n_files + 1) * sizeof *src->files);
	if (!p) {
		sm_err(err, errlen, "out of memory");
		return NULL;
	}
	src->files = p;
	snprintf(src->files[src->n_files].digest, SM_DIGEST_LEN, "%s", digest);
	snprintf(src->files[src->n_files].path, PATH_MAX, "%s", path);
	src->n_files++;
	return json_pack("{s:s, s:s, s:I}", "mediaType", media_type ? media_type :
			 sniff_layer_type(path), "digest", digest, "size", (json_int_t)size);
}

static json_t *build_manifest(const char *dir, json_t *entry, struct sm_file_source *src,
			      char *err, size_t errlen)
{
	json_t *layers = json_array(), *l;
	size_t i;

	json_t *cfg = describe(dir, json_string_value(json_object_get(entry, "Config")),
			       SM_MT_OCI_CONFIG, src, err, errlen);
	if (!cfg || !layers || !json_is_array(json_object_get(entry, "Layers"))) {
		if (cfg && layers)
			sm_err(err, errlen, "manifest.json: no Layers array");
		json_decref(cfg);
		json_decref(layers);
		return NULL;
	}
	json_array_foreach(json_object_get(entry, "Layers"), i, l) {
		json_t *d = describe(dir, json_string_value(l), NULL, src, err, errlen);
		if (!d) {
			json_decref(cfg);
			json_decref(layers);
			return NULL;
		}
		json_array_append_new(layers, d);
	}
	return json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType",
			 SM_MT_OCI_MANIFEST, "config", cfg, "layers", layers);
}

static int same_name(const char *a, const char *b)
{
	struct sm_ref ra, rb;
	char na[600], nb[600], e[8];

	if (sm_ref_parse(a, &ra, e, sizeof e) < 0 || sm_ref_parse(b, &rb, e, sizeof e) < 0)
		return !strcmp(a, b);
	sm_ref_name(&ra, na, sizeof na);
	sm_ref_name(&rb, nb, sizeof nb);
	return !strcmp(na, nb);
}

/* The entry with want among its RepoTags (that tag is then its name),
 * else the first entry with its first tag. */
static json_t *pick(json_t *root, const char *want, const char **tag)
{
	size_t i, k;
	json_t *e, *t;

	json_array_foreach(root, i, e)
		json_array_foreach(json_object_get(e, "RepoTags"), k, t)
			if (want && json_is_string(t) && same_name(json_string_value(t), want)) {
				*tag = json_string_value(t);
				return e;
			}
	e = json_array_get(root, 0);
	*tag = json_string_value(json_array_get(json_object_get(e, "RepoTags"), 0));
	return e;
}

int sm_import_docker(const char *dir, const char *want, struct sm_file_source *src,
		     struct sm_found *f, char *err, size_t errlen)
{
	char path[PATH_MAX];
	json_error_t je;

	snprintf(path, sizeof path, "%s/manifest.json", dir);
	json_t *root = json_load_file(path, 0, &je);
	const char *tag = NULL;
	json_t *entry = json_is_array(root) ? pick(root, want, &tag) : NULL;
	if (!json_is_object(entry)) {
		json_decref(root);
		return sm_err(err, errlen, "manifest.json: not a docker save manifest (%s)",
			      root ? "no entries" : je.text);
	}
	snprintf(f->name, sizeof f->name, "%s", tag ? tag : "");
	json_t *m = build_manifest(dir, entry, src, err, errlen);
	json_decref(root);
	if (!m)
		return -1;
	f->manifest = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(m);
	if (!f->manifest)
		return sm_err(err, errlen, "out of memory");
	f->manifest_len = strlen(f->manifest);
	sm_sha256_buf(f->manifest, f->manifest_len, f->digest);
	snprintf(f->media_type, sizeof f->media_type, "%s", SM_MT_OCI_MANIFEST);
	return sm_manifest_parse(f->manifest, f->manifest_len, &f->m, err, errlen);
}

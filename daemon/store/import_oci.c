/* import_oci.c - reading an OCI image layout directory (index.json,
 * blobs/sha256/...) into the list of images it holds, then down to the one
 * chosen (import_oci_pick.c says which). Each image's ref comes from its
 * org.opencontainers.image.ref.name annotation (or its enclosing index's);
 * its platform from its descriptor, or when that has none from its config's
 * os/architecture/variant. Nested indexes are walked. Every document read
 * is checked against its descriptor's size and digest.
 */
#include "import.h"
#include "err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OCI_MAX_DEPTH 3

struct oci_walk {
	const char *dir;
	struct sm_oci_image *img;
	size_t n;
};

/* Reads blobs/sha256/<hex> for d (at most max bytes), checking size and digest. */
static char *read_blob(const char *dir, const struct sm_desc *d, size_t max, size_t *len,
		       char *err, size_t errlen)
{
	char rel[128], path[PATH_MAX], got[SM_DIGEST_LEN];

	if (d->size > max) {
		sm_err(err, errlen, "blob %s too large", d->digest);
		return NULL;
	}
	snprintf(rel, sizeof rel, "blobs/sha256/%s", sm_digest_hex(d->digest));
	if (sm_safe_join(dir, rel, path, sizeof path, err, errlen) < 0)
		return NULL;
	char *buf = sm_read_file(path, max, len, err, errlen);
	if (!buf)
		return NULL;
	sm_sha256_buf(buf, *len, got);
	if (*len != d->size || strcmp(got, d->digest)) {
		sm_err(err, errlen, "digest mismatch for %s: expected %s, got %s", rel, d->digest, got);
		free(buf);
		return NULL;
	}
	return buf;
}

static int desc_from(json_t *e, struct sm_desc *d, char *err, size_t errlen)
{
	snprintf(d->digest, sizeof d->digest, "%s",
		 json_string_value(json_object_get(e, "digest")) ?: "");
	snprintf(d->media_type, sizeof d->media_type, "%s",
		 json_string_value(json_object_get(e, "mediaType")) ?: "");
	d->size = (uint64_t)json_integer_value(json_object_get(e, "size"));
	if (!sm_digest_valid(d->digest))
		return sm_err(err, errlen, "index.json: bad digest \"%s\"", d->digest);
	return 0;
}

static void copy_str(char *out, size_t len, json_t *v)
{
	snprintf(out, len, "%s", json_string_value(v) ?: "");
}

/* An entry's ref and full name, inherited from its index when it has none.
 * A ref.name holding a repository ("example.com/app:1") is a full name too. */
static void entry_names(json_t *e, const struct sm_oci_image *parent, struct sm_oci_image *out)
{
	json_t *ann = json_object_get(e, "annotations");
	const char *ref = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
	const char *name = json_string_value(json_object_get(ann, "io.containerd.image.name"));

	if (!name && ref && (strchr(ref, '/') || strchr(ref, ':')))
		name = ref;
	snprintf(out->ref, sizeof out->ref, "%s", ref ? ref : parent->ref);
	snprintf(out->name, sizeof out->name, "%s", name ? name : parent->name);
}

static void platform_from(json_t *p, struct sm_oci_image *img)
{
	copy_str(img->os, sizeof img->os, json_object_get(p, "os"));
	copy_str(img->arch, sizeof img->arch, json_object_get(p, "architecture"));
	copy_str(img->variant, sizeof img->variant, json_object_get(p, "variant"));
}

/* An image whose descriptor names no platform: its config says. */
static int platform_from_config(const char *dir, const char *body, size_t len,
				struct sm_oci_image *img, char *err, size_t errlen)
{
	struct sm_manifest m;
	size_t clen;

	if (sm_manifest_parse(body, len, &m, err, errlen) < 0)
		return -1;
	char *cfg = read_blob(dir, &m.config, SM_CONFIG_MAX, &clen, err, errlen);
	sm_manifest_free(&m);
	if (!cfg)
		return -1;
	json_t *root = json_loadb(cfg, clen, 0, NULL);
	free(cfg);
	platform_from(root, img);
	json_decref(root);
	return 0;
}

static int add_entries(struct oci_walk *w, json_t *arr, const struct sm_oci_image *parent,
		       int depth, char *err, size_t errlen);

static int add_image(struct oci_walk *w, const struct sm_oci_image *img, char *err, size_t errlen)
{
	if (w->n == SM_OCI_MAX_IMAGES)
		return sm_err(err, errlen, "more than %d images in the layout", SM_OCI_MAX_IMAGES);
	w->img[w->n++] = *img;
	return 0;
}

/* A nested index (recursed into) or a manifest without a platform. */
static int add_from_blob(struct oci_walk *w, struct sm_oci_image *img, int depth,
			 char *err, size_t errlen)
{
	enum sm_doc_kind kind;
	char mt[128];
	size_t len;
	int rc;

	char *body = read_blob(w->dir, &img->d, SM_MANIFEST_MAX, &len, err, errlen);
	if (!body || sm_doc_kind(body, len, img->d.media_type, &kind, mt, sizeof mt,
				 err, errlen) < 0) {
		free(body);
		return -1;
	}
	if (kind == SM_DOC_INDEX) {
		json_t *root = json_loadb(body, len, 0, NULL);
		rc = depth >= OCI_MAX_DEPTH ? sm_err(err, errlen, "indexes nested too deeply")
		     : add_entries(w, json_object_get(root, "manifests"), img, depth + 1, err, errlen);
		json_decref(root);
	} else {
		rc = platform_from_config(w->dir, body, len, img, err, errlen);
		if (rc == 0)
			rc = add_image(w, img, err, errlen);
	}
	free(body);
	return rc;
}

static int add_entries(struct oci_walk *w, json_t *arr, const struct sm_oci_image *parent,
		       int depth, char *err, size_t errlen)
{
	size_t i;
	json_t *e;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return sm_err(err, errlen, "%s lists no manifests", depth ? "an index" : "index.json");
	json_array_foreach(arr, i, e) {
		struct sm_oci_image img = { 0 };
		if (desc_from(e, &img.d, err, errlen) < 0)
			return -1;
		entry_names(e, parent, &img);
		json_t *p = json_object_get(e, "platform");
		bool manifest = !strcmp(img.d.media_type, SM_MT_OCI_MANIFEST) ||
				!strcmp(img.d.media_type, SM_MT_DOCKER_V2);
		int rc;
		if (manifest && json_is_object(p)) {
			platform_from(p, &img);
			rc = add_image(w, &img, err, errlen);
		} else {
			rc = add_from_blob(w, &img, depth, err, errlen);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int list_images(const char *dir, struct oci_walk *w, char *err, size_t errlen)
{
	char path[PATH_MAX];
	json_error_t je;
	size_t len;

	snprintf(path, sizeof path, "%s/index.json", dir);
	char *idx = sm_read_file(path, SM_MANIFEST_MAX, &len, err, errlen);
	if (!idx)
		return -1;
	json_t *root = json_loadb(idx, len, 0, &je);
	free(idx);
	if (!root)
		return sm_err(err, errlen, "index.json: invalid JSON (line %d: %s)", je.line, je.text);
	struct sm_oci_image top = { 0 };
	int rc = add_entries(w, json_object_get(root, "manifests"), &top, 0, err, errlen);
	json_decref(root);
	return rc;
}

int sm_import_oci(const char *dir, const struct sm_pull_opts *o, const char *want,
		  struct sm_found *f, char *err, size_t errlen)
{
	struct oci_walk w = { .dir = dir, .img = calloc(SM_OCI_MAX_IMAGES, sizeof *w.img) };
	enum sm_doc_kind kind;
	size_t pick;

	if (!w.img)
		return sm_err(err, errlen, "out of memory");
	int rc = list_images(dir, &w, err, errlen);
	if (rc == 0)
		rc = sm_oci_pick(w.img, w.n, o, want, &pick, err, errlen);
	if (rc == 0) {
		const struct sm_oci_image *img = &w.img[pick];
		snprintf(f->name, sizeof f->name, "%s", img->name);
		snprintf(f->ref, sizeof f->ref, "%s", img->ref);
		snprintf(f->digest, sizeof f->digest, "%s", img->d.digest);
		f->manifest = read_blob(dir, &img->d, SM_MANIFEST_MAX, &f->manifest_len, err, errlen);
		if (!f->manifest || sm_doc_kind(f->manifest, f->manifest_len, img->d.media_type, &kind,
						f->media_type, sizeof f->media_type, err, errlen) < 0)
			rc = -1;
		else
			rc = sm_manifest_parse(f->manifest, f->manifest_len, &f->m, err, errlen);
	}
	free(w.img);
	return rc;
}

/* import_oci.c - reading an OCI image layout directory (index.json,
 * blobs/sha256/...) down to one image manifest for the wanted platform.
 * Every document read is checked against its descriptor's size and digest.
 */
#include "import.h"
#include "err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads blobs/sha256/<hex> for d, checking size and digest. */
static char *read_blob(const char *dir, const struct sm_desc *d, size_t *len,
		       char *err, size_t errlen)
{
	char rel[128], path[PATH_MAX], got[SM_DIGEST_LEN];

	if (d->size > SM_MANIFEST_MAX) {
		sm_err(err, errlen, "manifest %s too large", d->digest);
		return NULL;
	}
	snprintf(rel, sizeof rel, "blobs/sha256/%s", sm_digest_hex(d->digest));
	if (sm_safe_join(dir, rel, path, sizeof path, err, errlen) < 0)
		return NULL;
	char *buf = sm_read_file(path, SM_MANIFEST_MAX, len, err, errlen);
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

static void entry_name(json_t *entry, char *out, size_t len)
{
	json_t *ann = json_object_get(entry, "annotations");
	const char *n = json_string_value(json_object_get(ann, "io.containerd.image.name"));

	if (!n) {
		n = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
		/* A bare tag ("latest") names no repository: ignore it. */
		if (n && !strchr(n, '/') && !strchr(n, ':'))
			n = NULL;
	}
	snprintf(out, len, "%s", n ? n : "");
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

/* The entry whose ref.name annotation is want ("repo:tag") or its tag. */
static json_t *entry_named(json_t *arr, const char *want)
{
	const char *colon = want ? strrchr(want, ':') : NULL;
	size_t i;
	json_t *e;

	if (!colon || strchr(colon, '/'))
		return NULL;
	json_array_foreach(arr, i, e) {
		json_t *ann = json_object_get(e, "annotations");
		const char *n = json_string_value(json_object_get(ann,
					"org.opencontainers.image.ref.name"));
		if (n && (!strcmp(n, want) || !strcmp(n, colon + 1)))
			return e;
	}
	return NULL;
}

/* The top-level choice: the only entry, the one named like the wanted
 * tag, or the platform match. */
static int pick_entry(const char *idx, size_t len, const struct sm_pull_opts *o,
		      const char *want, struct sm_desc *d, char *name, size_t nlen,
		      char *err, size_t errlen)
{
	json_t *root = json_loadb(idx, len, 0, NULL);
	json_t *arr = json_object_get(root, "manifests");
	int rc;

	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		json_decref(root);
		return sm_err(err, errlen, "index.json lists no manifests");
	}
	json_t *e = json_array_size(arr) == 1 ? json_array_get(arr, 0) : entry_named(arr, want);
	if (e) {
		rc = desc_from(e, d, err, errlen);
	} else {
		rc = sm_index_select(idx, len, o->os ? o->os : "linux", o->arch ? o->arch : "amd64",
				     o->variant, d, err, errlen);
		size_t i;
		json_array_foreach(arr, i, e)
			if (!strcmp(json_string_value(json_object_get(e, "digest")) ?: "", d->digest))
				break;
	}
	if (rc == 0 && e)
		entry_name(e, name, nlen);
	json_decref(root);
	return rc;
}

int sm_import_oci(const char *dir, const struct sm_pull_opts *o, const char *want,
		  struct sm_found *f, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct sm_desc d;
	enum sm_doc_kind kind;
	size_t len;

	snprintf(path, sizeof path, "%s/index.json", dir);
	char *idx = sm_read_file(path, SM_MANIFEST_MAX, &len, err, errlen);
	if (!idx)
		return -1;
	int rc = pick_entry(idx, len, o, want, &d, f->name, sizeof f->name, err, errlen);
	free(idx);
	for (int depth = 0; rc == 0 && depth < 3; depth++) {
		free(f->manifest);
		f->manifest = read_blob(dir, &d, &f->manifest_len, err, errlen);
		if (!f->manifest || sm_doc_kind(f->manifest, f->manifest_len, d.media_type, &kind,
						f->media_type, sizeof f->media_type, err, errlen) < 0)
			return -1;
		if (kind == SM_DOC_MANIFEST) {
			snprintf(f->digest, sizeof f->digest, "%s", d.digest);
			return sm_manifest_parse(f->manifest, f->manifest_len, &f->m, err, errlen);
		}
		rc = sm_index_select(f->manifest, f->manifest_len, o->os ? o->os : "linux",
				     o->arch ? o->arch : "amd64", o->variant, &d, err, errlen);
	}
	return rc < 0 ? -1 : sm_err(err, errlen, "indexes nested too deeply");
}

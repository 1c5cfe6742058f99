/* manifest.c - parsing of indexes, manifests and image configs (see
 * manifest.h). Everything read from the network is validated here before
 * the rest of the store trusts it: digests, sizes, media types.
 */
#include "manifest.h"
#include "err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const layer_types[] = {
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+zstd",
	"application/vnd.oci.image.layer.nondistributable.v1.tar",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	"application/vnd.docker.image.rootfs.diff.tar",
	NULL,
};

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

static json_t *load(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, 0, &je);

	if (!root)
		sm_err(err, errlen, "invalid JSON (line %d: %s)", je.line, je.text);
	else if (!json_is_object(root)) {
		json_decref(root);
		root = NULL;
		sm_err(err, errlen, "JSON document is not an object");
	}
	return root;
}

int sm_doc_kind(const char *body, size_t len, const char *content_type,
		enum sm_doc_kind *kind, char *mt_out, size_t mt_len,
		char *err, size_t errlen)
{
	json_t *root = load(body, len, err, errlen);
	if (!root)
		return -1;
	const char *mt = json_string_value(json_object_get(root, "mediaType"));
	/* A generic Content-Type (application/json...) says nothing. */
	if ((!mt || !*mt) && content_type && !strncmp(content_type, "application/vnd.", 16))
		mt = content_type;
	if (!mt)
		mt = json_is_array(json_object_get(root, "manifests"))
			? SM_MT_OCI_INDEX : SM_MT_OCI_MANIFEST;
	snprintf(mt_out, mt_len, "%.*s", (int)strcspn(mt, "; "), mt);
	json_decref(root);
	if (!strcmp(mt_out, SM_MT_OCI_INDEX) || !strcmp(mt_out, SM_MT_DOCKER_LIST))
		*kind = SM_DOC_INDEX;
	else if (!strcmp(mt_out, SM_MT_OCI_MANIFEST) || !strcmp(mt_out, SM_MT_DOCKER_V2))
		*kind = SM_DOC_MANIFEST;
	else if (strstr(mt_out, "manifest.v1"))
		return sm_err(err, errlen, "unsupported manifest media type %s "
			      "(Docker schema 1 is obsolete)", mt_out);
	else
		return sm_err(err, errlen, "unsupported manifest media type \"%s\"", mt_out);
	return 0;
}

static int read_desc(json_t *o, struct sm_desc *d, const char *what,
		     char *err, size_t errlen)
{
	const char *mt = json_string_value(json_object_get(o, "mediaType"));
	const char *dg = json_string_value(json_object_get(o, "digest"));
	json_t *sz = json_object_get(o, "size");

	if (!json_is_object(o) || !dg || !json_is_integer(sz))
		return sm_err(err, errlen, "%s: descriptor lacks digest or size", what);
	if (!sm_digest_valid(dg))
		return sm_err(err, errlen, "%s: unsupported digest \"%s\" (only sha256)", what, dg);
	if (json_integer_value(sz) < 0)
		return sm_err(err, errlen, "%s: negative size", what);
	snprintf(d->media_type, sizeof d->media_type, "%s", mt ? mt : "");
	snprintf(d->digest, sizeof d->digest, "%s", dg);
	d->size = (uint64_t)json_integer_value(sz);
	return 0;
}

static const char *norm_arch(const char *a)
{
	if (a && !strcmp(a, "x86_64"))
		return "amd64";
	if (a && !strcmp(a, "aarch64"))
		return "arm64";
	return a;
}

int sm_platform_score(const char *pos, const char *parch, const char *pvar,
		      const char *os, const char *arch, const char *variant)
{
	parch = norm_arch(parch);
	if (!pos || !parch || strcmp(pos, os) || strcmp(parch, norm_arch(arch)))
		return 0;
	if (variant && *variant)
		return pvar && !strcmp(pvar, variant) ? 2 : 0;
	return pvar && *pvar ? 1 : 2;
}

static int platform_score(json_t *p, const char *os, const char *arch, const char *variant)
{
	return sm_platform_score(json_string_value(json_object_get(p, "os")),
				 json_string_value(json_object_get(p, "architecture")),
				 json_string_value(json_object_get(p, "variant")), os, arch, variant);
}

static void list_platforms(json_t *arr, char *buf, size_t len)
{
	size_t i, off = 0;
	json_t *m;

	buf[0] = '\0';
	json_array_foreach(arr, i, m) {
		json_t *p = json_object_get(m, "platform");
		const char *v = json_string_value(json_object_get(p, "variant"));
		int n = snprintf(buf + off, len - off, "%s%s/%s%s%s", off ? ", " : "",
			 json_string_value(json_object_get(p, "os")) ?: "?",
			 json_string_value(json_object_get(p, "architecture")) ?: "?",
			 v ? "/" : "", v ? v : "");
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

int sm_index_select(const char *body, size_t len, const char *os,
		    const char *arch, const char *variant, struct sm_desc *out,
		    char *err, size_t errlen)
{
	json_t *root = load(body, len, err, errlen), *m, *best = NULL;
	int best_score = 0;
	size_t i;

	if (!root)
		return -1;
	json_t *arr = json_object_get(root, "manifests");
	if (!json_is_array(arr)) {
		json_decref(root);
		return sm_err(err, errlen, "index has no \"manifests\" array");
	}
	json_array_foreach(arr, i, m) {
		int s = platform_score(json_object_get(m, "platform"), os, arch, variant);
		if (s > best_score) {
			best_score = s;
			best = m;
		}
	}
	if (!best) {
		char avail[512];
		list_platforms(arr, avail, sizeof avail);
		sm_err(err, errlen, "no image for platform %s/%s%s%s in index (available: %s)",
		       os, arch, variant && *variant ? "/" : "", variant ? variant : "",
		       *avail ? avail : "none");
		json_decref(root);
		return -1;
	}
	int rc = read_desc(best, out, "index entry", err, errlen);
	json_decref(root);
	return rc;
}

static int read_layers(json_t *arr, struct sm_manifest *m, char *err, size_t errlen)
{
	size_t i;
	json_t *l;

	m->nlayers = json_array_size(arr);
	m->layers = calloc(m->nlayers ? m->nlayers : 1, sizeof *m->layers);
	if (!m->layers)
		return sm_err(err, errlen, "out of memory");
	json_array_foreach(arr, i, l) {
		char what[32];
		snprintf(what, sizeof what, "layer %zu", i);
		if (read_desc(l, &m->layers[i], what, err, errlen) < 0)
			return -1;
		if (!in_list(m->layers[i].media_type, layer_types))
			return sm_err(err, errlen, "layer %zu (%s): unsupported media type \"%s\"",
				      i, m->layers[i].digest, m->layers[i].media_type);
	}
	return 0;
}

int sm_manifest_parse(const char *body, size_t len, struct sm_manifest *m,
		      char *err, size_t errlen)
{
	json_t *root = load(body, len, err, errlen);
	int rc = -1;

	memset(m, 0, sizeof *m);
	if (!root)
		return -1;
	const char *mt = json_string_value(json_object_get(root, "mediaType"));
	snprintf(m->media_type, sizeof m->media_type, "%s", mt ? mt : SM_MT_OCI_MANIFEST);
	json_t *layers = json_object_get(root, "layers");
	if (json_integer_value(json_object_get(root, "schemaVersion")) != 2)
		sm_err(err, errlen, "manifest schemaVersion is not 2");
	else if (read_desc(json_object_get(root, "config"), &m->config, "config", err, errlen) < 0)
		;
	else if (*m->config.media_type && strcmp(m->config.media_type, SM_MT_OCI_CONFIG) &&
		 strcmp(m->config.media_type, SM_MT_DOCKER_CONFIG))
		sm_err(err, errlen, "unsupported config media type \"%s\" (not a container image?)",
		       m->config.media_type);
	else if (!json_is_array(layers))
		sm_err(err, errlen, "manifest has no \"layers\" array");
	else if (m->config.size > SM_CONFIG_MAX)
		sm_err(err, errlen, "config blob too large (%llu bytes)",
		       (unsigned long long)m->config.size);
	else
		rc = read_layers(layers, m, err, errlen);
	json_decref(root);
	if (rc < 0)
		sm_manifest_free(m);
	return rc;
}

void sm_manifest_free(struct sm_manifest *m)
{
	free(m->layers);
	m->layers = NULL;
	m->nlayers = 0;
}

/* A NULL-terminated copy of a JSON array of strings (NULL json -> empty). */
static char **strv_from_json(json_t *arr, size_t *n)
{
	size_t i, k = 0;
	json_t *v;
	char **out = calloc(json_array_size(arr) + 1, sizeof *out);

	if (!out)
		return NULL;
	json_array_foreach(arr, i, v)
		if (json_is_string(v))
			out[k++] = strdup(json_string_value(v));
	*n = k;
	return out;
}

static char **strv_from_keys(json_t *obj, size_t *n)
{
	const char *key;
	json_t *v;
	size_t k = 0;
	char **out = calloc(json_object_size(obj) + 1, sizeof *out);

	if (!out)
		return NULL;
	json_object_foreach(obj, key, v)
		out[k++] = strdup(key);
	*n = k;
	return out;
}

static char *str_or_empty(json_t *v)
{
	return strdup(json_is_string(v) ? json_string_value(v) : "");
}

long sm_config_diff_ids(const char *body, size_t len)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	json_t *ids = json_object_get(json_object_get(root, "rootfs"), "diff_ids");
	long n = json_is_array(ids) ? (long)json_array_size(ids) : -1;

	json_decref(root);
	return n;
}

int sm_config_parse(const char *body, size_t len, struct sm_image_config *c,
		    char *err, size_t errlen)
{
	json_t *root = load(body, len, err, errlen);

	if (!root)
		return sm_err_prefix(err, errlen, "image config: ");
	json_t *cfg = json_object_get(root, "config");
	c->entrypoint = strv_from_json(json_object_get(cfg, "Entrypoint"), &c->n_entrypoint);
	c->cmd = strv_from_json(json_object_get(cfg, "Cmd"), &c->n_cmd);
	c->env = strv_from_json(json_object_get(cfg, "Env"), &c->n_env);
	c->exposed_ports = strv_from_keys(json_object_get(cfg, "ExposedPorts"), &c->n_exposed_ports);
	c->workdir = str_or_empty(json_object_get(cfg, "WorkingDir"));
	c->user = str_or_empty(json_object_get(cfg, "User"));
	c->os = str_or_empty(json_object_get(root, "os"));
	c->arch = str_or_empty(json_object_get(root, "architecture"));
	json_decref(root);
	if (!c->entrypoint || !c->cmd || !c->env || !c->exposed_ports || !c->workdir ||
	    !c->user || !c->os || !c->arch)
		return sm_err(err, errlen, "out of memory reading image config");
	return 0;
}

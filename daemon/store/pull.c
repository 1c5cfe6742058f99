/* pull.c - sm_store_pull: reference -> manifest (through an index for the
 * wanted platform) -> ingest of config and layers from the registry.
 */
#include "store_int.h"
#include "err.h"
#include "ref.h"
#include "registry.h"

#include <stdlib.h>
#include <string.h>

static int registry_fetch(void *ctx, const struct sm_desc *d, const char *partial,
			  sm_progress_fn progress, void *ud, char *err, size_t errlen)
{
	return sm_registry_blob(ctx, d, partial, progress, ud, err, errlen);
}

struct resolved {
	char *body;
	size_t len;
	char media_type[128];
	char digest[SM_DIGEST_LEN];
	struct sm_manifest m;
};

/* Follows at most two index levels down to an image manifest. */
static int resolve(struct sm_registry *reg, const struct sm_ref *ref,
		   const struct sm_pull_opts *o, struct resolved *out, char *err, size_t errlen)
{
	char target[SM_DIGEST_LEN + 130], ctype[128];
	enum sm_doc_kind kind;

	snprintf(target, sizeof target, "%s", sm_ref_target(ref));
	for (int depth = 0; depth < 3; depth++) {
		free(out->body);
		out->body = NULL;
		if (sm_registry_manifest(reg, target, &out->body, &out->len, ctype, sizeof ctype,
					 out->digest, err, errlen) < 0 ||
		    sm_doc_kind(out->body, out->len, ctype, &kind, out->media_type,
				sizeof out->media_type, err, errlen) < 0)
			return -1;
		if (kind == SM_DOC_MANIFEST)
			return sm_manifest_parse(out->body, out->len, &out->m, err, errlen);
		struct sm_desc d;
		if (sm_index_select(out->body, out->len, o->os ? o->os : "linux",
				    o->arch ? o->arch : "amd64", o->variant, &d, err, errlen) < 0)
			return -1;
		snprintf(target, sizeof target, "%s", d.digest);
	}
	return sm_err(err, errlen, "indexes nested too deeply");
}

static int do_pull(struct sm_store *st, const struct sm_ref *ref, const struct sm_pull_opts *o,
		   char *id_out, char *err, size_t errlen)
{
	struct sm_registry reg;
	struct resolved r = { 0 };
	char name[700];

	if (sm_registry_init(&reg, ref, o, err, errlen) < 0)
		return -1;
	int rc = resolve(&reg, ref, o, &r, err, errlen);
	if (rc == 0) {
		sm_ref_name(ref, name, sizeof name);
		struct sm_ingest in = {
			.manifest_digest = r.digest, .manifest_mt = r.media_type,
			.manifest = r.body, .manifest_len = r.len, .m = &r.m,
			.tag = ref->tag[0] ? name : NULL, .parallel = o->parallel,
			.progress = o->progress, .progress_ud = o->progress_ud,
			.cancel = o->cancel,
		};
		struct sm_source src = { registry_fetch, &reg };
		rc = sm_ingest_image(st, &in, &src, err, errlen);
	}
	if (rc == 0 && id_out)
		snprintf(id_out, SM_DIGEST_LEN, "%s", r.digest);
	sm_manifest_free(&r.m);
	free(r.body);
	sm_registry_free(&reg);
	return rc;
}

int sm_store_pull(struct sm_store *st, const char *refstr, const struct sm_pull_opts *opts,
		  char *id_out, char *err, size_t errlen)
{
	static const struct sm_pull_opts defaults;
	struct sm_ref ref;

	if (sm_ref_parse(refstr, &ref, err, errlen) < 0)
		return -1;
	sm_begin_work(st);
	int rc = do_pull(st, &ref, opts ? opts : &defaults, id_out, err, errlen);
	sm_end_work(st);
	return rc < 0 ? sm_err_prefix(err, errlen, "pull %s: ", refstr) : 0;
}

/* images.c - list, inspect, remove, pull and import images.
 *
 * Pull and import read the daemon's NDJSON stream: progress lines go to
 * the caller's callback, the last line is the image or the error.
 */
#include "client/client_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int sm_image_list(sm_client *c, struct sm_image **out, size_t *n)
{
	void *list;
	if (!c || !out || !n)
		return SM_E_INVALID;
	int st = get_list(c, "/v1/images", &image_kind, &list, n);
	*out = list;
	return st;
}

int sm_image_inspect(sm_client *c, const char *name, struct sm_image *out)
{
	json_t *j;
	if (!c || !name || !*name || !out)
		return SM_E_INVALID;
	memset(out, 0, sizeof *out);
	char *path = http_escape_path("/v1/images/", name, "");
	if (!path)
		return SM_E_NOMEM;
	struct http_call call = { .method = "GET", .path = path };
	int st = http_call(c, &call, &j);
	free(path);
	if (st != SM_OK)
		return st;
	if (image_from_json(j, out) < 0) {
		sm_image_free(out);
		st = sm_fail(c, SM_E_PROTOCOL, "an image without an id");
	}
	json_decref(j);
	return st;
}

int sm_image_remove(sm_client *c, const char *name, const struct sm_image_remove_opts *opts)
{
	if (!c || !name || !*name)
		return SM_E_INVALID;
	char *path = http_escape_path("/v1/images/", name, opts && opts->force ? "?force=1" : "");
	if (!path)
		return SM_E_NOMEM;
	struct http_call call = { .method = "DELETE", .path = path };
	int st = http_call(c, &call, NULL);
	free(path);
	return st;
}

struct job {
	sm_client *c;
	sm_progress_fn progress;
	void *ud;
	json_t *image;      /* the final image line's image */
	json_t *error;      /* or the final error */
};

static int on_job_line(json_t *line, void *ud)
{
	struct job *jb = ud;
	const char *type = json_string_value(json_object_get(line, "type"));
	if (!type)
		return 0;
	if (!strcmp(type, "image")) {
		jb->image = json_incref(json_object_get(line, "image"));
	} else if (!strcmp(type, "error")) {
		jb->error = json_incref(json_object_get(line, "error"));
	} else if (!strcmp(type, "progress") && jb->progress) {
		struct sm_progress_event ev = {
			.digest = json_string_value(json_object_get(line, "digest")),
			.phase = json_string_value(json_object_get(line, "phase")),
			.done = (uint64_t)json_integer_value(json_object_get(line, "done")),
			.total = (uint64_t)json_integer_value(json_object_get(line, "total")),
		};
		if (ev.digest && ev.phase && jb->progress(&ev, jb->ud))
			return SM_E_STOPPED;
	}
	return 0;
}

/* Runs one job stream and turns its last line into the result. */
static int run_job(sm_client *c, struct http_call *call, struct job *jb, struct sm_image *out)
{
	call->on_line = on_job_line;
	call->ud = jb;
	int st = http_call(c, call, NULL);
	if (st == SM_OK && jb->error) {
		const char *code = json_string_value(json_object_get(jb->error, "code"));
		const char *msg = json_string_value(json_object_get(jb->error, "message"));
		snprintf(c->errcode, sizeof c->errcode, "%s", code ? code : "");
		st = sm_fail(c, SM_E_FAILED, "%s", msg ? msg : "failed");
	} else if (st == SM_OK && !jb->image) {
		st = sm_fail(c, SM_E_PROTOCOL, "the stream ended without a result "
			     "(did supermachined stop?)");
	} else if (st == SM_OK && out && image_from_json(jb->image, out) < 0) {
		sm_image_free(out);
		st = sm_fail(c, SM_E_PROTOCOL, "an image without an id");
	}
	json_decref(jb->image);
	json_decref(jb->error);
	return st;
}

int sm_image_pull(sm_client *c, const char *ref, const struct sm_image_pull_opts *opts,
		  struct sm_image *out)
{
	struct sm_image_pull_opts zero = { 0 };
	if (!c || !ref || !*ref)
		return SM_E_INVALID;
	if (out)
		memset(out, 0, sizeof *out);
	if (!opts)
		opts = &zero;
	json_t *body = json_pack("{s:s,s:s*,s:s*,s:s*}", "reference", ref,
				 "platform", opts->platform, "username", opts->username,
				 "password", opts->password);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	struct http_call call = { .method = "POST", .path = "/v1/images/pull",
				  .content_type = "application/json",
				  .body = text, .body_len = strlen(text) };
	struct job jb = { .c = c, .progress = opts->progress, .ud = opts->progress_ud };
	int st = run_job(c, &call, &jb, out);
	free(text);
	return st;
}

/* "/v1/images/import?filename=F[&tag=T][&ref=R][&platform=P]". */
static char *import_query(const char *path, const struct sm_image_import_opts *o)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *keys[] = { "&tag=", "&ref=", "&platform=" };
	const char *vals[] = { o->tag, o->ref, o->platform };
	char *q = http_escape_path("/v1/images/import?filename=", base, "");
	for (size_t i = 0; q && i < 3; i++) {
		if (!vals[i])
			continue;
		char *prefix = malloc(strlen(q) + strlen(keys[i]) + 1);
		if (prefix)
			sprintf(prefix, "%s%s", q, keys[i]);
		free(q);
		q = prefix ? http_escape_path(prefix, vals[i], "") : NULL;
		free(prefix);
	}
	return q;
}

static int import_upload(sm_client *c, const char *path, const struct sm_image_import_opts *o,
			 struct job *jb, struct sm_image *out)
{
	struct stat st;
	FILE *f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = f ? EISDIR : errno;
		if (f)
			fclose(f);
		return sm_fail(c, SM_E_INVALID, "%s: %s (uploads must be tar files)", path,
			       strerror(e));
	}
	char *qpath = import_query(path, o);
	struct http_call call = { .method = "POST", .path = qpath,
				  .content_type = "application/x-tar",
				  .upload = f, .upload_len = (long)st.st_size };
	int rc = qpath ? run_job(c, &call, jb, out) : SM_E_NOMEM;
	free(qpath);
	fclose(f);
	return rc;
}

static int import_path(sm_client *c, const char *path, const struct sm_image_import_opts *o,
		       struct job *jb, struct sm_image *out)
{
	char abs[PATH_MAX];
	if (!realpath(path, abs))
		return sm_fail(c, SM_E_INVALID, "%s: %s", path, strerror(errno));
	json_t *body = json_pack("{s:s,s:s*,s:s*,s:s*}", "path", abs, "tag", o->tag, "ref", o->ref,
				 "platform", o->platform);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return sm_fail(c, SM_E_NOMEM, "out of memory");
	struct http_call call = { .method = "POST", .path = "/v1/images/import",
				  .content_type = "application/json",
				  .body = text, .body_len = strlen(text) };
	int rc = run_job(c, &call, jb, out);
	free(text);
	return rc;
}

int sm_image_import(sm_client *c, const char *path, const struct sm_image_import_opts *opts,
		    struct sm_image *out)
{
	struct sm_image_import_opts zero = { 0 };
	if (!c || !path || !*path)
		return SM_E_INVALID;
	if (out)
		memset(out, 0, sizeof *out);
	if (!opts)
		opts = &zero;
	struct job jb = { .c = c, .progress = opts->progress, .ud = opts->progress_ud };
	return opts->upload ? import_upload(c, path, opts, &jb, out)
			    : import_path(c, path, opts, &jb, out);
}

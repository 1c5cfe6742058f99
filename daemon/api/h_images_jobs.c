/* h_images_jobs.c - POST /v1/images/pull and POST /v1/images/import.
 *
 * Both are long, so the request is checked synchronously (bad input is a
 * plain 400) and the work then runs on its own thread, reporting through
 * an NDJSON stream:
 *   {"type":"start", ...}
 *   {"type":"progress","digest":"sha256:…","phase":"download","done":N,"total":M}
 *   ... and last either {"type":"image","image":{…inspect…}}
 *                    or {"type":"error","error":{"code":"…","message":"…"}}.
 * Download progress is thinned to one event per blob per PROGRESS_MS. A
 * client that hangs up does not cancel the work: the image still lands in
 * the store and the event feed still announces it. A daemon that stops
 * does cancel pulls (their streams end with the error).
 */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/api/events.h"
#include "daemon/api/handlers.h"
#include "daemon/api/images_json.h"
#include "daemon/api/json_in.h"
#include "daemon/api/log.h"
#include "daemon/api/metrics.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"
#include "daemon/api/stream.h"
#include "daemon/store/ref.h"
#include "daemon/store/store.h"

#define PROGRESS_MS 100
#define JOB_MAX_PENDING (4u << 20)
#define MAX_BLOBS 128
#define ERRLEN 1024

struct seen_blob {
	char digest[72];
	uint64_t done;
	long last_ms;
};

struct image_job {
	struct api_server *srv;
	struct stream *s;
	bool is_import;
	char *ref;           /* pull: canonical reference; import: tag or NULL */
	char *path;          /* import: file or directory */
	bool path_is_upload; /* import: ours to delete */
	char *import_ref;    /* import: the layout ref to take, or NULL */
	char *source_name;   /* import: an upload's file name, or NULL */
	char *os, *arch, *variant, *username, *password;
	pthread_mutex_t mu;  /* progress arrives from download threads */
	struct seen_blob seen[MAX_BLOBS];
	size_t n_seen;
};

static void job_free(struct image_job *j)
{
	if (j->path_is_upload && j->path)
		unlink(j->path);
	stream_unref(j->s);
	pthread_mutex_destroy(&j->mu);
	free(j->ref);
	free(j->path);
	free(j->import_ref);
	free(j->source_name);
	free(j->os);
	free(j->username);
	free(j->password);
	free(j);
}

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Whether to pass this event on; counts downloaded bytes on the way. */
static bool keep_progress(struct image_job *j, const struct sm_progress *ev)
{
	size_t i = 0;
	while (i < j->n_seen && strcmp(j->seen[i].digest, ev->digest) != 0)
		i++;
	if (i == j->n_seen) {
		if (i == MAX_BLOBS)
			return true;
		snprintf(j->seen[i].digest, sizeof j->seen[i].digest, "%s", ev->digest);
		j->n_seen++;
	}
	struct seen_blob *b = &j->seen[i];
	if (strcmp(ev->phase, "download") != 0)
		return true;
	if (!j->is_import && ev->done > b->done)
		metrics_pull_bytes(j->srv->metrics, ev->done - b->done);
	b->done = ev->done;
	long now = mono_ms();
	if (ev->done < ev->total && now - b->last_ms < PROGRESS_MS)
		return false;
	b->last_ms = now;
	return true;
}

static void on_progress(const struct sm_progress *ev, void *ud)
{
	struct image_job *j = ud;
	pthread_mutex_lock(&j->mu);
	bool keep = keep_progress(j, ev);
	pthread_mutex_unlock(&j->mu);
	if (!keep)
		return;
	json_t *line = json_pack("{s:s,s:s,s:s,s:I,s:I}", "type", "progress",
				 "digest", ev->digest, "phase", ev->phase,
				 "done", (json_int_t)ev->done, "total", (json_int_t)ev->total);
	if (line)
		stream_push(j->s, line); /* fails only if the client left: fine */
	json_decref(line);
}

static void job_finish(struct image_job *j, int rc, const char *id, const char *err)
{
	char ierr[ERRLEN];
	h_images_changed(j->srv);   /* even a failed import may have tagged */
	json_t *img = rc == 0 ? image_detail_json(j->srv->cfg.store, id, ierr, sizeof ierr) : NULL;
	json_t *line;
	if (img) {
		line = json_pack("{s:s,s:o}", "type", "image", "image", img);
	} else {
		json_t *e = error_json(j->is_import ? "import_failed" : "pull_failed",
				       rc == 0 ? ierr : err);
		line = json_pack("{s:s,s:O}", "type", "error", "error", json_object_get(e, "error"));
		json_decref(e);
	}
	stream_push_final(j->s, line);
	json_decref(line);
	stream_end(j->s);
	metrics_image_job(j->srv->metrics, j->is_import, rc == 0);
	if (rc == 0)
		events_publish(j->srv->events, j->is_import ? "image.imported" : "image.pulled",
			       json_pack("{s:s,s:s*}", "id", id, "reference", j->ref));
	else
		sm_log("%s %s failed: %s", j->is_import ? "import of" : "pull of",
		       j->is_import ? j->path : j->ref, err);
}

static void *job_main(void *arg)
{
	struct image_job *j = arg;
	struct api_server *srv = j->srv;
	char id[80] = "", err[ERRLEN] = "";
	struct sm_pull_opts o = {
		.os = j->os, .arch = j->arch, .variant = j->variant,
		.insecure = srv->cfg.insecure_registries,
		.username = j->username, .password = j->password,
		.progress = on_progress, .progress_ud = j,
		.ref = j->import_ref, .source_name = j->source_name,
		.cancel = &srv->stopping,
	};
	int rc = j->is_import
		 ? sm_store_import(srv->cfg.store, j->path, j->ref, &o, id, err, sizeof err)
		 : sm_store_pull(srv->cfg.store, j->ref, &o, id, err, sizeof err);
	job_finish(j, rc, id, err);
	job_free(j);
	server_job_end(srv);
	return NULL;
}

/* Starts j on its own thread and answers with its stream. */
static void start_job(struct api_req *r, struct image_job *j, json_t *first)
{
	pthread_t t;
	pthread_attr_t attr;
	stream_push(j->s, first);
	json_decref(first);
	reply_stream(r, j->s);
	server_job_begin(r->srv);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, job_main, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		job_finish(j, -1, "", "could not start a thread for the job");
		job_free(j);
		server_job_end(r->srv);
	}
}

static struct image_job *job_new(struct api_req *r, bool is_import)
{
	struct image_job *j = calloc(1, sizeof *j);
	/* No shutdown fd: on a stop the stream stays until the cancelled job
	 * has pushed its last line (or the server gives up and cuts it). */
	if (!j || !(j->s = stream_new(-1, JOB_MAX_PENDING))) {
		free(j);
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return NULL;
	}
	j->srv = r->srv;
	j->is_import = is_import;
	pthread_mutex_init(&j->mu, NULL);
	return j;
}

/* "os/arch[/variant]" into j (one allocation, owned by j->os). */
static int set_platform(struct api_req *r, struct image_job *j, const char *platform)
{
	if (!platform)
		return 0;
	j->os = strdup(platform);
	char *slash = j->os ? strchr(j->os, '/') : NULL;
	if (!slash || slash == j->os || !slash[1]) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"platform\" must look like \"linux/amd64\" or "
			    "\"linux/arm64/v8\"");
		return -1;
	}
	*slash = 0;
	j->arch = slash + 1;
	if ((slash = strchr(j->arch, '/'))) {
		*slash = 0;
		j->variant = slash + 1;
	}
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void h_images_pull(struct api_req *r)
{
	static const char *const no_query[] = { NULL };
	static const struct jin_field fields[] = {
		{ "reference", JIN_STRING, true },
		{ "platform", JIN_STRING, false },
		{ "username", JIN_STRING, false },
		{ "password", JIN_STRING, false },
		{ NULL, 0, false },
	};
	struct sm_ref ref;
	char err[ERRLEN], canon[700];
	if (query_check(r, no_query))
		return;
	json_t *body = json_in_parse(r, fields);
	if (!body)
		return;
	struct image_job *j = NULL;
	if (sm_ref_parse(jin_str(body, "reference"), &ref, err, sizeof err) < 0) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_reference", "%s", err);
	} else if (!!jin_str(body, "username") != !!jin_str(body, "password")) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "fields \"username\" and \"password\" go together");
	} else if ((j = job_new(r, false)) && set_platform(r, j, jin_str(body, "platform")) == 0) {
		sm_ref_name(&ref, canon, sizeof canon);
		j->ref = strdup(canon);
		j->username = dup_or_null(jin_str(body, "username"));
		j->password = dup_or_null(jin_str(body, "password"));
		start_job(r, j, json_pack("{s:s,s:s}", "type", "start", "reference", canon));
		j = NULL;
	}
	if (j)
		job_free(j);
	json_decref(body);
}

/* Import from a path named in a JSON body. */
static struct image_job *import_from_json(struct api_req *r)
{
	static const struct jin_field fields[] = {
		{ "path", JIN_STRING, true },
		{ "tag", JIN_STRING, false },
		{ "ref", JIN_STRING, false },
		{ "platform", JIN_STRING, false },
		{ NULL, 0, false },
	};
	static const char *const no_query[] = { NULL };
	struct stat st;
	if (query_check(r, no_query))
		return NULL;
	json_t *body = json_in_parse(r, fields);
	if (!body)
		return NULL;
	const char *path = jin_str(body, "path");
	struct image_job *j = NULL;
	if (path[0] != '/')
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"path\" must be an absolute path");
	else if (stat(path, &st) < 0)
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"path\": %s: %s", path, strerror(errno));
	else if ((j = job_new(r, true))) {
		j->path = strdup(path);
		j->ref = dup_or_null(jin_str(body, "tag"));
		j->import_ref = dup_or_null(jin_str(body, "ref"));
		if (set_platform(r, j, jin_str(body, "platform")) < 0) {
			job_free(j);
			j = NULL;
		}
	}
	json_decref(body);
	return j;
}

/* Import from an uploaded tar (the body, already in a file). */
static struct image_job *import_from_upload(struct api_req *r)
{
	static const char *const allowed[] = { "tag", "ref", "platform", "filename", NULL };
	if (query_check(r, allowed))
		return NULL;
	if (r->body_len == 0) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_body", "the uploaded tar is empty");
		return NULL;
	}
	struct image_job *j = job_new(r, true);
	if (!j)
		return NULL;
	j->path = r->upload_path;          /* the job deletes it when done */
	j->path_is_upload = true;
	r->upload_path = NULL;
	j->ref = dup_or_null(req_query(r, "tag"));
	j->import_ref = dup_or_null(req_query(r, "ref"));
	j->source_name = dup_or_null(req_query(r, "filename"));
	if (set_platform(r, j, req_query(r, "platform")) < 0) {
		job_free(j);
		return NULL;
	}
	return j;
}

/* A layout ref: 1-255 printable characters (the OCI spec's ref.name
 * grammar is looser than a tag's, so no more is asked). */
static bool ref_ok(const char *ref)
{
	size_t n = strlen(ref);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)ref[i] < 0x21 || ref[i] == 0x7f)
			return false;
	return n > 0 && n < 256;
}

void h_images_import(struct api_req *r)
{
	struct image_job *j = r->body_is_tar ? import_from_upload(r) : import_from_json(r);
	if (!j)
		return;
	if (j->import_ref && !ref_ok(j->import_ref)) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "ref must be 1-255 printable characters without spaces");
		job_free(j);
		return;
	}
	if (j->ref) {
		struct sm_ref ref;
		char err[ERRLEN];
		if (sm_ref_parse(j->ref, &ref, err, sizeof err) < 0) {
			reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_reference", "tag: %s", err);
			job_free(j);
			return;
		}
	}
	start_job(r, j, json_pack("{s:s,s:s*}", "type", "start", "tag", j->ref));
}

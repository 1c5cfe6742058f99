/* blobfetch.c - streaming a registry blob into a partial file.
 *
 * The partial file (tmp/<hex>.partial) survives crashes and failed
 * attempts: its bytes are re-hashed on start and the rest is requested with
 * Range. A 200 answer to a Range request restarts from zero; a 206 must
 * start exactly where we are. sha256 is computed as bytes arrive and the
 * blob is accepted only when size and digest match the descriptor; on a
 * mismatch the file is deleted (so nothing bad is ever resumed from).
 */
#include "registry.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct blobdl {
	int fd;
	struct sm_hash hash;
	uint64_t offset, expected, last_report;
	const struct sm_desc *d;
	sm_progress_fn progress;
	void *ud;
};

static void report(struct blobdl *b, int force)
{
	if (!b->progress || (!force && b->offset - b->last_report < (1u << 19)))
		return;
	struct sm_progress ev = { b->d->digest, "download", b->offset, b->expected };
	b->last_report = b->offset;
	b->progress(&ev, b->ud);
}

static int restart(struct blobdl *b)
{
	sm_hash_free(&b->hash);
	b->offset = 0;
	if (ftruncate(b->fd, 0) < 0 || lseek(b->fd, 0, SEEK_SET) < 0)
		return -1;
	return sm_hash_init(&b->hash);
}

static int dl_begin(struct sm_xfer *x)
{
	struct blobdl *b = x->sink.ud;

	if (x->status == 200 && b->offset > 0 && restart(b) < 0) {
		snprintf(x->sink_err, sizeof x->sink_err, "truncate: %s", strerror(errno));
		return -1;
	}
	if (x->status == 206) {
		uint64_t start = UINT64_MAX;
		sscanf(x->content_range, "bytes %" SCNu64, &start);
		if (start != b->offset) {
			snprintf(x->sink_err, sizeof x->sink_err, "resume at %" PRIu64
				 " answered with Content-Range \"%s\"", b->offset, x->content_range);
			return -1;
		}
	}
	return 0;
}

static int dl_write(struct sm_xfer *x, const char *p, size_t n)
{
	struct blobdl *b = x->sink.ud;

	if (b->offset + n > b->expected) {
		snprintf(x->sink_err, sizeof x->sink_err, "blob %s is larger than the %" PRIu64
			 " bytes its descriptor says", b->d->digest, b->expected);
		return -1;
	}
	for (size_t done = 0; done < n;) {
		ssize_t w = write(b->fd, p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(x->sink_err, sizeof x->sink_err, "write: %s", strerror(errno));
			return -1;
		}
		done += (size_t)w;
	}
	sm_hash_update(&b->hash, p, n);
	b->offset += n;
	report(b, 0);
	return 0;
}

static int dl_range(struct sm_xfer *x, CURL *c, struct curl_slist **h)
{
	struct blobdl *b = x->sink.ud;
	char hdr[64];

	(void)c;
	if (b->offset == 0)
		return 0;
	snprintf(hdr, sizeof hdr, "Range: bytes=%" PRIu64 "-", b->offset);
	*h = curl_slist_append(NULL, hdr);
	return *h ? 0 : -1;
}

/* Hashes what an earlier attempt left in the partial file. */
static int absorb_existing(struct blobdl *b, char *err, size_t errlen)
{
	static __thread char buf[1 << 16];
	struct stat st;
	ssize_t n;

	if (fstat(b->fd, &st) < 0)
		return sm_err(err, errlen, "stat: %s", strerror(errno));
	if ((uint64_t)st.st_size > b->expected)
		return restart(b) < 0 ? sm_err(err, errlen, "truncate: %s", strerror(errno)) : 0;
	while ((n = read(b->fd, buf, sizeof buf)) > 0) {
		sm_hash_update(&b->hash, buf, (size_t)n);
		b->offset += (uint64_t)n;
	}
	if (n < 0)
		return sm_err(err, errlen, "read: %s", strerror(errno));
	return 0;
}

static int download(struct sm_registry *r, struct blobdl *b, char *err, size_t errlen)
{
	struct sm_xfer x = { .sink = { dl_begin, dl_write, b } };
	char url[1024];
	CURL *c;

	if (b->offset == b->expected)
		return 0;
	if (!(c = curl_easy_init()))
		return sm_err(err, errlen, "out of memory");
	snprintf(url, sizeof url, "%s/v2/%s/blobs/%s", r->base, r->repo, b->d->digest);
	int rc = sm_registry_request(r, c, url, NULL, &x, dl_range, err, errlen);
	curl_easy_cleanup(c);
	if (rc == 0 && b->offset != b->expected)
		rc = sm_err(err, errlen, "GET %s: got %" PRIu64 " of %" PRIu64 " bytes", url,
			    b->offset, b->expected);
	return rc;
}

/* One pass: 0 ok, -1 failed, 1 digest mismatch after resuming (retry). */
static int fetch_once(struct sm_registry *r, const struct sm_desc *d, const char *path,
		      sm_progress_fn progress, void *ud, char *err, size_t errlen)
{
	struct blobdl b = { .d = d, .expected = d->size, .progress = progress, .ud = ud };
	char got[SM_DIGEST_LEN];
	int rc = -1;

	b.fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (b.fd < 0)
		return sm_err(err, errlen, "open %s: %s", path, strerror(errno));
	if (sm_hash_init(&b.hash) < 0) {
		close(b.fd);
		return sm_err(err, errlen, "sha256 init failed");
	}
	if (absorb_existing(&b, err, errlen) < 0)
		goto out;
	uint64_t resumed_from = b.offset;
	if (download(r, &b, err, errlen) < 0)
		goto out;
	sm_hash_final(&b.hash, got);
	if (strcmp(got, d->digest)) {
		unlink(path);
		sm_err(err, errlen, "digest mismatch for blob %s: expected %s, got %s",
		       d->digest, d->digest, got);
		rc = resumed_from > 0 ? 1 : -1;
		goto out;
	}
	if (fsync(b.fd) < 0) {
		sm_err(err, errlen, "fsync %s: %s", path, strerror(errno));
		goto out;
	}
	report(&b, 1);
	rc = 0;
out:
	sm_hash_free(&b.hash);
	close(b.fd);
	return rc;
}

int sm_registry_blob(struct sm_registry *r, const struct sm_desc *d,
		     const char *partial_path, sm_progress_fn progress, void *ud,
		     char *err, size_t errlen)
{
	int rc = fetch_once(r, d, partial_path, progress, ud, err, errlen);

	/* Bytes kept from an earlier run were bad: start over once. */
	if (rc == 1)
		rc = fetch_once(r, d, partial_path, progress, ud, err, errlen);
	return rc == 0 ? 0 : -1;
}

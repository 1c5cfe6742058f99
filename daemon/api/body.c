/* body.c - bounded request bodies (see body.h). */
#include "daemon/api/body.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "daemon/api/reply.h"
#include "daemon/api/router.h"

static size_t body_limit(const struct api_req *r)
{
	return r->body_is_tar ? r->srv->cfg.max_upload_bytes : r->srv->cfg.max_body_bytes;
}

static int open_upload(struct api_req *r)
{
	if (asprintf(&r->upload_path, "%s/uploads/upload-XXXXXX", r->srv->cfg.data_dir) < 0) {
		r->upload_path = NULL;
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return -1;
	}
	r->upload_fd = mkostemp(r->upload_path, O_CLOEXEC);
	if (r->upload_fd < 0) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
			    "creating %s: %s", r->upload_path, strerror(errno));
		free(r->upload_path);
		r->upload_path = NULL;
		return -1;
	}
	return 0;
}

int body_begin(struct api_req *r)
{
	const struct route *rt = &api_routes[r->route_idx];
	const char *ctype = req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	r->upload_fd = -1;
	if (rt->body == BODY_JSON_OR_TAR && ctype &&
	    strncasecmp(ctype, "application/x-tar", 17) == 0)
		r->body_is_tar = true;
	if (rt->body == BODY_RAW)
		r->body_is_tar = true;   /* spooled the same way */
	const char *clen = req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (clen) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(clen, &end, 10);
		if (!errno && !*end && n > body_limit(r)) {
			reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large",
				    "request body of %llu bytes is over the limit of %zu bytes",
				    n, body_limit(r));
			return -1;
		}
	}
	return r->body_is_tar ? open_upload(r) : 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int body_feed(struct api_req *r, const char *data, size_t n)
{
	if (r->too_large || r->body_len + n > body_limit(r)) {
		r->too_large = true;  /* keep reading, keep nothing */
		r->body_len += n;
		return 0;
	}
	if (r->body_is_tar) {
		if (!r->upload_errno && write_all(r->upload_fd, data, n) < 0)
			r->upload_errno = errno;   /* keep reading; answer at the end */
		r->body_len += n;
		return 0;
	}
	if (r->body_len + n + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap * 2 : 4096;
		while (cap < r->body_len + n + 1)
			cap *= 2;
		char *grown = realloc(r->body, cap);
		if (!grown)
			return -1;
		r->body = grown;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	r->body[r->body_len] = 0;
	return 0;
}

int body_finish(struct api_req *r)
{
	if (r->upload_errno) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
			    "spooling the upload to %s: %s", r->upload_path,
			    strerror(r->upload_errno));
		return -1;
	}
	if (!r->too_large)
		return 0;
	reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large",
		    "request body is over the limit of %zu bytes", body_limit(r));
	return -1;
}

void body_free(struct api_req *r)
{
	free(r->body);
	r->body = NULL;
	if (r->upload_fd >= 0)
		close(r->upload_fd);
	r->upload_fd = -1;
	if (r->upload_path) {
		unlink(r->upload_path);  /* import has read it by now */
		free(r->upload_path);
		r->upload_path = NULL;
	}
}

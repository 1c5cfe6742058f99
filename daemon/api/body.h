/* body.h - read a request body while it arrives, within the limits.
 *
 * The route, picked from the headers, says what body it takes. A
 * Content-Length over the limit is refused (413) before any of the body
 * is read; a chunked body that grows past it is discarded as it arrives
 * and refused when it ends, so memory stays bounded either way. JSON goes
 * to memory (max_body_bytes); an image tar (Content-Type
 * application/x-tar on routes that take one) goes to a file under the
 * data dir (max_upload_bytes).
 */
#ifndef SM_API_BODY_H
#define SM_API_BODY_H

#include <stddef.h>

#include "daemon/api/server.h"

/* On the headers: 0, or -1 after replying. */
int body_begin(struct api_req *r);

/* Each chunk: 0, or -1 on a fault that must drop the connection. */
int body_feed(struct api_req *r, const char *data, size_t n);

/* Whole body read: 0, or -1 after replying 413. */
int body_finish(struct api_req *r);

void body_free(struct api_req *r);

#endif

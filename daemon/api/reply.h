/* reply.h - every answer the API gives goes through here.
 *
 * JSON bodies are compact jansson dumps; errors are
 * {"error":{"code":"...","message":"..."}}. Each request is answered
 * exactly once: a second reply is a bug and is logged, not sent.
 */
#ifndef SM_API_REPLY_H
#define SM_API_REPLY_H

#include <jansson.h>

#include "daemon/api/server.h"

struct stream;

/* Takes the reference to body. */
void reply_json(struct api_req *r, unsigned status, json_t *body);

void reply_error(struct api_req *r, unsigned status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Takes buf (malloc'd). */
void reply_text(struct api_req *r, unsigned status, const char *content_type,
		char *buf, size_t len);

/* 200 with an NDJSON body read from s (the response takes its own
 * reference; the caller keeps its own). */
void reply_stream(struct api_req *r, struct stream *s);
/* The same with another content type (a body of raw bytes or frames). */
void reply_stream_as(struct api_req *r, struct stream *s, const char *content_type);

/* Queues a response built elsewhere (takes it; NULL is a 500). */
struct MHD_Response;
void reply_response(struct api_req *r, unsigned status, struct MHD_Response *resp);

/* 405 with the Allow header. */
void reply_bad_method(struct api_req *r, const char *allow);

/* {"error":{...}} as a JSON value (an error answer's body). */
json_t *error_json(const char *code, const char *message);
/* {"code":…,"message":…}: the error object itself, for the "error" of a
 * stream's {"type":"error","error":{…}} event. */
json_t *error_obj(const char *code, const char *message);

#endif

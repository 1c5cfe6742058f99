/* reply.c - build and queue responses (see reply.h). */
#include "daemon/api/reply.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/api/log.h"
#include "daemon/api/stream.h"

static void queue(struct api_req *r, unsigned status, struct MHD_Response *resp)
{
	if (!resp) {
		sm_log("error: out of memory building a %u response", status);
		return;
	}
	MHD_add_response_header(resp, "Server", "supermachined/" SM_VERSION);
	if (r->replied) {
		sm_log("error: second reply (%u) to one request; dropped", status);
	} else if (MHD_queue_response(r->conn, status, resp) != MHD_YES) {
		sm_log("error: could not queue a %u response", status);
	} else {
		r->replied = true;
		r->status = status;
	}
	MHD_destroy_response(resp);
}

void reply_response(struct api_req *r, unsigned status, struct MHD_Response *resp)
{
	queue(r, status, resp);
}

void reply_text(struct api_req *r, unsigned status, const char *content_type,
		char *buf, size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(buf);
		return;
	}
	MHD_add_response_header(resp, "Content-Type", content_type);
	queue(r, status, resp);
}

/* body as one line of JSON text (malloc'd); takes the reference. */
static char *json_line(json_t *body, size_t *len)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return NULL;
	*len = strlen(text);
	char *line = realloc(text, *len + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	line[(*len)++] = '\n';
	line[*len] = 0;
	return line;
}

static struct MHD_Response *json_response(json_t *body)
{
	size_t len;
	char *text = json_line(body, &len);
	if (!text)
		return NULL;
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return NULL;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return resp;
}

void reply_json(struct api_req *r, unsigned status, json_t *body)
{
	queue(r, status, json_response(body));
}

json_t *error_obj(const char *code, const char *message)
{
	return json_pack("{s:s,s:s}", "code", code, "message", message);
}

json_t *error_json(const char *code, const char *message)
{
	return json_pack("{s:o}", "error", error_obj(code, message));
}

void reply_error(struct api_req *r, unsigned status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (status >= 500)
		sm_log("error: %s %s: %s", r->method, code, msg);
	reply_json(r, status, error_json(code, msg));
}

void reply_bad_method(struct api_req *r, const char *allow)
{
	char msg[256];
	snprintf(msg, sizeof msg, "method %s not allowed here; allowed: %s", r->method, allow);
	struct MHD_Response *resp = json_response(error_json("method_not_allowed", msg));
	if (resp)
		MHD_add_response_header(resp, "Allow", allow);
	queue(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

void reply_stream(struct api_req *r, struct stream *s)
{
	reply_stream_as(r, s, "application/x-ndjson");
}

void reply_stream_as(struct api_req *r, struct stream *s, const char *content_type)
{
	struct MHD_Response *resp = stream_response(s, req_conn_fd(r));
	if (!resp)
		return;
	MHD_add_response_header(resp, "Content-Type", content_type);
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	queue(r, MHD_HTTP_OK, resp);
}

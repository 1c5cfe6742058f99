/* h_events.c - GET /v1/events: the lifecycle event feed, as NDJSON.
 *
 * ?type=PREFIX keeps only events whose type starts with PREFIX ("image."
 * for image events). The stream stays open until the client goes away or
 * the daemon stops; each subscriber may fall up to EVENTS_MAX_PENDING
 * bytes behind before it is dropped.
 */
#include <microhttpd.h>

#include "daemon/api/events.h"
#include "daemon/api/handlers.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"
#include "daemon/api/stream.h"

#define EVENTS_MAX_PENDING (1u << 20)

void h_events(struct api_req *r)
{
	static const char *const allowed[] = { "type", NULL };
	if (query_check(r, allowed))
		return;
	struct stream *s = stream_new(r->srv->shutdown_fd, EVENTS_MAX_PENDING);
	if (!s || events_subscribe(r->srv->events, s, req_query(r, "type")) < 0) {
		if (s)
			stream_unref(s);
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return;
	}
	reply_stream(r, s);
	stream_unref(s);
}

/* events.h - the lifecycle event bus behind GET /v1/events.
 *
 * Publishers (image handlers now, VM supervision later) hand over a JSON
 * object; the bus stamps it with "type", "time" (RFC 3339, UTC, ms) and a
 * daemon-wide "seq", and pushes one line to every subscriber's stream.
 * A subscriber whose client reads too slowly to keep up (its stream's cap
 * is reached) gets a final error line and is dropped; the others are not
 * held back by it.
 */
#ifndef SM_API_EVENTS_H
#define SM_API_EVENTS_H

#include <jansson.h>
#include <stddef.h>

struct events;
struct stream;

struct events *events_new(void);
void events_free(struct events *ev);

/* Takes the reference to fields (NULL for none). */
void events_publish(struct events *ev, const char *type, json_t *fields);

/* Adds s to the subscribers until its response is freed. filter is a
 * type prefix ("image." ) or NULL for every event. */
int events_subscribe(struct events *ev, struct stream *s, const char *filter);

size_t events_subscribers(struct events *ev);

#endif

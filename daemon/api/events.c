/* events.c - fan lifecycle events out to subscribed streams (events.h). */
#include "daemon/api/events.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/api/reply.h"
#include "daemon/api/stream.h"

struct sub {
	struct sub *next;
	struct stream *s;
	char *filter;
	struct events *ev;
};

struct events {
	pthread_mutex_t mu;
	struct sub *subs;
	size_t n_subs;
	uint64_t seq;
};

struct events *events_new(void)
{
	struct events *ev = calloc(1, sizeof *ev);
	if (ev)
		pthread_mutex_init(&ev->mu, NULL);
	return ev;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	/* Subscribers are gone: their responses are freed before this. */
	pthread_mutex_destroy(&ev->mu);
	free(ev);
}

static void stamp(json_t *obj, const char *type, uint64_t seq)
{
	struct timespec ts;
	struct tm tm;
	char when[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);
	json_object_set_new(obj, "type", json_string(type));
	json_object_set_new(obj, "time", json_string(when));
	json_object_set_new(obj, "seq", json_integer((json_int_t)seq));
}

static void unlink_sub(struct events *ev, struct sub *dead)
{
	for (struct sub **p = &ev->subs; *p; p = &(*p)->next) {
		if (*p == dead) {
			*p = dead->next;
			ev->n_subs--;
			return;
		}
	}
}

void events_publish(struct events *ev, const char *type, json_t *fields)
{
	json_t *obj = fields ? fields : json_object();
	if (!obj)
		return;
	pthread_mutex_lock(&ev->mu);
	stamp(obj, type, ++ev->seq);
	char *line = json_dumps(obj, JSON_COMPACT);   /* once for everyone */
	size_t len = line ? strlen(line) : 0;
	for (struct sub *s = ev->subs; line && s; s = s->next) {
		if (s->filter && strncmp(type, s->filter, strlen(s->filter)) != 0)
			continue;
		if (stream_push_line(s->s, line, len) == 0 || stream_reader_gone(s->s))
			continue;
		json_t *e = error_json("too_slow", "the client fell too far behind; "
				       "events were dropped and this stream is ended");
		stream_push_final(s->s, e);
		json_decref(e);
		stream_end(s->s);
	}
	pthread_mutex_unlock(&ev->mu);
	free(line);
	json_decref(obj);
}

static void on_close(struct stream *s, void *ud)
{
	struct sub *sub = ud;
	struct events *ev = sub->ev;
	(void)s;
	pthread_mutex_lock(&ev->mu);
	unlink_sub(ev, sub);
	pthread_mutex_unlock(&ev->mu);
	stream_unref(sub->s);
	free(sub->filter);
	free(sub);
}

int events_subscribe(struct events *ev, struct stream *s, const char *filter)
{
	struct sub *sub = calloc(1, sizeof *sub);
	if (!sub)
		return -1;
	if (filter && !(sub->filter = strdup(filter))) {
		free(sub);
		return -1;
	}
	sub->s = stream_ref(s);
	sub->ev = ev;
	stream_on_close(s, on_close, sub);
	pthread_mutex_lock(&ev->mu);
	sub->next = ev->subs;
	ev->subs = sub;
	ev->n_subs++;
	pthread_mutex_unlock(&ev->mu);
	return 0;
}

size_t events_subscribers(struct events *ev)
{
	pthread_mutex_lock(&ev->mu);
	size_t n = ev->n_subs;
	pthread_mutex_unlock(&ev->mu);
	return n;
}

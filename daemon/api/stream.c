/* stream.c - NDJSON bodies fed from other threads (see stream.h). */
#include "daemon/api/stream.h"

#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* The response's own buffer, filled by reader() and sent in one write:
 * big exec output moves in 256 KiB sends, not 16 KiB ones. */
#define STREAM_BLOCK (256 * 1024)

struct stream {
	pthread_mutex_t mu;
	int refs;
	int efd;             /* counter > 0: something to look at */
	int shutdown_fd;     /* the server's, not owned */
	int conn_fd;         /* the client's, not owned; -1 until a response */
	char *buf;
	size_t off, len, cap, max_pending;
	bool ended, gone;
	pthread_cond_t drained;  /* the reader took some: stream_push_line_wait */
	stream_close_fn on_close;
	void *on_close_ud;
};

/* Responses still reading from a stream, for a clean shutdown. */
static int open_responses;

int stream_open_responses(void)
{
	return __atomic_load_n(&open_responses, __ATOMIC_ACQUIRE);
}

struct stream *stream_new(int shutdown_fd, size_t max_pending)
{
	struct stream *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->drained, NULL);
	s->refs = 1;
	s->shutdown_fd = shutdown_fd;
	s->conn_fd = -1;
	s->max_pending = max_pending;
	return s;
}

struct stream *stream_ref(struct stream *s)
{
	pthread_mutex_lock(&s->mu);
	s->refs++;
	pthread_mutex_unlock(&s->mu);
	return s;
}

void stream_unref(struct stream *s)
{
	pthread_mutex_lock(&s->mu);
	int left = --s->refs;
	pthread_mutex_unlock(&s->mu);
	if (left)
		return;
	close(s->efd);
	pthread_cond_destroy(&s->drained);
	pthread_mutex_destroy(&s->mu);
	free(s->buf);
	free(s);
}

static void wake(struct stream *s)
{
	uint64_t one = 1;
	ssize_t n = write(s->efd, &one, sizeof one);
	(void)n; /* EAGAIN only when the counter is already huge: still awake */
}

/* Room for total more bytes at buf + len; called with mu held. */
static int reserve(struct stream *s, size_t total, bool capped)
{
	if (s->off && s->off == s->len)
		s->off = s->len = 0;
	if (capped && s->len - s->off + total > s->max_pending)
		return -1;
	if (s->len + total <= s->cap)
		return 0;
	if (s->off) {
		memmove(s->buf, s->buf + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	size_t cap = s->cap ? s->cap : 4096;
	while (cap < s->len + total)
		cap *= 2;
	char *grown = realloc(s->buf, cap);
	if (!grown)
		return -1;
	s->buf = grown;
	s->cap = cap;
	return 0;
}

static void put(struct stream *s, const void *p, size_t n)
{
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

/* Appends line + '\n'; called with mu held. */
static int append(struct stream *s, const char *line, size_t n, bool capped)
{
	if (reserve(s, n + 1, capped) < 0)
		return -1;
	put(s, line, n);
	put(s, "\n", 1);
	return 0;
}

static int push_text(struct stream *s, const char *text, size_t len, bool capped)
{
	pthread_mutex_lock(&s->mu);
	int rc = (s->gone || s->ended) ? -1 : append(s, text, len, capped);
	pthread_mutex_unlock(&s->mu);
	if (rc == 0)
		wake(s);
	return rc;
}

static int push(struct stream *s, json_t *value, bool capped)
{
	char *text = json_dumps(value, JSON_COMPACT);
	if (!text)
		return -1;
	int rc = push_text(s, text, strlen(text), capped);
	free(text);
	return rc;
}

int stream_push_line(struct stream *s, const char *line, size_t len)
{
	return push_text(s, line, len, true);
}

/* head then data, appended once at most max_pending bytes wait (a piece
 * alone may pass the bound: it must go some time). */
static int push_wait(struct stream *s, const void *head, size_t hn, const void *data, size_t n)
{
	pthread_mutex_lock(&s->mu);
	while (!s->gone && !s->ended && s->len > s->off &&
	       s->len - s->off + hn + n > s->max_pending)
		pthread_cond_wait(&s->drained, &s->mu);
	int rc = (s->gone || s->ended) ? -1 : reserve(s, hn + n, false);
	if (rc == 0) {
		put(s, head, hn);
		put(s, data, n);
	}
	pthread_mutex_unlock(&s->mu);
	if (rc == 0)
		wake(s);
	return rc;
}

int stream_push_line_wait(struct stream *s, const char *line, size_t len)
{
	return push_wait(s, line, len, "\n", 1);
}

int stream_push_bytes_wait(struct stream *s, const void *data, size_t len)
{
	return push_wait(s, "", 0, data, len);
}

void stream_frame_head(unsigned char head[STREAM_FRAME_HEAD], char type, size_t len)
{
	head[0] = (unsigned char)type;
	head[1] = (unsigned char)(len >> 24);
	head[2] = (unsigned char)(len >> 16);
	head[3] = (unsigned char)(len >> 8);
	head[4] = (unsigned char)len;
}

int stream_push_frame_wait(struct stream *s, char type, const void *data, size_t len)
{
	unsigned char head[STREAM_FRAME_HEAD];
	stream_frame_head(head, type, len);
	return push_wait(s, head, sizeof head, data, len);
}

int stream_push(struct stream *s, json_t *value)
{
	return push(s, value, true);
}

int stream_push_final(struct stream *s, json_t *value)
{
	return push(s, value, false);
}

void stream_end(struct stream *s)
{
	pthread_mutex_lock(&s->mu);
	s->ended = true;
	pthread_mutex_unlock(&s->mu);
	wake(s);
}

bool stream_reader_gone(struct stream *s)
{
	pthread_mutex_lock(&s->mu);
	bool gone = s->gone;
	pthread_mutex_unlock(&s->mu);
	return gone;
}

void stream_on_close(struct stream *s, stream_close_fn fn, void *ud)
{
	s->on_close = fn;
	s->on_close_ud = ud;
}

/* Blocks until there may be data (0), the server stops (1) or the client
 * hung up (-1). */
static int wait_for_data(struct stream *s)
{
	struct pollfd p[3] = {
		{ .fd = s->efd, .events = POLLIN },
		{ .fd = s->shutdown_fd, .events = POLLIN },
		{ .fd = s->conn_fd, .events = POLLRDHUP },
	};
	for (;;) {
		int n = poll(p, 3, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (p[2].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
			return -1;
		if (p[0].revents & POLLIN) {
			uint64_t v;
			ssize_t r = read(s->efd, &v, sizeof v);
			(void)r;
			return 0;
		}
		if (p[1].revents & POLLIN)
			return 1;
	}
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *s = cls;
	(void)pos;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		if (s->len > s->off) {
			size_t n = s->len - s->off < max ? s->len - s->off : max;
			memcpy(out, s->buf + s->off, n);
			s->off += n;
			pthread_cond_broadcast(&s->drained);
			pthread_mutex_unlock(&s->mu);
			return (ssize_t)n;
		}
		bool ended = s->ended;
		pthread_mutex_unlock(&s->mu);
		if (ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		int w = wait_for_data(s);
		if (w < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (w > 0) {
			stream_end(s); /* drain what is left, then end */
		}
	}
}

static void response_freed(void *cls)
{
	struct stream *s = cls;
	__atomic_sub_fetch(&open_responses, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&s->mu);
	s->gone = true;
	pthread_cond_broadcast(&s->drained);
	pthread_mutex_unlock(&s->mu);
	if (s->on_close)
		s->on_close(s, s->on_close_ud);
	stream_unref(s);
}

struct MHD_Response *stream_response(struct stream *s, int conn_fd)
{
	s->conn_fd = conn_fd;
	__atomic_add_fetch(&open_responses, 1, __ATOMIC_RELEASE);
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, reader,
						  stream_ref(s), response_freed);
	if (!resp)
		response_freed(s); /* as if it had been sent: on_close still runs */
	return resp;
}

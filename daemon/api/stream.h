/* stream.h - a response body (NDJSON, or raw bytes) fed by another thread.
 *
 * A producer (a pull's worker thread, the event bus) pushes JSON values;
 * libmicrohttpd's connection thread pulls bytes through the content reader
 * and blocks in poll() between pushes on three things: the stream's
 * eventfd (data or end), the client's socket (POLLRDHUP: the client hung
 * up, so the thread is freed at once rather than at the next write) and
 * the server's shutdown eventfd (then what is pending is sent and the body
 * ends properly, so clients see a complete stream). Pending bytes are capped: a producer
 * whose reader has fallen that far behind gets an error from stream_push
 * and decides what to do (the event bus ends that subscriber).
 *
 * Reference counted: the producer holds one, the response another.
 */
#ifndef SM_API_STREAM_H
#define SM_API_STREAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct MHD_Response;
struct stream;

typedef void (*stream_close_fn)(struct stream *s, void *ud);

/* shutdown_fd -1: the stream does not end on a server stop by itself; its
 * producer ends it (or the connection is cut). */
struct stream *stream_new(int shutdown_fd, size_t max_pending);

/* Appends value as one line; 0, or -1 when the reader is gone or the
 * cap is reached. Does not take the reference. */
int stream_push(struct stream *s, json_t *value);

/* The same for a value already encoded as one line (no newline). */
int stream_push_line(struct stream *s, const char *line, size_t len);
/* The same, but while max_pending bytes wait for the reader it waits for
 * the reader to take some (a producer that can be held back: an exec's
 * output, whose guest process then blocks on its pipe); -1 once the
 * reader is gone or the stream ended. */
int stream_push_line_wait(struct stream *s, const char *line, size_t len);
/* The same for bytes taken as they are (no newline added): a body that is
 * not NDJSON (exec frames, a file's bytes). */
int stream_push_bytes_wait(struct stream *s, const void *data, size_t len);

/* Frames: one type byte, a 4-byte big-endian length, the payload (the
 * exec frames of docs/api.md). stream_push_frame_wait appends one as
 * stream_push_bytes_wait does; stream_frame_head writes a head alone. */
#define STREAM_FRAME_HEAD 5
void stream_frame_head(unsigned char head[STREAM_FRAME_HEAD], char type, size_t len);
int stream_push_frame_wait(struct stream *s, char type, const void *data, size_t len);

/* Like stream_push but ignores the cap (for a final error line). */
int stream_push_final(struct stream *s, json_t *value);

/* No more values: the body ends once the pending bytes are read. */
void stream_end(struct stream *s);

bool stream_reader_gone(struct stream *s);

/* Called once, from the connection thread, when the response is freed. */
void stream_on_close(struct stream *s, stream_close_fn fn, void *ud);

struct stream *stream_ref(struct stream *s);
void stream_unref(struct stream *s);

/* How many stream responses are still open (all servers): a stopping
 * server waits for them to end cleanly. */
int stream_open_responses(void);

/* A chunked response reading from s; takes a reference. */
struct MHD_Response *stream_response(struct stream *s, int conn_fd);

#endif

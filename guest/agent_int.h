/* agent_int.h - internal structures of the guest agent.
 *
 * agent.c owns the epoll loop, the listener and child reaping;
 * agent_conn.c one connection's framing, output queue and dispatch;
 * agent_exec.c processes; agent_file.c file reads and writes.
 * Every fd in the loop is registered with a pointer to a `struct watch`
 * embedded in its owner, whose callback handles the event.
 *
 * Backpressure: a connection whose output queue is above OUT_HIGH stops
 * reading its processes' pipes (they block, as on a slow terminal) and
 * resumes below OUT_LOW; a process whose stdin queue is above IN_HIGH
 * stops the connection's reader until the process has taken the bytes.
 */
#ifndef SM_AGENT_INT_H
#define SM_AGENT_INT_H

#include "agent.h"
#include "agent_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OUT_HIGH (1u << 20)
#define OUT_LOW  (256u << 10)
#define IN_HIGH  (1u << 20)

struct agent;
struct watch;
typedef void (*watch_fn)(struct agent *a, struct watch *w, uint32_t events);

struct watch {
	watch_fn fn;
	int fd;
	uint32_t events; /* currently registered epoll events */
};

struct exec;
struct fileop;

struct conn {
	struct watch w;
	struct agent *agent;
	struct conn *next;
	bool hello_done, read_eof, closing, dead;
	uint32_t version; /* agreed in HELLO */
	bool shutdown_after_flush;
	uint32_t shutdown_how;
	uint8_t *in;  /* unparsed input */
	size_t in_len, in_cap;
	struct sm_wbuf out;
	size_t out_off; /* bytes of out already written */
	uint64_t flushed;      /* bytes written to the socket, ever */
	uint64_t flushed_seen; /* ... at the last stall check */
	unsigned stalled;      /* stall checks in a row without progress */
	struct exec *execs;
	struct fileop *files;
};

/* Output read but not yet sent (agent_exec_out.c). */
struct exec_out {
	uint8_t *buf;          /* made at first use */
	size_t len;
	uint64_t last_ns;      /* when the last piece came */
	bool resting;          /* unwatched until the flush timer */
};

struct exec {
	struct exec *next;     /* in conn->execs */
	struct conn *conn;
	uint32_t id;
	pid_t pid;
	bool exited, timed_out, pty, stdin_eof;
	int status;
	struct watch out, err, in, timer;
	struct watch flush;    /* timerfd: send what waits in outq */
	bool flush_armed;
	struct exec_out outq[2]; /* stdout, stderr */
	uint8_t *inq; /* stdin bytes not yet taken by the process */
	size_t inq_len, inq_off;
};

#define EXEC_OF(w, member) ((struct exec *)((char *)(w) - offsetof(struct exec, member)))

struct fileop {
	struct fileop *next;
	uint32_t id;
	int fd;
	bool reading;
};

struct agent {
	int epfd;
	struct watch listener, sigchld;
	struct conn *conns;
	const struct agent_hooks *hooks;
	bool stop;
};

/* agent.c */
int agent_watch(struct agent *a, struct watch *w, int fd, uint32_t events, watch_fn fn);
void agent_watch_set(struct agent *a, struct watch *w, uint32_t events);
void agent_unwatch(struct agent *a, struct watch *w); /* also closes the fd */

/* agent_conn.c */
struct conn *conn_new(struct agent *a, int fd);
void conn_free(struct conn *c);
void conn_update(struct conn *c);    /* recompute epoll interest, close when done */
bool conn_congested(const struct conn *c);
/* Called every AGENT_STALL_CHECK_MS: a connection whose queued output has
 * not moved for AGENT_STALL_CHECKS checks is logged once on the console
 * (with whether the kernel calls its socket writable), for diagnosis. */
void conn_check_stall(struct conn *c);
#define AGENT_STALL_CHECK_MS 10000
#define AGENT_STALL_CHECKS 3
void conn_error(struct conn *c, uint32_t id, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void conn_fatal(struct conn *c, int err, const char *why); /* ERROR id 0 + close */
void conn_send(struct conn *c, uint16_t type, uint32_t id, const void *p, size_t n);
void conn_send_u32(struct conn *c, uint16_t type, uint32_t id, int n, uint32_t a, uint32_t b);
bool conn_id_busy(const struct conn *c, uint32_t id);

/* agent_exec.c */
void exec_start(struct conn *c, uint32_t id, const void *payload, size_t len);
struct exec *exec_find(struct conn *c, uint32_t id);
void exec_stdin(struct exec *e, const uint8_t *p, size_t n);
void exec_signal(struct exec *e, const void *payload, size_t len);
void exec_resize(struct exec *e, const void *payload, size_t len);
bool exec_stdin_congested(const struct exec *e);
void exec_reaped(struct agent *a, pid_t pid, int status);
void exec_abandon(struct exec *e); /* connection gone: kill the group, free */
void exec_maybe_finish(struct exec *e); /* EXIT once reaped and both streams ended */

/* agent_exec_out.c */
void exec_on_stdout(struct agent *a, struct watch *w, uint32_t events);
void exec_on_stderr(struct agent *a, struct watch *w, uint32_t events);
void exec_resume_output(struct exec *e);
void exec_out_free(struct exec *e);

/* agent_file.c */
void file_write_start(struct conn *c, uint32_t id, const void *payload, size_t len);
void file_read_start(struct conn *c, uint32_t id, const void *payload, size_t len);
void file_data(struct conn *c, uint32_t id, const uint8_t *p, size_t n);
void file_pump(struct conn *c); /* send read chunks while not congested */
void file_abandon(struct fileop *f);

#endif

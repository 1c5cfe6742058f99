/* agent_client.c - one connection to the guest agent (see agent_client.h).
 *
 * The socket is non-blocking; outgoing frames are queued in `out` (under
 * `mu`, so another thread may queue SIGNAL/RESIZE and poke `wake`) and
 * flushed by whichever call is waiting, which reads at the same time: a
 * large stdin never deadlocks against a large stdout. Incoming bytes go
 * through the frame reassembler of agent_client_proto.c.
 */
#include "agent_client.h"
#include "agent_client_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

void ac_set_err(struct agent_client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

const char *agent_client_error(const struct agent_client *c)
{
	return c->err;
}

const struct sm_hello *agent_client_hello(const struct agent_client *c)
{
	return &c->hello;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ac_deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

int ac_remaining(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t r = deadline - now_ms();
	return r < 0 ? 0 : (int)(r > 1000000 ? 1000000 : r);
}

/* ---- sending ---- */

static size_t out_pending(struct agent_client *c)
{
	pthread_mutex_lock(&c->mu);
	size_t n = c->out.len - c->out_off;
	pthread_mutex_unlock(&c->mu);
	return n;
}

static int flush(struct agent_client *c)
{
	int rc = 0;
	pthread_mutex_lock(&c->mu);
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				ac_set_err(c, "send to agent: %s", strerror(errno));
				rc = -1;
			}
			if (errno != EINTR)
				break;
			continue;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len)
		c->out.len = c->out_off = 0;
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* Queues a frame of raw bytes or 0-2 u32 (mu taken here). */
int ac_queue_data(struct agent_client *c, uint16_t type, uint32_t id,
		      const void *p, size_t n)
{
	pthread_mutex_lock(&c->mu);
	int rc = sm_data_frame(&c->out, type, id, p, n);
	pthread_mutex_unlock(&c->mu);
	if (rc)
		ac_set_err(c, "cannot queue %s frame", sm_msg_type_name(type));
	return rc;
}

int ac_queue_u32(struct agent_client *c, uint16_t type, uint32_t id, int n,
		     uint32_t a, uint32_t b)
{
	pthread_mutex_lock(&c->mu);
	int rc = sm_u32_frame(&c->out, type, id, n, a, b);
	pthread_mutex_unlock(&c->mu);
	if (rc)
		ac_set_err(c, "cannot queue %s frame", sm_msg_type_name(type));
	return rc;
}

/* ---- receiving ---- */

/* Big outputs come in 64 KiB frames: receive several at once, straight
 * into the frame buffer (no copy through the stack). */
#define RECV_SIZE (256u << 10)

static int read_some(struct agent_client *c)
{
	uint8_t *space = frame_reader_space(&c->rd, RECV_SIZE);
	if (!space) {
		ac_set_err(c, "out of memory");
		return -1;
	}
	ssize_t n = recv(c->fd, space, RECV_SIZE, 0);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : (ac_set_err(c, "recv from agent: %s",
								   strerror(errno)), -1);
	if (n == 0) {
		ac_set_err(c, "agent closed the connection%s",
			frame_reader_pending(&c->rd) ? " inside a frame" : "");
		return -1;
	}
	frame_reader_commit(&c->rd, (size_t)n);
	return 0;
}

/* Waits for a whole frame (EV_FRAME), or input_fd readable (EV_INPUT) when
 * input_fd >= 0 and the send queue has room; -1 on error or timeout. */
int ac_next_event(struct agent_client *c, int input_fd, int64_t deadline,
		      struct sm_hdr *h, const uint8_t **p)
{
	for (;;) {
		const char *why;
		int r = frame_reader_next(&c->rd, h, p, &why);
		if (r < 0) {
			ac_set_err(c, "bad frame from agent: %s", why);
			return -1;
		}
		if (r > 0)
			return EV_FRAME;
		if (flush(c))
			return -1;
		size_t pend = out_pending(c);
		struct pollfd pf[3] = {
			{ .fd = c->fd, .events = POLLIN | (pend ? POLLOUT : 0) },
			{ .fd = c->wake[0], .events = POLLIN },
			{ .fd = pend < OUT_LIMIT ? input_fd : -1, .events = POLLIN },
		};
		int n = poll(pf, 3, ac_remaining(deadline));
		if (n < 0 && errno != EINTR) {
			ac_set_err(c, "poll: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			ac_set_err(c, "timed out waiting for the agent");
			return -1;
		}
		if (pf[1].revents) {
			char b[64];
			ssize_t k = read(c->wake[0], b, sizeof(b));
			(void)k;
		}
		if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && read_some(c))
			return -1;
		if (pf[2].revents)
			return EV_INPUT;
	}
}

int ac_wait_room(struct agent_client *c, int64_t deadline)
{
	for (;;) {
		if (flush(c))
			return -1;
		if (out_pending(c) < OUT_LIMIT)
			return 0;
		struct pollfd pf = { .fd = c->fd, .events = POLLIN | POLLOUT };
		int n = poll(&pf, 1, ac_remaining(deadline));
		if (n < 0 && errno != EINTR) {
			ac_set_err(c, "poll: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			ac_set_err(c, "timed out sending to the agent");
			return -1;
		}
		if ((pf.revents & (POLLIN | POLLHUP | POLLERR)) && read_some(c))
			return -1;
	}
}

/* Error text of an ERROR payload into c->err. */
void ac_take_error(struct agent_client *c, const struct sm_hdr *h, const uint8_t *p,
		       const char *what)
{
	int32_t e = 0;
	char *msg = NULL;
	c->agent_errno = 0;
	if (sm_error_decode(p, h->len, &e, &msg)) {
		ac_set_err(c, "%s: malformed ERROR from agent", what);
	} else {
		ac_set_err(c, "%s: %s", what, msg);
		c->agent_errno = e;
	}
	free(msg);
}

/* Waits for a frame for id (or an id-0 ERROR); frames of other ids are
 * skipped. Returns 0 with the frame, -1 on error. */
int ac_wait_for(struct agent_client *c, uint32_t id, int64_t deadline,
		    struct sm_hdr *h, const uint8_t **p, const char *what)
{
	for (;;) {
		if (ac_next_event(c, -1, deadline, h, p) < 0)
			return -1;
		if (h->type == SM_MSG_ERROR && (h->id == id || h->id == 0)) {
			ac_take_error(c, h, *p, what);
			return -1;
		}
		if (h->id == id)
			return 0;
	}
}

int ac_wait_ok(struct agent_client *c, uint32_t id, int timeout_ms, const char *what)
{
	struct sm_hdr h;
	const uint8_t *p;
	c->agent_errno = 0;
	if (ac_wait_for(c, id, ac_deadline_of(timeout_ms), &h, &p, what)) {
		errno = c->agent_errno ? c->agent_errno : EIO;
		return -1;
	}
	if (h.type != SM_MSG_OK) {
		ac_set_err(c, "%s: unexpected %s", what, sm_msg_type_name(h.type));
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* ---- connection ---- */

static struct agent_client *client_new(int fd, char *err, size_t errlen)
{
	struct agent_client *c = calloc(1, sizeof(*c));
	if (!c || pipe2(c->wake, O_CLOEXEC | O_NONBLOCK)) {
		snprintf(err, errlen, "agent client: %s", strerror(errno));
		free(c);
		close(fd);
		return NULL;
	}
	c->fd = fd;
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void agent_client_close(struct agent_client *c)
{
	if (!c)
		return;
	close(c->fd);
	close(c->wake[0]);
	close(c->wake[1]);
	pthread_mutex_destroy(&c->mu);
	sm_wbuf_free(&c->out);
	frame_reader_free(&c->rd);
	free(c->hello.name);
	free(c);
}

/* HELLO offering `version`; *refused when the agent answered that it does
 * not speak it (an older agent: EPROTONOSUPPORT). */
static struct agent_client *attach_version(int fd, uint32_t version, int timeout_ms, char *err,
					   size_t errlen, bool *refused)
{
	struct agent_client *c = client_new(fd, err, errlen);
	struct sm_hdr h;
	const uint8_t *p;
	*refused = false;
	if (!c)
		return NULL;
	int fl = fcntl(fd, F_GETFL);
	struct sm_hello hello = { .version = version, .max_payload = SM_AGENT_MAX_PAYLOAD };
	pthread_mutex_lock(&c->mu);
	int rc = sm_hello_encode(&c->out, &hello, false);
	pthread_mutex_unlock(&c->mu);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) || rc) {
		snprintf(err, errlen, "agent client setup: %s", strerror(errno));
	} else if (ac_wait_for(c, 0, ac_deadline_of(timeout_ms), &h, &p, "agent handshake") == 0) {
		if (h.type == SM_MSG_HELLO && sm_hello_decode(p, h.len, &c->hello, true) == 0 &&
		    c->hello.version == version)
			return c;
		snprintf(err, errlen, "agent handshake: unexpected %s (version %u)",
			 sm_msg_type_name(h.type), c->hello.version);
	} else {
		snprintf(err, errlen, "%s", c->err);
		*refused = c->agent_errno == EPROTONOSUPPORT;
	}
	agent_client_close(c);
	return NULL;
}

struct agent_client *agent_client_attach(int fd, int timeout_ms, char *err, size_t errlen)
{
	bool refused;
	return attach_version(fd, SM_AGENT_VERSION, timeout_ms, err, errlen, &refused);
}

/* Reads the hybrid reply line one byte at a time (no frame bytes eaten). */
static int read_line(int fd, char *line, size_t size, int64_t deadline)
{
	size_t n = 0;
	while (n + 1 < size) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, ac_remaining(deadline)) <= 0)
			return -1;
		if (read(fd, line + n, 1) != 1)
			return -1;
		if (line[n++] == '\n')
			break;
	}
	line[n] = 0;
	return 0;
}

/* One attempt: 0 with *out connected, -1 (retry) with why set. */
static int hybrid_try(const char *path, uint32_t port, int64_t deadline, int *out,
		      char *why, size_t whylen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[64];
	uint32_t host_port;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, whylen, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(why, whylen, "connect %s: %s", path, strerror(errno));
	} else {
		size_t n = hv_connect_line(line, sizeof(line), port);
		if (write(fd, line, n) != (ssize_t)n || read_line(fd, line, sizeof(line), deadline)) {
			snprintf(why, whylen, "no reply to CONNECT %u on %s", port, path);
		} else if (hv_parse_reply(line, &host_port)) {
			snprintf(why, whylen, "CONNECT %u refused: %.40s", port, line);
		} else {
			*out = fd;
			return 0;
		}
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

struct agent_client *agent_client_connect(const char *uds_path, uint32_t port,
					  int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = ac_deadline_of(timeout_ms);
	uint32_t version = SM_AGENT_VERSION;
	for (;;) {
		char why[256] = "no attempt";
		int fd = -1;
		bool refused;
		while (hybrid_try(uds_path, port, deadline, &fd, why, sizeof(why))) {
			if (ac_remaining(deadline) == 0) {
				snprintf(err, errlen, "agent not reachable within %d ms: %s",
					 timeout_ms, why);
				return NULL;
			}
			usleep(20000);
		}
		struct agent_client *c =
			attach_version(fd, version, ac_remaining(deadline), err, errlen, &refused);
		/* An older agent (a guest image or snapshot from before this
		 * version) closed the connection: offer the version before. */
		if (c || !refused || version <= SM_AGENT_HOST_MIN_VERSION)
			return c;
		version--;
	}
}

/* ---- requests ---- */

int agent_client_ping(struct agent_client *c, int timeout_ms)
{
	struct sm_hdr h;
	const uint8_t *p;
	uint32_t id = ++c->next_id;
	if (ac_queue_data(c, SM_MSG_PING, id, NULL, 0) ||
	    ac_wait_for(c, id, ac_deadline_of(timeout_ms), &h, &p, "ping"))
		return -1;
	return h.type == SM_MSG_PONG ? 0 : (ac_set_err(c, "ping: got %s", sm_msg_type_name(h.type)), -1);
}

int agent_client_shutdown(struct agent_client *c, uint32_t how, int timeout_ms)
{
	struct sm_hdr h;
	const uint8_t *p;
	uint32_t id = ++c->next_id;
	if (ac_queue_u32(c, SM_MSG_SHUTDOWN, id, 1, how, 0) ||
	    ac_wait_for(c, id, ac_deadline_of(timeout_ms), &h, &p, "shutdown"))
		return -1;
	return h.type == SM_MSG_OK ? 0 : (ac_set_err(c, "shutdown: got %s", sm_msg_type_name(h.type)), -1);
}

static int poke(struct agent_client *c)
{
	ssize_t n = write(c->wake[1], "", 1);
	(void)n;
	return 0;
}

int agent_client_signal(struct agent_client *c, uint32_t signo)
{
	pthread_mutex_lock(&c->mu);
	int rc = c->exec_id ? sm_u32_frame(&c->out, SM_MSG_SIGNAL, c->exec_id, 1, signo, 0) : -1;
	pthread_mutex_unlock(&c->mu);
	return rc ? -1 : poke(c);
}

int agent_client_resize(struct agent_client *c, uint16_t rows, uint16_t cols)
{
	pthread_mutex_lock(&c->mu);
	int rc = c->exec_id ? sm_u32_frame(&c->out, SM_MSG_RESIZE, c->exec_id, 2, rows, cols) : -1;
	pthread_mutex_unlock(&c->mu);
	return rc ? -1 : poke(c);
}

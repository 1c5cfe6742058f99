/* worker_channel.c - the VMM half of the daemon's control channel.
 *
 * See worker_proto.h for the messages. A thread blocks in recv() on the
 * channel: STOP or EOF (the daemon died or closed us) asks the VM to stop
 * through vm_request_stop(), the same path a guest power-off takes, so the
 * main thread tears everything down in the usual order. When the VM has
 * ended, worker_channel_finish() shuts the socket's read side down to wake
 * the thread, after the EXITED report has gone out.
 */
#include "worker_channel.h"
#include "net_attach.h"
#include "worker_proto.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct worker_channel {
	int fd;
	struct vm *vm;
	worker_snapshot_fn snapshot;
	void *ctx;
	struct fs_binder *binder;
	struct virtio_net *net;
	pthread_t thread;
	atomic_bool done;   /* the VM has ended: ignore EOF from our own shutdown */
};

static int send_msg(int fd, uint32_t type, int32_t value, const char *text)
{
	struct worker_msg m = { .type = type, .value = value };
	snprintf(m.text, sizeof(m.text), "%s", text ? text : "");
	ssize_t n;
	do
		n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(m) ? 0 : -1;
}

#define WORKER_MAX_FDS 3

/* One packet and up to three fds that came with it (-1 where none). */
static ssize_t recv_msg(int fd, struct worker_msg *m, int fds[WORKER_MAX_FDS])
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(WORKER_MAX_FDS * sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	fds[0] = fds[1] = fds[2] = -1;
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (i < WORKER_MAX_FDS && fds[i] < 0)
				fds[i] = f;
			else
				close(f);
		}
	}
	return n;
}

/* The request's descriptors are closed before its answer goes out, so
 * the daemon never sees an answer while one is still open here. */
static void close_fds(int fds[WORKER_MAX_FDS])
{
	for (int i = 0; i < WORKER_MAX_FDS; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static void answer(struct worker_channel *ch, uint32_t type, int rc, const char *msg)
{
	if (send_msg(ch->fd, type, rc, msg) < 0)
		fprintf(stderr, "supermachine-vmm: control channel: sending answer %u: %s\n", type,
			strerror(errno));
}

static void serve_snapshot(struct worker_channel *ch, int fds[WORKER_MAX_FDS])
{
	char msg[sizeof(((struct worker_msg *)0)->text)] = "";
	int rc = -1;
	if (fds[0] < 0 || fds[1] < 0)
		snprintf(msg, sizeof(msg), "SNAPSHOT came without its two files");
	else if (!ch->snapshot)
		snprintf(msg, sizeof(msg), "this VM cannot be snapshotted");
	else
		rc = ch->snapshot(ch->ctx, fds[0], fds[1], fds[2], msg, sizeof(msg));
	close_fds(fds);
	answer(ch, WORKER_SNAPSHOT_DONE, rc, msg);
}

static void serve_bind(struct worker_channel *ch, const struct worker_msg *m,
		       int fds[WORKER_MAX_FDS])
{
	char msg[sizeof(m->text)] = "";
	int rc = -1;
	uint32_t v = (uint32_t)m->value;
	if (!ch->binder)
		snprintf(msg, sizeof(msg), "this VM cannot bind shared folders");
	else if (v & ~(uint32_t)(WORKER_FS_SLOT_MASK | WORKER_FS_READONLY))
		snprintf(msg, sizeof(msg), "FS_BIND: bad value 0x%x (slot | readonly flag)", v);
	else if (fds[1] >= 0)
		snprintf(msg, sizeof(msg), "FS_BIND takes one descriptor, not two");
	else
		rc = fs_binder_bind(ch->binder, (int)(v & WORKER_FS_SLOT_MASK), fds[0],
				    v & WORKER_FS_READONLY, msg, sizeof(msg));
	close_fds(fds);
	if (rc < 0)
		fprintf(stderr, "supermachine-vmm: FS_BIND refused: %s\n", msg);
	answer(ch, WORKER_FS_BIND_DONE, rc, msg);
}

static void serve_seal(struct worker_channel *ch, int fds[WORKER_MAX_FDS])
{
	close_fds(fds);
	char msg[sizeof(((struct worker_msg *)0)->text)] = "";
	int rc = -1;
	if (!ch->binder)
		snprintf(msg, sizeof(msg), "this VM cannot bind shared folders");
	else
		rc = fs_binder_seal(ch->binder, msg, sizeof(msg));
	fprintf(stderr, "supermachine-vmm: FS_SEAL: %s\n", msg);
	answer(ch, WORKER_FS_SEAL_DONE, rc, msg);
}

/* fds[0] (passt's socket) goes to net_attach_serve, which takes it. */
static void serve_net_attach(struct worker_channel *ch, const struct worker_msg *m,
			     int fds[WORKER_MAX_FDS])
{
	char msg[sizeof(m->text)] = "";
	int rc = -1;
	if (m->value != 0)
		snprintf(msg, sizeof(msg), "NET_ATTACH: bad value %d (want 0)", m->value);
	else if (fds[2] >= 0)
		snprintf(msg, sizeof(msg), "NET_ATTACH takes two descriptors, not three");
	else {
		rc = net_attach_serve(ch->net, fds[0], fds[1], msg, sizeof(msg));
		fds[0] = -1;
	}
	close_fds(fds);
	fprintf(stderr, "supermachine-vmm: NET_ATTACH%s: %s\n", rc < 0 ? " refused" : "", msg);
	answer(ch, WORKER_NET_ATTACH_DONE, rc, msg);
}

/* A request that is answered and leaves the channel open; true if m was. */
static bool serve_request(struct worker_channel *ch, const struct worker_msg *m,
			  int fds[WORKER_MAX_FDS])
{
	if (m->type == WORKER_SNAPSHOT)
		serve_snapshot(ch, fds);
	else if (m->type == WORKER_FS_BIND)
		serve_bind(ch, m, fds);
	else if (m->type == WORKER_FS_SEAL)
		serve_seal(ch, fds);
	else if (m->type == WORKER_NET_ATTACH)
		serve_net_attach(ch, m, fds);
	else
		return false;
	return true;
}

static void *channel_thread(void *arg)
{
	struct worker_channel *ch = arg;
	for (;;) {
		struct worker_msg m;
		int fds[WORKER_MAX_FDS];
		ssize_t n = recv_msg(ch->fd, &m, fds);
		bool served = n == (ssize_t)sizeof(m) && !atomic_load(&ch->done) &&
			      serve_request(ch, &m, fds);
		close_fds(fds);
		if (served)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (atomic_load(&ch->done))
			return NULL;
		if (n <= 0) {
			vm_request_stop(ch->vm, VM_POWEROFF, "supermachined is gone");
			return NULL;
		}
		if (n == (ssize_t)sizeof(m) && m.type == WORKER_STOP) {
			vm_request_stop(ch->vm, VM_POWEROFF, "stopped by supermachined");
			return NULL;
		}
		fprintf(stderr, "supermachine-vmm: control channel: ignoring a bad message "
			"(%zd bytes)\n", n);
	}
}

struct worker_channel *worker_channel_start(int fd, struct vm *vm, worker_snapshot_fn snapshot,
					    void *ctx, struct fs_binder *binder,
					    struct virtio_net *net, struct vm_err *err)
{
	struct worker_channel *ch = calloc(1, sizeof(*ch));
	if (!ch) {
		vm_errf(err, "control channel: out of memory");
		return NULL;
	}
	ch->fd = fd;
	ch->vm = vm;
	ch->snapshot = snapshot;
	ch->ctx = ctx;
	ch->binder = binder;
	ch->net = net;
	if (send_msg(fd, WORKER_READY, (int32_t)getpid(), "") < 0) {
		vm_errf(err, "control fd %d: sending READY: %s", fd, strerror(errno));
		free(ch);
		return NULL;
	}
	int rc = pthread_create(&ch->thread, NULL, channel_thread, ch);
	if (rc) {
		vm_errf(err, "control channel thread: %s", strerror(rc));
		free(ch);
		return NULL;
	}
	return ch;
}

void worker_channel_report(int fd, enum vm_outcome outcome, const char *why)
{
	if (fd >= 0 && send_msg(fd, WORKER_EXITED, (int32_t)outcome, why) < 0)
		fprintf(stderr, "supermachine-vmm: control fd %d: sending EXITED: %s\n", fd,
			strerror(errno));
}

void worker_channel_finish(struct worker_channel *ch)
{
	if (!ch)
		return;
	atomic_store(&ch->done, true);
	shutdown(ch->fd, SHUT_RD);
	pthread_join(ch->thread, NULL);
	free(ch);
}

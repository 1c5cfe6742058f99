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

static void *channel_thread(void *arg)
{
	struct worker_channel *ch = arg;
	for (;;) {
		struct worker_msg m;
		ssize_t n = recv(ch->fd, &m, sizeof(m), 0);
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

struct worker_channel *worker_channel_start(int fd, struct vm *vm, struct vm_err *err)
{
	struct worker_channel *ch = calloc(1, sizeof(*ch));
	if (!ch) {
		vm_errf(err, "control channel: out of memory");
		return NULL;
	}
	ch->fd = fd;
	ch->vm = vm;
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

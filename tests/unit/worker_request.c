/* worker_request.c - one worker-channel request and its answer, as the
 * daemon sends it and the channel it goes through (see worker_request.h). */
#include "worker_request.h"

#include "daemon/vm/worker_proto.h"

#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct worker_channel *worker_test_channel(struct vm *vm, struct fs_binder *binder,
					   struct virtio_net *net, int *ours, int *theirs)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	struct vm_err err = { "" };
	struct worker_channel *c = worker_channel_start(sv[1], vm, NULL, NULL, binder, net, &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	struct worker_msg m;
	ck_assert_int_eq(recv(sv[0], &m, sizeof m, 0), (ssize_t)sizeof m);
	ck_assert_uint_eq(m.type, WORKER_READY);
	*ours = sv[0];
	*theirs = sv[1];
	return c;
}

void worker_test_channel_stop(struct worker_channel *c, int ours, int theirs)
{
	close(ours);
	worker_channel_finish(c);
	close(theirs);
}

int worker_request(int sock, uint32_t type, int32_t value, const int *fds, int nfds,
		   uint32_t want, char *msg, size_t len)
{
	struct worker_msg m = { .type = type, .value = value };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(WORKER_REQUEST_MAX_FDS * sizeof(int))];
	} c;
	ck_assert_int_le(nfds, WORKER_REQUEST_MAX_FDS);
	memset(&c, 0, sizeof c);
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof m };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds) {
		mh.msg_control = c.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
		*h = (struct cmsghdr){ .cmsg_len = CMSG_LEN(nfds * sizeof(int)),
				       .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS };
		memcpy(CMSG_DATA(h), fds, nfds * sizeof(int));
	}
	ck_assert_int_eq(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)sizeof m);
	struct pollfd p = { .fd = sock, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	ck_assert_int_eq(recv(sock, &m, sizeof m, 0), (ssize_t)sizeof m);
	ck_assert_uint_eq(m.type, want);
	snprintf(msg, len, "%s", m.text);
	return m.value;
}

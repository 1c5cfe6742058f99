/* worker_request.c - one worker-channel request and its answer, as the
 * daemon sends it (see worker_request.h). */
#include "worker_request.h"

#include "daemon/vm/worker_proto.h"

#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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

/* h_vms_logs.c - GET /v1/vms/{id}/logs[?follow=1]: the VM's serial
 * console (kernel messages and init's lines), as text/plain.
 *
 * Without follow the body is the log as it is now. With follow the body
 * stays open and grows with the log (checked every FOLLOW_POLL_MS) until
 * the VM has exited and everything is sent, the client hangs up, or the
 * daemon stops. The connection's own thread does the waiting.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/api/handlers.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"
#include "daemon/api/vms_req.h"
#include "daemon/vms/vms.h"

#define FOLLOW_POLL_MS 200

struct follow {
	struct vm_rec *vm;
	int fd, conn_fd, shutdown_fd;
};

static bool ended(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (events | POLLHUP | POLLERR));
}

static ssize_t follow_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct follow *f = cls;
	for (;;) {
		enum vm_state s = vm_state(f->vm);
		bool over = s == VM_EXITED || s == VM_GONE;
		ssize_t n = pread(f->fd, buf, max, (off_t)pos);
		if (n > 0)
			return n;
		if (n < 0 && errno != EINTR)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (over || ended(f->shutdown_fd, POLLIN))
			return MHD_CONTENT_READER_END_OF_STREAM;
		struct pollfd p = { .fd = f->conn_fd, .events = POLLRDHUP };
		if (poll(&p, 1, FOLLOW_POLL_MS) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return MHD_CONTENT_READER_END_WITH_ERROR;   /* client gone */
	}
}

static void follow_free(void *cls)
{
	struct follow *f = cls;
	close(f->fd);
	vm_put(f->vm);
	free(f);
}

void h_vms_logs(struct api_req *r)
{
	static const char *const allowed[] = { "follow", NULL };
	bool follow;
	if (query_check(r, allowed) || query_bool(r, "follow", &follow))
		return;
	struct vm_rec *vm = req_vm(r);
	if (!vm)
		return;
	int fd = open(vm_console_path(vm), O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {   /* not written yet, or a gone VM's */
		reply_text(r, MHD_HTTP_OK, "text/plain; charset=utf-8", strdup(""), 0);
		vm_put(vm);
		return;
	}
	struct follow *f = fd >= 0 ? calloc(1, sizeof *f) : NULL;
	if (!f) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "%s: %s",
			    vm_console_path(vm), fd < 0 ? strerror(errno) : "out of memory");
		if (fd >= 0)
			close(fd);
		vm_put(vm);
		return;
	}
	*f = (struct follow){ .vm = vm, .fd = fd, .conn_fd = req_conn_fd(r),
			      .shutdown_fd = r->srv->shutdown_fd };
	struct MHD_Response *resp;
	if (follow) {
		/* A quiet console is not an idle connection. */
		MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, follow_read,
							 f, follow_free);
	} else {
		off_t size = lseek(fd, 0, SEEK_END);
		resp = MHD_create_response_from_fd_at_offset64(size > 0 ? (uint64_t)size : 0, fd, 0);
		if (resp) {
			vm_put(vm);   /* the response owns fd now */
			free(f);
		}
	}
	if (!resp) {
		follow_free(f);
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	reply_response(r, MHD_HTTP_OK, resp);
}

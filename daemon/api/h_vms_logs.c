/* h_vms_logs.c - GET /v1/vms/{id}/logs[?follow=1][&source=console]: the
 * VM's serial console (kernel messages and init's lines), as text/plain;
 * source=main is the main process's output (h_vms_logs_main.c).
 *
 * Without follow the body is the log as it is now. With follow the body
 * stays open and grows with the log (checked every FOLLOW_POLL_MS) until
 * the VM has exited and everything is sent, the client hangs up, or the
 * daemon stops. The connection's own thread does the waiting.
 *
 * A VM restored from its image's bake has never booted itself: its log
 * starts with the bake's boot (boot.log, vm_boot_log_path), which its own
 * console continues, as if it had booted.
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
	int boot_fd;               /* the bake's boot, read first; -1: none */
	uint64_t boot_size;
	bool follow;
};

static bool ended(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (events | POLLHUP | POLLERR));
}

static ssize_t follow_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct follow *f = cls;
	if (pos < f->boot_size) {
		size_t want = max < f->boot_size - pos ? max : (size_t)(f->boot_size - pos);
		ssize_t n = pread(f->boot_fd, buf, want, (off_t)pos);
		return n > 0 ? n : MHD_CONTENT_READER_END_WITH_ERROR;
	}
	pos -= f->boot_size;
	if (!f->follow) {
		ssize_t n = pread(f->fd, buf, max, (off_t)pos);
		return n > 0 ? n : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM
					  : MHD_CONTENT_READER_END_WITH_ERROR;
	}
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
	if (f->boot_fd >= 0)
		close(f->boot_fd);
	vm_put(f->vm);
	free(f);
}

void h_vms_logs(struct api_req *r)
{
	static const char *const allowed[] = { "follow", "source", NULL };
	bool follow;
	if (query_check(r, allowed) || query_bool(r, "follow", &follow))
		return;
	const char *source = req_query(r, "source");
	if (source && strcmp(source, "console") && strcmp(source, "main")) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_query",
			    "query \"source\" must be \"console\" or \"main\"");
		return;
	}
	struct vm_rec *vm = req_vm(r);
	if (!vm)
		return;
	if (source && !strcmp(source, "main")) {
		h_vms_logs_main(r, vm, follow);
		return;
	}
	int fd = open(vm_console_path(vm), O_RDONLY | O_CLOEXEC);
	const char *boot = vm_boot_log_path(vm);
	int boot_fd = boot ? open(boot, O_RDONLY | O_CLOEXEC) : -1;
	off_t boot_size = boot_fd >= 0 ? lseek(boot_fd, 0, SEEK_END) : 0;
	if (fd < 0 && errno == ENOENT && boot_fd >= 0)
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);   /* the boot alone, so far */
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
		if (boot_fd >= 0)
			close(boot_fd);
		vm_put(vm);
		return;
	}
	*f = (struct follow){ .vm = vm, .fd = fd, .conn_fd = req_conn_fd(r),
			      .shutdown_fd = r->srv->shutdown_fd, .boot_fd = boot_fd,
			      .boot_size = boot_size > 0 ? (uint64_t)boot_size : 0, .follow = follow };
	boot_fd = -1;   /* f's now */
	struct MHD_Response *resp;
	if (f->boot_size && !follow) {   /* two files: read through the callback */
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, follow_read,
							 f, follow_free);
	} else if (follow) {
		/* A quiet console is not an idle connection. */
		MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, follow_read,
							 f, follow_free);
	} else {
		off_t size = lseek(fd, 0, SEEK_END);
		resp = MHD_create_response_from_fd_at_offset64(size > 0 ? (uint64_t)size : 0, fd, 0);
		if (resp) {
			vm_put(vm);   /* the response owns fd now */
			if (f->boot_fd >= 0)
				close(f->boot_fd);   /* an empty boot log */
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

/* h_vms_logs_main.c - GET /v1/vms/{id}/logs?source=main[&follow=1]: the
 * main process's output (main_proc.h) as NDJSON, as an exec streams it:
 *   {"type":"stdout"|"stderr","data":"<base64>"}
 * from the older file (main.log.1) on, then, once the main process has
 * ended and everything is sent,
 *   {"type":"exit","code":C,"signal":S}
 * Without follow the body ends at the end of the log (with the exit line
 * if it has ended); with follow it waits for more until the main process
 * ends, the client hangs up or the daemon stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/api/handlers.h"
#include "daemon/api/main_proc.h"
#include "daemon/api/reply.h"
#include "daemon/api/vms_req.h"
#include "daemon/vms/vms.h"

#define POLL_MS 200

struct mlog {
	struct vm_rec *vm;
	char path[4096];
	int fd, conn_fd, shutdown_fd;
	ino_t ino;
	off_t pos;
	bool follow, done;
	char *line;                /* the line being sent */
	size_t len, off;
};

static bool ended(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (events | POLLHUP | POLLERR));
}

static void set_line(struct mlog *f, json_t *j)
{
	free(f->line);
	f->line = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	size_t n = f->line ? strlen(f->line) : 0;
	if (f->line && (f->line = realloc(f->line, n + 2))) {
		f->line[n] = '\n';
		f->len = n + 1;
	} else {
		f->len = 0;
	}
	f->off = 0;
}

/* The next whole frame as a line: 1, none yet 0, a corrupt log -1. */
static int next_frame(struct mlog *f)
{
	unsigned char h[8];
	if (pread(f->fd, h, sizeof h, f->pos) != (ssize_t)sizeof h)
		return 0;
	size_t n = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
	if ((h[0] != 1 && h[0] != 2) || n > MAIN_FRAME_MAX)
		return -1;
	char *data = malloc(n ? n : 1);
	if (!data || pread(f->fd, data, n, f->pos + 8) != (ssize_t)n) {
		free(data);
		return 0;   /* not all written yet */
	}
	char *b64 = b64_encode(data, n);
	free(data);
	set_line(f, b64 ? json_pack("{s:s,s:s}", "type", h[0] == 1 ? "stdout" : "stderr",
				    "data", b64) : NULL);
	free(b64);
	f->pos += (off_t)(8 + n);
	return f->line ? 1 : -1;
}

/* At the end of the file read: on to main.log when it is another file. */
static bool next_file(struct mlog *f)
{
	struct stat sb;
	if (stat(f->path, &sb) < 0 || sb.st_ino == f->ino)
		return false;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(f->fd);
	f->fd = fd;
	f->ino = sb.st_ino;
	f->pos = 0;
	return true;
}

/* Fills f->line with what comes next; false at the end of the body. */
static bool advance(struct mlog *f)
{
	for (;;) {
		struct main_state st = { .running = false, .exit_code = -1 };
		bool has = main_get(vm_id(f->vm), &st);
		int rc = next_frame(f);
		if (rc != 0)
			return rc > 0;
		if (next_file(f))
			continue;
		if (has && !st.running) {
			set_line(f, json_pack("{s:s,s:i,s:i}", "type", "exit", "code", st.exit_code,
					      "signal", st.signal));
			f->done = true;
			return f->line != NULL;
		}
		if (!f->follow || ended(f->shutdown_fd, POLLIN))
			return false;
		struct pollfd p = { .fd = f->conn_fd, .events = POLLRDHUP };
		if (poll(&p, 1, POLL_MS) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return false;   /* client gone */
	}
}

static ssize_t mlog_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct mlog *f = cls;
	(void)pos;
	if (f->off == f->len && (f->done || !advance(f)))
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = f->len - f->off < max ? f->len - f->off : max;
	memcpy(buf, f->line + f->off, n);
	f->off += n;
	return (ssize_t)n;
}

static void mlog_free(void *cls)
{
	struct mlog *f = cls;
	if (f->fd >= 0)
		close(f->fd);
	free(f->line);
	vm_put(f->vm);
	free(f);
}

/* Opens main.log.1, else main.log; -1 with errno when neither is there. */
static int open_first(struct mlog *f)
{
	char old[4096];
	struct stat sb;
	main_log_path(f->vm, 1, old, sizeof old);
	main_log_path(f->vm, 0, f->path, sizeof f->path);
	f->fd = open(old, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (f->fd >= 0 && fstat(f->fd, &sb) == 0)
		f->ino = sb.st_ino;
	return f->fd;
}

void h_vms_logs_main(struct api_req *r, struct vm_rec *vm, bool follow)
{
	struct main_state st;
	struct mlog *f = calloc(1, sizeof *f);
	if (!f) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		vm_put(vm);
		return;
	}
	*f = (struct mlog){ .vm = vm, .fd = -1, .conn_fd = req_conn_fd(r),
			    .shutdown_fd = r->srv->shutdown_fd, .follow = follow };
	if (open_first(f) < 0 && !main_get(vm_id(vm), &st)) {
		reply_error(r, MHD_HTTP_CONFLICT, "no_main_process",
			    "VM %s has no main process (its console: source=console)", vm_id(vm));
		mlog_free(f);
		return;
	}
	if (f->fd < 0)
		f->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);   /* not written yet */
	if (follow)   /* a quiet process is not an idle connection */
		MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
								     mlog_read, f, mlog_free);
	if (!resp) {
		mlog_free(f);
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
	reply_response(r, MHD_HTTP_OK, resp);
}

/* h_vms_files_tar.c - folders in and out of a running VM as tar streams,
 * for GET and PUT /v1/vms/{id}/files (h_vms_files.c hands them over).
 *
 * How: the guest agent only reads and writes single files, so folders go
 * through the guest's own tar, run by an exec as root over the same agent
 * connection, with the tar bytes as its stdin or stdout:
 *   GET:  tar -c -f - -C PARENT NAME      (names under the folder's
 *         basename, as `docker cp` makes them; symlinks are not followed)
 *   PUT:  sh -c 'mkdir -p "$1" && exec tar -x -o -f - -C "$1"' sh PATH
 *         (-o: the files belong to root, not to the uploader's ids)
 * The image must therefore have tar and sh (busybox images do); without
 * them the answer is 422 no_tar.
 *
 * GET spools the guest's tar to an unlinked file under DATA/uploads (up to
 * the upload limit) and answers once tar has exited 0, so a failure is a
 * proper HTTP error rather than a cut-off body; the client then reads it
 * with a Content-Length. PUT bodies are spooled by body.c; every entry is
 * checked (client/tar_check.c: absolute names, "..", device nodes, links
 * out of the folder are a 400 invalid_tar naming the entry) before the VM
 * is even looked up, so a refused tar never reaches the guest. What the
 * guest's target folder already holds (its own symlinks) is the guest's
 * business: anything can run as root there through exec anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/tar/tar_check.h"
#include "daemon/api/files.h"
#include "daemon/api/reply.h"
#include "common/agent_client/agent_client.h"
#include "daemon/vms/vms.h"

#define TAR_TIMEOUT_MS 600000
#define STDERR_KEEP 512
#define GUEST_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct tar_run {
	struct agent_client *c;
	int out_fd;               /* GET: where stdout goes */
	size_t out_len, out_max;
	int out_errno;
	bool over;                /* more than out_max bytes */
	char err[STDERR_KEEP];    /* the start of stderr */
	size_t err_len;
	struct agent_exec_result res;
};

static void on_out(void *ud, const void *p, size_t n)
{
	struct tar_run *t = ud;
	if (t->out_fd < 0 || t->over || t->out_errno)
		return;
	if (t->out_len + n > t->out_max) {
		t->over = true;
		agent_client_signal(t->c, SIGKILL | SM_SIGNAL_GROUP);
		return;
	}
	for (const char *b = p; n;) {
		ssize_t w = write(t->out_fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			t->out_errno = errno;
			agent_client_signal(t->c, SIGKILL | SM_SIGNAL_GROUP);
			return;
		}
		b += w;
		n -= (size_t)w;
		t->out_len += (size_t)w;
	}
}

static void on_err(void *ud, const void *p, size_t n)
{
	struct tar_run *t = ud;
	size_t room = sizeof t->err - 1 - t->err_len;
	memcpy(t->err + t->err_len, p, n < room ? n : room);
	t->err_len += n < room ? n : room;
	t->err[t->err_len] = 0;
}

/* Runs argv as root in the guest; 0 when it ran (t->res), else -1 after
 * replying (the command could not start, or the agent failed). */
static int run_in_guest(struct api_req *r, struct tar_run *t, const char *const *argv,
			int stdin_fd)
{
	static const char *const env[] = { GUEST_PATH, NULL };
	struct agent_exec_spec spec = { .argv = argv, .env = env, .cwd = "/",
					.timeout_ms = TAR_TIMEOUT_MS, .stdin_fd = stdin_fd };
	struct agent_exec_io io = { .on_stdout = on_out, .on_stderr = on_err, .opaque = t };
	if (agent_client_exec(t->c, &spec, &io, &t->res) == 0)
		return 0;
	const char *e = agent_client_error(t->c);
	if (strstr(e, "No such file") || strstr(e, "ENOENT") || strstr(e, "not found"))
		reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "no_tar",
			    "folders are copied with the guest's %s, which it cannot run: %s",
			    argv[0], e);
	else
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "file_failed", "%s", e);
	return -1;
}

/* 0 when the command exited 0, else -1 after replying with its stderr. */
static int check_exit(struct api_req *r, const struct tar_run *t, const char *path)
{
	const struct agent_exec_result *x = &t->res;
	if (x->exit_code == 0 && !t->over && !t->out_errno)
		return 0;
	if (t->over)
		reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large",
			    "the tar of %s is over the limit of %zu bytes", path, t->out_max);
	else if (t->out_errno)
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "file_failed",
			    "spooling the tar of %s: %s", path, strerror(t->out_errno));
	else if (strstr(t->err, "File exists") || strstr(t->err, "Not a directory"))
		reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "unusable_path",
			    "%s is not a folder in the guest: %s", path, t->err);
	else
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "file_failed",
			    "tar in the guest %s %d%s%s", x->signal ? "was killed by signal"
			    : "exited", x->signal ? x->signal : x->exit_code,
			    t->err_len ? ": " : "", t->err);
	return -1;
}

/* An unlinked file under DATA/uploads, or -1 after replying. */
static int spool_open(struct api_req *r)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/uploads/folder-XXXXXX", r->srv->cfg.data_dir);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "creating %s: %s",
			    path, strerror(errno));
		return -1;
	}
	unlink(path);
	return fd;
}

void files_get_dir(struct api_req *r, struct agent_client *c, const char *path)
{
	char parent[4096], name[4096];
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *slash = memrchr(path, '/', n);
	snprintf(parent, sizeof parent, "%.*s", slash > path ? (int)(slash - path) : 1, path);
	snprintf(name, sizeof name, "%.*s", (int)(n - (size_t)(slash - path) - 1), slash + 1);
	if (!name[0])
		snprintf(name, sizeof name, ".");   /* the root folder */
	const char *const argv[] = { "tar", "-c", "-f", "-", "-C", parent, name, NULL };
	struct tar_run t = { .c = c, .out_max = r->srv->cfg.max_upload_bytes };
	if ((t.out_fd = spool_open(r)) < 0)
		return;
	if (run_in_guest(r, &t, argv, -1) < 0 || check_exit(r, &t, path) < 0) {
		close(t.out_fd);
		return;
	}
	struct MHD_Response *resp = MHD_create_response_from_fd(t.out_len, t.out_fd);
	if (!resp) {
		close(t.out_fd);
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return;
	}
	MHD_add_response_header(resp, "Content-Type", "application/x-tar");
	reply_response(r, MHD_HTTP_OK, resp);
}

void files_put_tar(struct api_req *r, const char *path)
{
	char why[1024];
	struct vm_rec *vm;
	if (r->upload_fd < 0) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "no spooled body");
		return;
	}
	if (tar_check_fd(r->upload_fd, why, sizeof why) < 0) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_tar", "%s", why);
		return;
	}
	struct agent_client *c = files_open_agent(r, &vm);
	if (!c)
		return;
	const char *const argv[] = {
		"sh", "-c", "mkdir -p \"$1\" && exec tar -x -o -f - -C \"$1\"", "sh", path, NULL,
	};
	struct tar_run t = { .c = c, .out_fd = -1 };
	if (run_in_guest(r, &t, argv, r->upload_fd) == 0 && check_exit(r, &t, path) == 0)
		reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:I}", "path", path, "size",
						     (json_int_t)lseek(r->upload_fd, 0, SEEK_END)));
	agent_client_close(c);
	vm_put(vm);
}

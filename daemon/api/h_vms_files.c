/* h_vms_files.c - GET and PUT /v1/vms/{id}/files?path=/abs/path: one
 * regular file out of or into a running VM, through the guest agent's
 * file READ and WRITE; folders (a GET of a directory, a PUT whose
 * Content-Type is application/x-tar) are h_vms_files_tar.c's.
 *
 * PUT takes the file's bytes as the body (any other content type, spooled
 * to a file under the data dir up to the upload limit) and an optional
 * mode=0644 (octal); GET answers the bytes as application/octet-stream.
 * Paths must be absolute, without "." or ".." segments; the agent itself
 * runs as root in the guest, which is the VM's own business.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/api/files.h"
#include "daemon/api/handlers.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"
#include "daemon/api/vms_req.h"
#include "common/agent_client/agent_client.h"
#include "daemon/vms/vms.h"

#define FILE_MAX_READ (256u << 20)
#define ERRLEN 1024

int files_check_path(struct api_req *r, const char *path)
{
	const char *why = NULL;
	if (!path)
		why = "the query parameter \"path\" is required";
	else if (path[0] != '/')
		why = "\"path\" must be absolute";
	else if (strlen(path) > 4000)
		why = "\"path\" is too long";
	for (const char *p = path; !why && p && *p;) {
		p += strspn(p, "/");
		size_t n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			why = "\"path\" must not contain \".\" or \"..\" segments";
		p += n;
	}
	if (!why)
		return 0;
	reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_path", "%s", why);
	return -1;
}

struct agent_client *files_open_agent(struct api_req *r, struct vm_rec **vm_out)
{
	char err[ERRLEN];
	struct vm_rec *vm = req_vm(r);
	if (!vm)
		return NULL;
	if (req_vm_running(r, vm) < 0) {
		vm_put(vm);
		return NULL;
	}
	struct agent_client *c = agent_client_connect(vm_vsock_path(vm), SM_AGENT_PORT, 10000,
						      err, sizeof err);
	if (!c) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "agent_unreachable", "VM %s: %s",
			    vm_id(vm), err);
		vm_put(vm);
		return NULL;
	}
	*vm_out = vm;
	return c;
}

/* The agent's error for a file: missing files are 404s. */
static void reply_agent_error(struct api_req *r, struct agent_client *c)
{
	const char *e = agent_client_error(c);
	if (strstr(e, "No such file") || strstr(e, "ENOENT"))
		reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "%s", e);
	else if (strstr(e, "Is a directory") || strstr(e, "too large") ||
		 strstr(e, "Not a directory") || strstr(e, "not a regular"))
		reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "unusable_path", "%s", e);
	else
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "file_failed", "%s", e);
}

void h_vms_files_get(struct api_req *r)
{
	static const char *const allowed[] = { "path", NULL };
	const char *path = req_query(r, "path");
	struct vm_rec *vm;
	if (query_check(r, allowed) || files_check_path(r, path))
		return;
	struct agent_client *c = files_open_agent(r, &vm);
	if (!c)
		return;
	void *data;
	size_t len;
	if (agent_client_read_file(c, path, FILE_MAX_READ, &data, &len, NULL,
				   FILE_TIMEOUT_MS) == 0)
		reply_text(r, MHD_HTTP_OK, "application/octet-stream", data, len);
	else if (strstr(agent_client_error(c), "Is a directory"))
		files_get_dir(r, c, path);
	else
		reply_agent_error(r, c);
	agent_client_close(c);
	vm_put(vm);
}

static int parse_mode(struct api_req *r, uint32_t *mode)
{
	const char *s = req_query(r, "mode");
	char *end;
	*mode = 0644;
	if (!s)
		return 0;
	errno = 0;
	unsigned long m = strtoul(s, &end, 8);
	if (!*s || *end || errno || m > 07777) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_query",
			    "mode \"%s\": expected octal permissions such as 0644", s);
		return -1;
	}
	*mode = (uint32_t)m;
	return 0;
}

void h_vms_files_put(struct api_req *r)
{
	static const char *const allowed[] = { "path", "mode", NULL };
	const char *path = req_query(r, "path");
	struct vm_rec *vm;
	uint32_t mode;
	struct stat st;
	const char *ctype = req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (query_check(r, allowed) || files_check_path(r, path) || parse_mode(r, &mode))
		return;
	if (ctype && strncasecmp(ctype, "application/x-tar", 17) == 0) {
		files_put_tar(r, path);
		return;
	}
	if (r->upload_fd < 0 || fstat(r->upload_fd, &st) < 0) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "no spooled body");
		return;
	}
	struct agent_client *c = files_open_agent(r, &vm);
	if (!c)
		return;
	void *data = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
				       r->upload_fd, 0) : NULL;
	if (st.st_size && data == MAP_FAILED)
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "mapping the body: %s",
			    strerror(errno));
	else if (agent_client_write_file(c, path, mode, data, (size_t)st.st_size,
					 FILE_TIMEOUT_MS) < 0)
		reply_agent_error(r, c);
	else
		reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:I,s:i}", "path", path, "size",
						     (json_int_t)st.st_size, "mode", (int)mode));
	if (data && data != MAP_FAILED)
		munmap(data, (size_t)st.st_size);
	agent_client_close(c);
	vm_put(vm);
}

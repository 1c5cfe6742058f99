/* h_vms_main.c - POST /v1/vms/{id}/main (start the VM's command as its
 * main process, detached: main_proc.h) and POST /v1/vms/{id}/wait (block
 * until the main process ends; its exit code). */
#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/api/exec_job.h"
#include "daemon/api/handlers.h"
#include "daemon/api/main_proc.h"
#include "daemon/api/query.h"
#include "daemon/api/reply.h"
#include "daemon/api/vms_req.h"
#include "daemon/vms/vms.h"

#define ERRLEN 1024
#define WAIT_POLL_MS 200

void h_vms_main(struct api_req *r)
{
	static const char *const no_query[] = { NULL };
	char err[ERRLEN];
	if (query_check(r, no_query))
		return;
	struct exec_job *j = exec_job_open(r, json_object());
	if (!j)
		return;
	struct main_state st;
	if (main_get(vm_id(j->vm), &st)) {
		reply_error(r, MHD_HTTP_CONFLICT, "conflict", "VM %s already has a main process",
			    vm_id(j->vm));
		exec_job_unref(j);
		return;
	}
	if (exec_job_prepare(r, j) < 0) {
		exec_job_unref(j);
		return;
	}
	struct api_server *srv = r->srv;
	struct vm_rec *vm = vm_ref(j->vm);
	if (main_start(srv, j, err, sizeof err) < 0) {
		reply_error(r, errno == EEXIST ? MHD_HTTP_CONFLICT : MHD_HTTP_INTERNAL_SERVER_ERROR,
			    errno == EEXIST ? "conflict" : "internal", "%s", err);
		exec_job_unref(j);
	} else {
		reply_json(r, MHD_HTTP_OK, main_json(vm_id(vm)));
	}
	vm_put(vm);
}

static bool gone(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (events | POLLHUP | POLLERR));
}

void h_vms_wait(struct api_req *r)
{
	static const char *const no_query[] = { NULL };
	if (query_check(r, no_query))
		return;
	struct vm_rec *vm = req_vm(r);
	if (!vm)
		return;
	struct main_state st;
	bool has = main_get(vm_id(vm), &st);
	if (!has) {
		reply_error(r, MHD_HTTP_CONFLICT, "no_main_process",
			    "VM %s has no main process (it was not started with run -d, "
			    "POST /v1/vms/%s/main)", vm_id(vm), vm_id(vm));
		vm_put(vm);
		return;
	}
	/* A quiet wait is not an idle connection. */
	MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	int conn = req_conn_fd(r);
	while (st.running && !gone(r->srv->shutdown_fd, POLLIN) && !gone(conn, POLLRDHUP))
		main_wait(vm_id(vm), WAIT_POLL_MS, &st);
	if (st.running)
		reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping",
			    "the daemon is stopping (or the client left)");
	else
		reply_json(r, MHD_HTTP_OK, json_pack("{s:i,s:i,s:s*}", "exit_code", st.exit_code,
						     "signal", st.signal, "error",
						     st.error[0] ? st.error : NULL));
	vm_put(vm);
}

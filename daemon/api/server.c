/* server.c - libmicrohttpd glue: start, stop, and the life of a request.
 *
 * libmicrohttpd calls on_request several times per request: once when the
 * headers are in (we route, check the declared body size, and may answer
 * at once), once per body chunk, and once more when the body is complete
 * (we run the handler). on_completed then counts the request in the
 * metrics and frees it. Thread-per-connection mode means a handler or a
 * stream may block without holding up any other client.
 */
#include "daemon/api/server.h"

#include <errno.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/api/body.h"
#include "daemon/api/events.h"
#include "daemon/api/kvm_probe.h"
#include "daemon/api/log.h"
#include "daemon/api/metrics.h"
#include "daemon/api/reply.h"
#include "daemon/api/router.h"
#include "daemon/api/stream.h"
#include "daemon/pool/pool.h"
#include "daemon/vms/vms.h"

#define KVM_PROBE_TTL_S 600
#define STOP_JOBS_WAIT_S 20
#define STOP_STREAMS_WAIT_MS 2000
#define VM_BOOT_TIMEOUT_S 600    /* a guest under an emulated KVM host is slow */
/* Per-connection pool for headers and small bodies. libmicrohttpd clears
 * it for every request, so it costs instructions per request: 16 KiB
 * holds any request this API takes (bodies beyond it stream to body.c). */
#define CONN_MEMORY (16 * 1024)

int req_conn_fd(struct api_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci ? ci->connect_fd : -1;
}

const char *req_query(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

void server_job_begin(struct api_server *srv)
{
	pthread_mutex_lock(&srv->jobs_mu);
	srv->jobs++;
	pthread_mutex_unlock(&srv->jobs_mu);
}

void server_job_end(struct api_server *srv)
{
	pthread_mutex_lock(&srv->jobs_mu);
	srv->jobs--;
	pthread_cond_broadcast(&srv->jobs_cv);
	pthread_mutex_unlock(&srv->jobs_mu);
}

static struct api_req *req_new(struct api_server *srv, struct MHD_Connection *conn,
			       const char *method)
{
	struct api_req *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->srv = srv;
	r->conn = conn;
	r->method = method;
	r->route_idx = -1;
	r->upload_fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	return r;
}

static void req_free(struct api_req *r)
{
	body_free(r);
	for (int i = 0; i < API_MAX_PARAMS; i++)
		free(r->params[i]);
	free(r);
}

/* First call: pick the route, or answer 400/404/405 right away. */
static void route_request(struct api_req *r, const char *url)
{
	char allow[64];
	switch (router_match(r->method, url, &r->route_idx, r->params, allow, sizeof allow)) {
	case ROUTE_FOUND:
		r->route = &api_routes[r->route_idx];
		body_begin(r);
		return;
	case ROUTE_BAD_PATH:
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_path",
			    "the path has an empty, \".\" or \"..\" segment or a control "
			    "character");
		return;
	case ROUTE_BAD_METHOD:
		reply_bad_method(r, allow);
		return;
	case ROUTE_NOT_FOUND:
		reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no route for %s %s",
			    r->method, url);
		return;
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls)
{
	struct api_req *r = *con_cls;
	(void)version;
	if (!r) {
		if (!(r = req_new(cls, conn, method)))
			return MHD_NO;
		*con_cls = r;
		route_request(r, url);
		return MHD_YES;
	}
	if (*upload_size) {
		int rc = r->replied ? 0 : body_feed(r, upload, *upload_size);
		*upload_size = 0;
		return rc == 0 ? MHD_YES : MHD_NO;
	}
	if (r->replied)
		return MHD_YES;
	if (body_finish(r) == 0)
		r->route->fn(r);
	if (!r->replied)
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
			    "the handler for %s %s gave no answer", r->method, url);
	return r->replied ? MHD_YES : MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_server *srv = cls;
	struct api_req *r = *con_cls;
	struct timespec now;
	(void)conn;
	(void)toe;
	if (!r)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - r->start.tv_sec) +
		      (double)(now.tv_nsec - r->start.tv_nsec) / 1e9;
	metrics_request(srv->metrics, r->route_idx, r->replied ? r->status : 0, secs);
	req_free(r);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct api_server *srv = cls;
	(void)conn;
	(void)socket_ctx;
	metrics_connections(srv->metrics, toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	/* What libmicrohttpd calls an application error is a stream whose
	 * client hung up (stream.c ends it so): expected, not worth a line. */
	if (strstr(msg, "application error generating response"))
		return;
	sm_log("http: %s", msg);
}

static void publish_vm_event(void *ud, const char *type, json_t *fields)
{
	struct api_server *srv = ud;
	events_publish(srv->events, type, fields);
	if (!strncmp(type, "vm.", 3))
		pools_kick(__atomic_load_n(&srv->pools, __ATOMIC_ACQUIRE));  /* a VM came or went */
}

static int open_vms(struct api_server *srv, char *err, size_t errlen)
{
	struct vms_config vc = {
		.data_dir = srv->cfg.data_dir, .vmm_path = srv->cfg.vmm_path,
		.kernel = srv->cfg.kernel, .initrd = srv->cfg.initrd,
		.boot_timeout_s = VM_BOOT_TIMEOUT_S, .bake = srv->cfg.bake,
		.default_storage_mib = srv->cfg.default_storage_mib,
		.shared_folders = srv->cfg.shared_folders,
		.net = srv->cfg.net_defaults,
		.on_event = publish_vm_event, .ud = srv,
	};
	return vms_open(&vc, &srv->vms, err, errlen);
}

static int open_pools(struct api_server *srv, char *err, size_t errlen)
{
	struct pools_config pc = {
		.vms = srv->vms, .store = srv->cfg.store, .data_dir = srv->cfg.data_dir,
		.default_vcpus = srv->cfg.default_vcpus,
		.default_memory_mib = srv->cfg.default_memory_mib,
		.config_pools = srv->cfg.pools,
	};
	struct pools *p;
	if (pools_open(&pc, &p, err, errlen) < 0)
		return -1;
	__atomic_store_n(&srv->pools, p, __ATOMIC_RELEASE);
	return 0;
}

static int server_init(struct api_server *srv, const struct api_config *cfg)
{
	srv->cfg = *cfg;
	srv->started = time(NULL);
	srv->image_count = -1;
	pthread_mutex_init(&srv->jobs_mu, NULL);
	pthread_cond_init(&srv->jobs_cv, NULL);
	srv->shutdown_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	srv->events = events_new();
	srv->metrics = metrics_new();
	srv->probe = kvm_probe_new(cfg->vmm_path, KVM_PROBE_TTL_S);
	return (srv->shutdown_fd < 0 || !srv->events || !srv->metrics || !srv->probe) ? -1 : 0;
}

static void server_free(struct api_server *srv)
{
	events_free(srv->events);
	metrics_free(srv->metrics);
	kvm_probe_free(srv->probe);
	if (srv->vms)
		vms_kill_all(srv->vms);   /* pool restores under way fail at once */
	pools_close(srv->pools);
	if (srv->vms)
		vms_close(srv->vms);
	if (srv->shutdown_fd >= 0)
		close(srv->shutdown_fd);
	pthread_cond_destroy(&srv->jobs_cv);
	pthread_mutex_destroy(&srv->jobs_mu);
	free(srv);
}

int api_server_start(const struct api_config *cfg, int listen_fd,
		     struct api_server **out, char *err, size_t errlen)
{
	struct api_server *srv = calloc(1, sizeof *srv);
	if (!srv || server_init(srv, cfg) < 0) {
		snprintf(err, errlen, "starting the API: out of memory or descriptors");
		if (srv)
			server_free(srv);
		return -1;
	}
	if (open_vms(srv, err, errlen) < 0 || open_pools(srv, err, errlen) < 0) {
		server_free(srv);
		return -1;
	}
	srv->mhd = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_POLL | MHD_ALLOW_UPGRADE,
		0, NULL, NULL, on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd, srv,
		MHD_OPTION_LISTEN_SOCKET, listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
		MHD_OPTION_END);
	if (!srv->mhd) {
		snprintf(err, errlen, "libmicrohttpd could not serve on the socket");
		server_free(srv);
		return -1;
	}
	kvm_probe_start(srv->probe);
	*out = srv;
	return 0;
}

/* Waits for background jobs; false if some are still running. */
static bool wait_jobs(struct api_server *srv)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_JOBS_WAIT_S;
	pthread_mutex_lock(&srv->jobs_mu);
	while (srv->jobs > 0)
		if (pthread_cond_timedwait(&srv->jobs_cv, &srv->jobs_mu, &until) == ETIMEDOUT)
			break;
	bool done = srv->jobs == 0;
	pthread_mutex_unlock(&srv->jobs_mu);
	return done;
}

/* Lets open streams send their last bytes and end their bodies properly
 * before libmicrohttpd cuts every connection. */
static void end_streams(struct api_server *srv)
{
	uint64_t one = 1;
	ssize_t n = write(srv->shutdown_fd, &one, sizeof one);
	(void)n;
	for (int i = 0; i < STOP_STREAMS_WAIT_MS / 10 && stream_open_responses() > 0; i++)
		usleep(10 * 1000);
}

int api_server_stop(struct api_server *srv)
{
	__atomic_store_n(&srv->stopping, 1, __ATOMIC_RELEASE); /* pulls give up */
	pools_stop(srv->pools);        /* no more refills */
	MHD_quiesce_daemon(srv->mhd);  /* the listening socket stays main's */
	end_streams(srv);
	MHD_stop_daemon(srv->mhd);     /* closes connections, joins their threads */
	vms_kill_all(srv->vms);        /* execs and file copies end with their VMs */
	if (!wait_jobs(srv)) {
		sm_log("warning: background image jobs still running after %ds; "
		       "leaving them to exit with the process", STOP_JOBS_WAIT_S);
		return -1; /* srv stays allocated: the jobs still use it */
	}
	server_free(srv);
	return 0;
}

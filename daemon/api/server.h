/* server.h - what the API's own files share: the server and one request.
 *
 * A request lives from the first call of the access handler (headers
 * read) until libmicrohttpd reports it completed. Its body is collected
 * by body.c while it arrives; the route was picked on the first call, so a
 * wrong path or method is answered before any body is read.
 */
#ifndef SM_API_SERVER_H
#define SM_API_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "daemon/api/api.h"

struct MHD_Daemon;
struct MHD_Connection;
struct events;
struct metrics;
struct kvm_probe;
struct route;
struct vms;
struct pools;

struct api_server {
	struct api_config cfg;
	struct MHD_Daemon *mhd;
	int shutdown_fd;           /* eventfd: readable once stopping */
	struct events *events;
	struct metrics *metrics;
	struct kvm_probe *probe;
	struct vms *vms;           /* daemon/vms: the VMs and their workers */
	struct pools *pools;       /* daemon/pool: warm pools of ready VMs */
	time_t started;
	pthread_mutex_t jobs_mu;   /* background work (pulls, imports) */
	pthread_cond_t jobs_cv;
	int jobs;
	/* Images in the store, cached for /v1/info and /metrics (h_images.c):
	 * only this daemon changes the store, and it drops the cache when it
	 * does. Under jobs_mu. */
	long image_count;          /* -1: not known */
	unsigned long image_gen;
	volatile int stopping;     /* set once stopping: pulls cancel on it */
};

#define API_MAX_PARAMS 2

struct api_req {
	struct api_server *srv;
	struct MHD_Connection *conn;
	const struct route *route;
	int route_idx;             /* -1 when no route matched */
	const char *method;
	char *params[API_MAX_PARAMS]; /* captured {name} segments */
	/* body (body.c) */
	char *body;
	size_t body_len, body_cap;
	bool too_large;
	bool body_is_tar;
	int upload_fd;             /* tar uploads go to a file, not memory */
	char *upload_path;
	int upload_errno;          /* writing it failed (disk full...) */
	/* reply (reply.c) */
	bool replied;
	unsigned status;
	struct timespec start;
};

/* Background jobs hold the server open: api_server_stop waits for them. */
void server_job_begin(struct api_server *srv);
void server_job_end(struct api_server *srv);

/* The client's socket, for noticing a hang-up while streaming. */
int req_conn_fd(struct api_req *r);

/* A query argument, or NULL. */
const char *req_query(struct api_req *r, const char *name);

/* A request header, or NULL. */
const char *req_header(struct api_req *r, const char *name);

#endif

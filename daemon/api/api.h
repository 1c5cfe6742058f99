/* api.h - the REST API server: what supermachined's main needs.
 *
 * The server is libmicrohttpd in thread-per-connection mode on a listening
 * Unix socket that main creates (or inherits from systemd), so a long
 * stream (a pull, the event feed) only ever occupies its own thread.
 * Requests go through the router (router.c) to one handler file per
 * resource (h_*.c); JSON bodies are read with a size limit (body.c) and
 * checked field by field (json_in.c); replies and error bodies are built
 * in reply.c; NDJSON streams are stream.c; lifecycle events are events.c;
 * Prometheus counters are metrics.c.
 */
#ifndef SM_API_H
#define SM_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct sm_store;
struct vm_net_defaults;

struct api_config {
	const char *socket_path;   /* shown in /v1/info */
	const char *data_dir;
	const char *vmm_path;      /* run with --probe for the KVM status; runs VMs */
	const char *kernel, *initrd; /* what guests boot */
	const char *const *insecure_registries; /* NULL-terminated */
	int default_vcpus;
	unsigned default_memory_mib;
	unsigned default_storage_mib, max_storage_mib; /* writable layers (MiB) */
	size_t max_body_bytes;
	size_t max_upload_bytes;
	unsigned max_connections;
	unsigned connection_timeout_s;
	struct sm_store *store;    /* the image store, open */
	bool bake;                 /* restore image VMs from bakes (daemon/vms/bakes.h) */
	struct json_t *pools;      /* the config file's pools (daemon/pool/pool.h), or NULL */
	/* Host folders VMs may mount (NULL-terminated; each and what is
	 * beneath it); NULL or empty: none. */
	const char *const *shared_folders;
	/* VMs' network defaults and how far requests may loosen them
	 * (daemon/vms/vm_net.h; the config's "network" and "egress"); NULL:
	 * the built-in ones. */
	const struct vm_net_defaults *net_defaults;
};

struct api_server;

/* Serves on listen_fd (which stays the caller's) until api_server_stop. */
int api_server_start(const struct api_config *cfg, int listen_fd,
		     struct api_server **out, char *err, size_t errlen);

/* Ends open streams, waits for running requests and pulls, frees. -1 if
 * background pulls were still running after a while: srv is then left
 * allocated and the caller must not close the store. */
int api_server_stop(struct api_server *srv);

/* One "METHOD PATH" line per route, in table order. */
void api_print_routes(FILE *out);

#endif

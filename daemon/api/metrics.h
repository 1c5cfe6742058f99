/* metrics.h - the counters behind GET /metrics (Prometheus text format).
 *
 * Everything here is counted where it happens: requests and their latency
 * per route and status (server.c), open connections, pulls and imports by
 * result and the bytes they downloaded (h_images.c), exec latency
 * (h_vms_exec.c). Gauges that are a
 * snapshot of other state (images in the store, event subscribers) are
 * passed in at render time. Counters are updated under one mutex: a
 * request costs a few additions.
 */
#ifndef SM_API_METRICS_H
#define SM_API_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct metrics;

struct metrics_gauges {
	long images;            /* -1: unknown (store error) */
	size_t event_subscribers;
	double start_time;      /* unix seconds */
	size_t vms[5];          /* by enum vm_state (daemon/vms/vms.h) */
};

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* route_idx -1: no route matched. */
void metrics_request(struct metrics *m, int route_idx, unsigned status, double seconds);
void metrics_connections(struct metrics *m, int delta);
void metrics_image_job(struct metrics *m, bool is_import, bool ok);
void metrics_pull_bytes(struct metrics *m, uint64_t n);
/* An exec that ran to its exit, from request to exit frame. */
void metrics_exec(struct metrics *m, double seconds);

/* The exposition text (malloc'd) or NULL. */
char *metrics_render(struct metrics *m, const struct metrics_gauges *g, size_t *len);

#endif

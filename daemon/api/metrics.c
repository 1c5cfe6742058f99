/* metrics.c - counters and histograms, rendered as Prometheus text
 * (see metrics.h). */
#include "daemon/api/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/api/router.h"
#include "daemon/vms/vms.h"

static const double bucket_le[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
#define N_BUCKETS (sizeof bucket_le / sizeof bucket_le[0])

static const unsigned status_codes[] = {
	200, 201, 204, 400, 404, 405, 409, 413, 415, 422, 500, 503,
};
#define N_CODES (sizeof status_codes / sizeof status_codes[0])

struct histogram {
	uint64_t bucket[N_BUCKETS]; /* non-cumulative; summed when rendered */
	uint64_t count;
	double sum;
};

struct route_stats {
	uint64_t by_code[N_CODES + 1]; /* last: any other status */
	uint64_t other_code_last;
	struct histogram latency;
};

struct metrics {
	pthread_mutex_t mu;
	struct route_stats *routes;    /* api_n_routes + 1: last is "unmatched" */
	long connections;
	uint64_t jobs[2][2];           /* [is_import][ok] */
	uint64_t pull_bytes;
	struct histogram exec;         /* exec_le buckets */
};

static const double exec_le[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->routes = calloc(api_n_routes + 1, sizeof *m->routes);
	if (!m->routes) {
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->mu, NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->mu);
	free(m->routes);
	free(m);
}

static void hist_add(struct histogram *h, double v)
{
	for (size_t i = 0; i < N_BUCKETS; i++) {
		if (v <= bucket_le[i]) {
			h->bucket[i]++;
			break;
		}
	}
	h->count++;
	h->sum += v;
}

void metrics_request(struct metrics *m, int route_idx, unsigned status, double seconds)
{
	size_t r = route_idx < 0 ? api_n_routes : (size_t)route_idx;
	size_t c = 0;
	while (c < N_CODES && status_codes[c] != status)
		c++;
	pthread_mutex_lock(&m->mu);
	m->routes[r].by_code[c]++;
	if (c == N_CODES)
		m->routes[r].other_code_last = status;
	hist_add(&m->routes[r].latency, seconds);
	pthread_mutex_unlock(&m->mu);
}

void metrics_connections(struct metrics *m, int delta)
{
	pthread_mutex_lock(&m->mu);
	m->connections += delta;
	pthread_mutex_unlock(&m->mu);
}

void metrics_image_job(struct metrics *m, bool is_import, bool ok)
{
	pthread_mutex_lock(&m->mu);
	m->jobs[is_import][ok]++;
	pthread_mutex_unlock(&m->mu);
}

void metrics_pull_bytes(struct metrics *m, uint64_t n)
{
	pthread_mutex_lock(&m->mu);
	m->pull_bytes += n;
	pthread_mutex_unlock(&m->mu);
}

_Static_assert(sizeof exec_le / sizeof exec_le[0] == N_BUCKETS, "exec buckets");

void metrics_exec(struct metrics *m, double seconds)
{
	pthread_mutex_lock(&m->mu);
	for (size_t b = 0; b < N_BUCKETS; b++)
		if (seconds <= exec_le[b]) {
			m->exec.bucket[b]++;
			break;
		}
	m->exec.count++;
	m->exec.sum += seconds;
	pthread_mutex_unlock(&m->mu);
}

static void render_vms(FILE *f, const struct metrics *m, const struct metrics_gauges *g)
{
	fputs("# HELP supermachine_vms VMs by state.\n# TYPE supermachine_vms gauge\n", f);
	for (int s = 0; s <= VM_GONE; s++)
		fprintf(f, "supermachine_vms{state=\"%s\"} %zu\n", vm_state_name(s), g->vms[s]);
	fputs("# HELP supermachine_exec_duration_seconds Time from an exec request to the "
	      "command's exit.\n# TYPE supermachine_exec_duration_seconds histogram\n", f);
	uint64_t cum = 0;
	for (size_t b = 0; b < N_BUCKETS; b++) {
		cum += m->exec.bucket[b];
		fprintf(f, "supermachine_exec_duration_seconds_bucket{le=\"%g\"} %llu\n", exec_le[b],
			(unsigned long long)cum);
	}
	fprintf(f, "supermachine_exec_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
		"supermachine_exec_duration_seconds_sum %.6f\n"
		"supermachine_exec_duration_seconds_count %llu\n",
		(unsigned long long)m->exec.count, m->exec.sum, (unsigned long long)m->exec.count);
}

static void route_label(FILE *f, size_t r)
{
	if (r == api_n_routes)
		fputs("route=\"unmatched\"", f);
	else
		fprintf(f, "route=\"%s %s\"", api_routes[r].method, api_routes[r].pattern);
}

static void render_requests(FILE *f, const struct metrics *m)
{
	fputs("# HELP supermachine_http_requests_total HTTP requests answered, by route "
	      "and status.\n# TYPE supermachine_http_requests_total counter\n", f);
	for (size_t r = 0; r <= api_n_routes; r++) {
		for (size_t c = 0; c <= N_CODES; c++) {
			uint64_t n = m->routes[r].by_code[c];
			if (!n)
				continue;
			fputs("supermachine_http_requests_total{", f);
			route_label(f, r);
			fprintf(f, ",code=\"%u\"} %llu\n", c < N_CODES ? status_codes[c]
				: (unsigned)m->routes[r].other_code_last, (unsigned long long)n);
		}
	}
}

static void render_latency(FILE *f, const struct metrics *m)
{
	fputs("# HELP supermachine_http_request_duration_seconds Time from a request's "
	      "headers to its last byte.\n"
	      "# TYPE supermachine_http_request_duration_seconds histogram\n", f);
	for (size_t r = 0; r <= api_n_routes; r++) {
		const struct histogram *h = &m->routes[r].latency;
		if (!h->count)
			continue;
		uint64_t cum = 0;
		for (size_t b = 0; b <= N_BUCKETS; b++) {
			fputs("supermachine_http_request_duration_seconds_bucket{", f);
			route_label(f, r);
			if (b < N_BUCKETS) {
				cum += h->bucket[b];
				fprintf(f, ",le=\"%g\"} %llu\n", bucket_le[b], (unsigned long long)cum);
			} else {
				fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long)h->count);
			}
		}
		fputs("supermachine_http_request_duration_seconds_sum{", f);
		route_label(f, r);
		fprintf(f, "} %.6f\nsupermachine_http_request_duration_seconds_count{", h->sum);
		route_label(f, r);
		fprintf(f, "} %llu\n", (unsigned long long)h->count);
	}
}

static void render_images(FILE *f, const struct metrics *m, const struct metrics_gauges *g)
{
	static const char *const kind[2] = { "pulls", "imports" };
	for (int imp = 0; imp < 2; imp++) {
		fprintf(f, "# HELP supermachine_image_%s_total Image %s finished, by result.\n"
			"# TYPE supermachine_image_%s_total counter\n",
			kind[imp], kind[imp], kind[imp]);
		fprintf(f, "supermachine_image_%s_total{result=\"ok\"} %llu\n", kind[imp],
			(unsigned long long)m->jobs[imp][1]);
		fprintf(f, "supermachine_image_%s_total{result=\"error\"} %llu\n", kind[imp],
			(unsigned long long)m->jobs[imp][0]);
	}
	fprintf(f, "# HELP supermachine_image_pull_bytes_total Blob bytes downloaded "
		"from registries.\n# TYPE supermachine_image_pull_bytes_total counter\n"
		"supermachine_image_pull_bytes_total %llu\n", (unsigned long long)m->pull_bytes);
	if (g->images >= 0)
		fprintf(f, "# HELP supermachine_images Images in the store.\n"
			"# TYPE supermachine_images gauge\nsupermachine_images %ld\n", g->images);
}

char *metrics_render(struct metrics *m, const struct metrics_gauges *g, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f)
		return NULL;
	pthread_mutex_lock(&m->mu);
	render_requests(f, m);
	render_latency(f, m);
	fprintf(f, "# HELP supermachine_http_connections Open client connections.\n"
		"# TYPE supermachine_http_connections gauge\n"
		"supermachine_http_connections %ld\n", m->connections);
	render_images(f, m, g);
	render_vms(f, m, g);
	pthread_mutex_unlock(&m->mu);
	fprintf(f, "# HELP supermachine_event_subscribers Open GET /v1/events streams.\n"
		"# TYPE supermachine_event_subscribers gauge\n"
		"supermachine_event_subscribers %zu\n", g->event_subscribers);
	fprintf(f, "# HELP supermachine_start_time_seconds When the daemon started.\n"
		"# TYPE supermachine_start_time_seconds gauge\n"
		"supermachine_start_time_seconds %.0f\n", g->start_time);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

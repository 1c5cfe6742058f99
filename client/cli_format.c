/* cli_format.c - output: sizes, ages, short ids, aligned tables, JSON
 * arrays of results and indented JSON. */
#include "client/cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void fmt_size(char *buf, size_t len, uint64_t bytes)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)bytes;
	int u = 0;
	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.3g %s" : "%.0f %s", v, unit[u]);
}

void fmt_ago(char *buf, size_t len, const char *rfc3339)
{
	struct tm tm = { 0 };
	if (!rfc3339 || !strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	long d = (long)(time(NULL) - timegm(&tm));
	if (d < 60)
		snprintf(buf, len, "%s", d < 2 ? "just now" : "seconds ago");
	else if (d < 3600)
		snprintf(buf, len, "%ld minute%s ago", d / 60, d < 120 ? "" : "s");
	else if (d < 86400)
		snprintf(buf, len, "%ld hour%s ago", d / 3600, d < 7200 ? "" : "s");
	else
		snprintf(buf, len, "%ld day%s ago", d / 86400, d < 172800 ? "" : "s");
}

const char *short_id(const char *id)
{
	static __thread char buf[13];
	const char *hex = strncmp(id, "sha256:", 7) == 0 ? id + 7 : id;
	snprintf(buf, sizeof buf, "%s", hex);
	return buf;
}

struct table {
	int ncols;
	size_t nrows, cap;
	char **cells;      /* nrows * ncols, row 0 = headers */
};

struct table *table_new(int ncols, const char *const *headers)
{
	struct table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->ncols = ncols;
	table_row(t, headers);
	return t;
}

void table_row(struct table *t, const char *const *cells)
{
	if (!t)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **grown = realloc(t->cells, cap * (size_t)t->ncols * sizeof *grown);
		if (!grown)
			return;
		t->cells = grown;
		t->cap = cap;
	}
	for (int i = 0; i < t->ncols; i++)
		t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = strdup(cells[i] ? cells[i] : "");
	t->nrows++;
}

void table_print(struct table *t, FILE *out)
{
	if (!t)
		return;
	size_t width[16] = { 0 };
	for (size_t r = 0; r < t->nrows; r++)
		for (int i = 0; i < t->ncols && i < 16; i++) {
			const char *s = t->cells[r * (size_t)t->ncols + (size_t)i];
			size_t n = s ? strlen(s) : 0;
			if (n > width[i])
				width[i] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (int i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * (size_t)t->ncols + (size_t)i];
			if (i == t->ncols - 1)
				fprintf(out, "%s\n", s ? s : "");
			else
				fprintf(out, "%-*s   ", (int)width[i], s ? s : "");
		}
	}
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void table_print_free(struct table *t)
{
	table_print(t, stdout);
	table_free(t);
}

void print_json_array(char *const *first, size_t n, size_t stride)
{
	printf("[");
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? "," : "",
		       *(char *const *)((const char *)first + i * stride));
	printf("]\n");
}

void print_json_pretty(const char *json)
{
	json_t *j = json_loads(json, 0, NULL);
	char *pretty = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	printf("%s\n", pretty ? pretty : json);
	free(pretty);
	json_decref(j);
}

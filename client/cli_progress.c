/* cli_progress.c - pull and import progress.
 *
 * On a terminal: one line per blob, redrawn in place (cursor up, clear
 * line) with a bar while it downloads. Otherwise: one plain line each
 * time a blob changes phase, so logs stay short and greppable.
 */
#include "client/cli.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BLOBS 64
#define BAR 30

struct blob {
	char digest[80];
	char phase[16];
	uint64_t done, total;
};

struct progress {
	bool tty;
	FILE *out;
	struct blob blobs[MAX_BLOBS];
	int n, drawn;
};

struct progress *progress_new(bool tty, FILE *out)
{
	struct progress *p = calloc(1, sizeof *p);
	if (p) {
		p->tty = tty;
		p->out = out;
	}
	return p;
}

static void draw_line(FILE *f, const struct blob *b)
{
	char done[16], total[16], bar[BAR + 1];
	fprintf(f, "\r\033[2K%s  %-8s", short_id(b->digest), b->phase);
	if (!strcmp(b->phase, "download") && b->total) {
		int fill = (int)((double)b->done / (double)b->total * BAR);
		if (fill > BAR)
			fill = BAR;
		memset(bar, '=', (size_t)fill);
		memset(bar + fill, ' ', (size_t)(BAR - fill));
		if (fill < BAR)
			bar[fill] = '>';
		bar[BAR] = 0;
		fmt_size(done, sizeof done, b->done);
		fmt_size(total, sizeof total, b->total);
		fprintf(f, "  [%s]  %s / %s", bar, done, total);
	}
	fputc('\n', f);
}

static void redraw(struct progress *p)
{
	if (p->drawn)
		fprintf(p->out, "\033[%dA", p->drawn);
	for (int i = 0; i < p->n; i++)
		draw_line(p->out, &p->blobs[i]);
	p->drawn = p->n;
	fflush(p->out);
}

int progress_cb(const struct sm_progress_event *ev, void *ud)
{
	struct progress *p = ud;
	int i = 0;
	while (i < p->n && strcmp(p->blobs[i].digest, ev->digest) != 0)
		i++;
	if (i == p->n) {
		if (p->n == MAX_BLOBS)
			return 0;
		snprintf(p->blobs[p->n++].digest, sizeof p->blobs[0].digest, "%s", ev->digest);
	}
	struct blob *b = &p->blobs[i];
	bool changed = strcmp(b->phase, ev->phase) != 0;
	snprintf(b->phase, sizeof b->phase, "%s", ev->phase);
	b->done = ev->done;
	b->total = ev->total;
	if (p->tty)
		redraw(p);
	else if (changed)
		fprintf(p->out, "%s: %s\n", short_id(ev->digest), ev->phase);
	return 0;
}

void progress_finish(struct progress *p)
{
	if (p && p->tty && p->drawn)
		fflush(p->out);
	free(p);
}

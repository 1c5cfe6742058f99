/* moddep.c - parse modules.dep and order modules for loading (moddep.h). */
#include "moddep.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void moddep_name(const char *path, char *out, size_t outlen)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strcspn(base, ".");
	if (n >= outlen)
		n = outlen - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = base[i] == '-' ? '_' : base[i];
	out[n] = 0;
}

static char *dup_n(const char *s, size_t n)
{
	char *c = malloc(n + 1);
	if (c) {
		memcpy(c, s, n);
		c[n] = 0;
	}
	return c;
}

/* Parses "path: dep dep" (one line, without '\n') into e. */
static int parse_line(const char *line, size_t len, struct modent *e)
{
	const char *colon = memchr(line, ':', len);
	char name[128];
	if (!colon || colon == line)
		return -1;
	e->path = dup_n(line, (size_t)(colon - line));
	if (!e->path)
		return -1;
	moddep_name(e->path, name, sizeof(name));
	e->name = strdup(name);
	const char *p = colon + 1, *end = line + len;
	while (e->name && p < end) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *w = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		if (p == w)
			break;
		char **nd = realloc(e->deps, (e->ndeps + 1) * sizeof(*nd));
		if (!nd)
			return -1;
		e->deps = nd;
		if (!(e->deps[e->ndeps] = dup_n(w, (size_t)(p - w))))
			return -1;
		e->ndeps++;
	}
	return e->name ? 0 : -1;
}

int moddep_parse(const char *text, struct moddep *d, char *err, size_t errlen)
{
	size_t lineno = 0;
	memset(d, 0, sizeof(*d));
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		lineno++;
		if (len > 0 && p[0] != '#') {
			struct modent *v = realloc(d->v, (d->n + 1) * sizeof(*v));
			if (!v)
				goto nomem;
			d->v = v;
			memset(&d->v[d->n], 0, sizeof(d->v[0]));
			d->n++;
			if (parse_line(p, len, &d->v[d->n - 1])) {
				snprintf(err, errlen, "modules.dep line %zu: malformed", lineno);
				return -1;
			}
		}
		p += len;
		if (*p)
			p++;
	}
	return 0;
nomem:
	snprintf(err, errlen, "modules.dep: out of memory");
	return -1;
}

void moddep_free(struct moddep *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].path);
		free(d->v[i].name);
		for (size_t j = 0; j < d->v[i].ndeps; j++)
			free(d->v[i].deps[j]);
		free(d->v[i].deps);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static struct modent *find(struct moddep *d, const char *key, bool by_path)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(by_path ? d->v[i].path : d->v[i].name, key))
			return &d->v[i];
	return NULL;
}

static bool is_builtin(const char *builtin, const char *name)
{
	char n[128];
	for (const char *p = builtin; p && *p;) {
		size_t len = strcspn(p, "\n");
		char line[512];
		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = 0;
			moddep_name(line, n, sizeof(n));
			if (!strcmp(n, name))
				return true;
		}
		p += len;
		if (*p)
			p++;
	}
	return false;
}

struct walk {
	struct moddep *d;
	const char **order;
	size_t n;
	char *err;
	size_t errlen;
};

static int visit(struct walk *w, struct modent *e)
{
	if (e->state == 2)
		return 0;
	if (e->state == 1) {
		snprintf(w->err, w->errlen, "dependency cycle through %s", e->path);
		return -1;
	}
	e->state = 1;
	for (size_t i = 0; i < e->ndeps; i++) {
		struct modent *dep = find(w->d, e->deps[i], true);
		if (!dep) {
			snprintf(w->err, w->errlen, "%s needs %s, which is not in modules.dep",
				 e->path, e->deps[i]);
			return -1;
		}
		if (visit(w, dep))
			return -1;
	}
	e->state = 2;
	w->order[w->n++] = e->path;
	return 0;
}

int moddep_resolve(struct moddep *d, const char *const *names, size_t nnames,
		   const char *builtin, const char ***order, size_t *n,
		   char *err, size_t errlen)
{
	struct walk w = { .d = d, .order = calloc(d->n + 1, sizeof(char *)),
			  .err = err, .errlen = errlen };
	if (!w.order) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < d->n; i++)
		d->v[i].state = 0;
	for (size_t i = 0; i < nnames; i++) {
		char name[128];
		moddep_name(names[i], name, sizeof(name));
		struct modent *e = find(d, name, false);
		if (!e && is_builtin(builtin, name))
			continue;
		if (!e) {
			snprintf(err, errlen, "module %s is neither in modules.dep nor built in",
				 names[i]);
			free(w.order);
			return -1;
		}
		if (visit(&w, e)) {
			free(w.order);
			return -1;
		}
	}
	*order = w.order;
	*n = w.n;
	return 0;
}

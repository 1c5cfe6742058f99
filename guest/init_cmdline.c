/* init_cmdline.c - parse sm.* keys from the kernel command line.
 * See init_cmdline.h; the keys are documented at the top of init.c. */
#include "init_cmdline.h"

#include "agent_proto.h"

#include <stdlib.h>
#include <string.h>

/* sm.vol=vdX:rw|ro:/path (the path absolute, no ':'). */
static int add_volume(char *val, struct init_opts *o)
{
	char *mode = strchr(val, ':'), *path = mode ? strchr(mode + 1, ':') : NULL;
	if (!path || o->n_vols == INIT_MAX_VOLUMES)
		return -1;
	*mode++ = 0;
	*path++ = 0;
	struct init_volume *v = &o->vols[o->n_vols];
	size_t dl = strlen(val);
	if (dl < 3 || dl >= sizeof(v->dev) || strncmp(val, "vd", 2) ||
	    strspn(val + 2, "abcdefghijklmnopqrstuvwxyz") != dl - 2 ||
	    (strcmp(mode, "rw") && strcmp(mode, "ro")) || path[0] != '/' || !path[1] ||
	    strlen(path) >= sizeof(v->path) || strchr(path, ':'))
		return -1;
	memcpy(v->dev, val, dl + 1);
	v->readonly = !strcmp(mode, "ro");
	strcpy(v->path, path);
	o->n_vols++;
	return 0;
}

/* One word of the line: [*w, *w + *n). */
static int apply_word(const char *w, size_t n, struct init_opts *o)
{
	char word[320];
	if (n >= sizeof(word) || strncmp(w, "sm.", 3) != 0)
		return n >= sizeof(word) && strncmp(w, "sm.", 3) == 0 ? -1 : 0;
	memcpy(word, w, n);
	word[n] = 0;
	char *val = strchr(word, '=');
	if (val)
		*val++ = 0;
	if (!strcmp(word, "sm.poweroff") && !val)
		o->poweroff = true;
	else if (!strcmp(word, "sm.panic") && !val)
		o->panic = true;
	else if (!strcmp(word, "sm.debug") && !val)
		o->debug = true;
	else if (!strcmp(word, "sm.root") && val && *val && strlen(val) < sizeof(o->root))
		strcpy(o->root, val);
	else if (!strcmp(word, "sm.upper") && val) {
		/* a disk name: vd + letters, nothing that could climb out of /dev */
		size_t len = strlen(val);
		if (len < 3 || len >= sizeof(o->upper) || strncmp(val, "vd", 2) ||
		    strspn(val + 2, "abcdefghijklmnopqrstuvwxyz") != len - 2)
			return -1;
		strcpy(o->upper, val);
	}
	else if (!strcmp(word, "sm.port") && val && *val) {
		char *end;
		unsigned long p = strtoul(val, &end, 10);
		if (*end || p == 0 || p > 0xffffffffUL)
			return -1;
		o->port = (uint32_t)p;
	} else if (!strcmp(word, "sm.layers") && val && *val) {
		char *end;
		unsigned long l = strtoul(val, &end, 10);
		if (*end || l == 0 || l > INIT_MAX_LAYERS)
			return -1;
		o->layers = (uint32_t)l;
	} else if (!strcmp(word, "sm.vol") && val && *val) {
		return add_volume(val, o);
	} else
		return -1;
	return 0;
}

int init_parse_cmdline(const char *line, struct init_opts *o)
{
	int rc = 0;
	memset(o, 0, sizeof(*o));
	o->port = SM_AGENT_PORT;
	while (*line) {
		while (*line == ' ' || *line == '\t' || *line == '\n')
			line++;
		size_t n = strcspn(line, " \t\n");
		if (n && apply_word(line, n, o))
			rc = -1;
		line += n;
	}
	return rc;
}

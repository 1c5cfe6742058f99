/* moddep.h - kernel module dependency resolution from modules.dep.
 *
 * modules.dep lines are "path.ko: dep1.ko dep2.ko ..." (paths relative to
 * lib/modules/<version>). Given module names (dashes and underscores are
 * the same, as in the kernel), moddep_resolve lists the files to load with
 * every dependency before its users, each once. A name that is not in
 * modules.dep but in modules.builtin is skipped (the kernel has it built
 * in); any other missing name is an error. Pure: no file I/O.
 */
#ifndef SM_MODDEP_H
#define SM_MODDEP_H

#include <stddef.h>

struct modent {
	char *path;  /* as in modules.dep */
	char *name;  /* normalized: basename, no .ko*, '-' -> '_' */
	char **deps; /* paths */
	size_t ndeps;
	int state;   /* resolve: 0 new, 1 visiting, 2 done */
};

struct moddep {
	struct modent *v;
	size_t n;
};

int moddep_parse(const char *text, struct moddep *d, char *err, size_t errlen);
void moddep_free(struct moddep *d);
/* Normalized module name of a path or name into out (size outlen). */
void moddep_name(const char *path, char *out, size_t outlen);

/* *order gets a malloc'ed array of paths (pointing into d) and *n its
 * length. builtin is the text of modules.builtin (may be NULL). */
int moddep_resolve(struct moddep *d, const char *const *names, size_t nnames,
		   const char *builtin, const char ***order, size_t *n,
		   char *err, size_t errlen);

#endif

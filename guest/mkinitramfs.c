/* mkinitramfs.c - build the guest initramfs (host tool, run by meson).
 *
 *   mkinitramfs -o OUT.cpio --init BIN --kernel DIR --modules a,b,c [--depfile F]
 *
 * DIR is a kernel tree unpacked by script/fetch-kernels (DIR/version names
 * DIR/lib/modules/<version>/ with modules.dep). The named modules and
 * their dependencies are resolved with moddep.c and stored flat in
 * lib/modules/, with lib/modules/load-order listing them dependencies
 * first; guest/init loads them in that order. The archive also holds
 * /init, the mount points and /dev/console (the kernel opens it for init's
 * stdio before /dev is mounted). --depfile writes a make-style depfile so
 * ninja rebuilds when the kernel tree changes.
 */
#include "cpio.h"
#include "moddep.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct opts {
	const char *out, *init, *kernel, *modules, *depfile;
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			char *b = realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!b)
				break;
			buf = b;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0) {
			int bad = ferror(f);
			fclose(f);
			if (bad) {
				free(buf);
				return NULL;
			}
			buf[n] = 0;
			if (len)
				*len = n;
			return buf;
		}
	}
	fclose(f);
	free(buf);
	errno = ENOMEM;
	return NULL;
}

static void die(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "mkinitramfs: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	exit(1);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "init", required_argument, NULL, 'i' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "modules", required_argument, NULL, 'm' },
		{ "depfile", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'i': o->init = optarg; break;
		case 'k': o->kernel = optarg; break;
		case 'm': o->modules = optarg; break;
		case 'd': o->depfile = optarg; break;
		default: return -1;
		}
	}
	return (o->out && o->init && o->kernel && o->modules && optind == argc) ? 0 : -1;
}

/* Splits "a,b,c" in place. */
static size_t split_names(char *s, const char **names, size_t max)
{
	size_t n = 0;
	for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
		names[n++] = tok;
	return n;
}

static char *moddir_of(const char *kernel)
{
	char path[4096], *ver, *dir;
	snprintf(path, sizeof(path), "%s/version", kernel);
	ver = slurp(path, NULL);
	if (!ver)
		die("no kernel tree at %s (%s): run script/fetch-kernels BUILD/cache first",
		    kernel, strerror(errno));
	ver[strcspn(ver, "\n")] = 0;
	if (asprintf(&dir, "%s/lib/modules/%s", kernel, ver) < 0)
		die("%s%s", "out of memory", "");
	free(ver);
	return dir;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void add_skeleton(struct cpio_writer *w, const char *init)
{
	static const char *const dirs[] = { "dev", "proc", "sys", "lib", "lib/modules",
					    "sm", "tmp", "root", "etc" };
	size_t len;
	char *bin = slurp(init, &len);
	if (!bin)
		die("read %s: %s", init, strerror(errno));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		cpio_add_dir(w, dirs[i], strcmp(dirs[i], "tmp") ? 0755 : 01777);
	cpio_add_chardev(w, "dev/console", 0600, 5, 1);
	cpio_add_chardev(w, "dev/null", 0666, 1, 3);
	cpio_add_file(w, "init", 0755, bin, len);
	free(bin);
}

/* Adds each module and returns the load-order text. */
static char *add_modules(struct cpio_writer *w, const char *moddir, const char **order,
			 size_t n, FILE *dep)
{
	size_t cap = 1, used = 0;
	char *list = calloc(1, 1);
	for (size_t i = 0; i < n && list; i++) {
		const char *b = base_name(order[i]);
		char path[4096], name[512];
		size_t len;
		if (!strstr(b, ".ko") || strcmp(strstr(b, ".ko"), ".ko"))
			die("%s is compressed; only plain .ko modules are supported (%s)",
			    order[i], "CONFIG_MODULE_COMPRESS_NONE");
		snprintf(path, sizeof(path), "%s/%s", moddir, order[i]);
		char *data = slurp(path, &len);
		if (!data)
			die("read %s: %s", path, strerror(errno));
		snprintf(name, sizeof(name), "lib/modules/%s", b);
		cpio_add_file(w, name, 0644, data, len);
		free(data);
		if (dep)
			fprintf(dep, " \\\n  %s", path);
		cap += strlen(b) + 1;
		char *l = realloc(list, cap);
		if (!l)
			die("%s%s", "out of memory", "");
		list = l;
		used += (size_t)sprintf(list + used, "%s\n", b);
	}
	return list;
}

int main(int argc, char **argv)
{
	struct opts o;
	char err[512], path[4096];
	const char *names[256], **order;
	size_t nnames, norder;
	struct moddep d;
	if (parse_args(argc, argv, &o))
		die("usage: mkinitramfs -o OUT --init BIN --kernel DIR --modules a,b,c "
		    "[--depfile F]%s%s", "", "");
	char *moddir = moddir_of(o.kernel);
	char *modlist = strdup(o.modules);
	if (!modlist)
		die("%s%s", "out of memory", "");
	nnames = split_names(modlist, names, 256);
	snprintf(path, sizeof(path), "%s/modules.dep", moddir);
	char *deptext = slurp(path, NULL);
	if (!deptext)
		die("read %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/modules.builtin", moddir);
	char *builtin = slurp(path, NULL);
	if (moddep_parse(deptext, &d, err, sizeof(err)) ||
	    moddep_resolve(&d, names, nnames, builtin, &order, &norder, err, sizeof(err)))
		die("%s: %s", moddir, err);

	FILE *out = fopen(o.out, "wb");
	FILE *dep = o.depfile ? fopen(o.depfile, "w") : NULL;
	if (!out || (o.depfile && !dep))
		die("create %s: %s", out ? o.depfile : o.out, strerror(errno));
	if (dep)
		fprintf(dep, "%s: %s \\\n  %s/version \\\n  %s/modules.dep", o.out, o.init,
			o.kernel, moddir);
	struct cpio_writer w;
	cpio_init(&w, out);
	add_skeleton(&w, o.init);
	char *list = add_modules(&w, moddir, order, norder, dep);
	cpio_add_file(&w, "lib/modules/load-order", 0644, list, strlen(list));
	if (cpio_finish(&w) || fclose(out))
		die("write %s: %s", o.out, strerror(errno));
	if (dep && (fputc('\n', dep) == EOF || fclose(dep)))
		die("write %s: %s", o.depfile, strerror(errno));
	free(list);
	free(order);
	moddep_free(&d);
	free(deptext);
	free(builtin);
	free(moddir);
	free(modlist);
	return 0;
}

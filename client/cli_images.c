/* cli_images.c - pull, import, images, rmi. */
#include "client/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { OPT_JSON = 256, OPT_PLATFORM, OPT_TAG, OPT_REF };

struct image_flags {
	const char *platform, *tag, *ref;
	bool quiet, force;
};

static const struct option pull_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "ref", required_argument, NULL, OPT_REF },
	{ "quiet", no_argument, NULL, 'q' },
	{ "force", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

/* Shared option loop: fills the ones a command allows, rejects others. */
static int parse(struct cli *cli, int argc, char **argv, const char *allowed,
		 struct image_flags *f)
{
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+qf", pull_opts, NULL)) != -1) {
		if (opt == OPT_JSON) {
			cli->json = true;
			continue;
		}
		const char *name = opt == OPT_PLATFORM ? "platform" : opt == OPT_TAG ? "tag"
				   : opt == OPT_REF ? "ref" : opt == 'q' ? "q" : opt == 'f' ? "f" : NULL;
		if (!name || !strstr(allowed, name))
			return cli_usage_error("%s: unknown option (try --help)", argv[0]);
		if (opt == OPT_PLATFORM)
			f->platform = optarg;
		else if (opt == OPT_TAG)
			f->tag = optarg;
		else if (opt == OPT_REF)
			f->ref = optarg;
		else if (opt == 'q')
			f->quiet = true;
		else
			f->force = true;
	}
	return 0;
}

static void print_image_done(struct cli *cli, const char *verb, const struct sm_image *img)
{
	if (cli->json)
		printf("%s\n", img->json);
	else
		printf("%s %s%s%s\n", verb, img->id, img->n_tags ? " " : "",
		       img->n_tags ? img->tags[0] : "");
}

int cmd_pull(struct cli *cli, int argc, char **argv)
{
	struct image_flags f = { 0 };
	struct sm_image img;
	if (parse(cli, argc, argv, "platform", &f))
		return 2;
	if (optind != argc - 1)
		return cli_usage_error("usage: supermachine pull [--platform OS/ARCH] IMAGE");
	struct progress *p = cli->json ? NULL : progress_new(cli->tty, stdout);
	struct sm_image_pull_opts o = { .platform = f.platform,
					.progress = p ? progress_cb : NULL, .progress_ud = p };
	int st = sm_image_pull(cli->c, argv[optind], &o, &img);
	progress_finish(p);
	if (st != SM_OK)
		return cli_error(cli, st, argv[optind]);
	print_image_done(cli, "pulled", &img);
	sm_image_free(&img);
	return 0;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	struct image_flags f = { 0 };
	struct sm_image img;
	struct stat st;
	if (parse(cli, argc, argv, "platform tag ref", &f))
		return 2;
	if (optind != argc - 1)
		return cli_usage_error("usage: supermachine import [--tag NAME[:REF]] [--ref REF] "
				       "[--platform OS/ARCH] PATH");
	const char *path = argv[optind];
	if (stat(path, &st) < 0)
		return cli_usage_error("%s: no such file or directory", path);
	struct progress *p = cli->json ? NULL : progress_new(cli->tty, stdout);
	/* A tar is sent over the socket, so the daemon need not see the
	 * caller's files; a layout directory is read by the daemon. */
	struct sm_image_import_opts o = { .tag = f.tag, .ref = f.ref, .platform = f.platform,
					  .upload = S_ISREG(st.st_mode),
					  .progress = p ? progress_cb : NULL, .progress_ud = p };
	int rc = sm_image_import(cli->c, path, &o, &img);
	progress_finish(p);
	if (rc != SM_OK)
		return cli_error(cli, rc, path);
	print_image_done(cli, "imported", &img);
	sm_image_free(&img);
	return 0;
}

static void image_rows(struct table *t, const struct sm_image *img)
{
	char size[16], ago[32];
	fmt_size(size, sizeof size, img->size);
	fmt_ago(ago, sizeof ago, img->created);
	if (!img->n_tags) {
		const char *row[] = { "<none>", short_id(img->id), ago, size };
		table_row(t, row);
	}
	for (size_t k = 0; k < img->n_tags; k++) {
		const char *row[] = { img->tags[k], short_id(img->id), ago, size };
		table_row(t, row);
	}
}

int cmd_images(struct cli *cli, int argc, char **argv)
{
	struct image_flags f = { 0 };
	struct sm_image *list;
	size_t n;
	if (parse(cli, argc, argv, "q", &f))
		return 2;
	if (optind != argc)
		return cli_usage_error("usage: supermachine images [-q] [--json]");
	int st = sm_image_list(cli->c, &list, &n);
	if (st != SM_OK)
		return cli_error(cli, st, "listing images");
	if (cli->json) {
		print_json_array(&list->json, n, sizeof *list);
	} else if (f.quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", short_id(list[i].id));
	} else {
		static const char *const head[] = { "IMAGE", "ID", "CREATED", "SIZE" };
		struct table *t = table_new(4, head);
		for (size_t i = 0; i < n; i++)
			image_rows(t, &list[i]);
		table_print_free(t);
	}
	sm_image_list_free(list, n);
	return 0;
}

int cmd_rmi(struct cli *cli, int argc, char **argv)
{
	struct image_flags f = { 0 };
	if (parse(cli, argc, argv, "f", &f))
		return 2;
	if (optind >= argc)
		return cli_usage_error("usage: supermachine rmi [-f] IMAGE...");
	struct sm_image_remove_opts o = { .force = f.force };
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		int st = sm_image_remove(cli->c, argv[i], &o);
		if (st == SM_OK)
			printf(cli->json ? "{\"removed\":\"%s\"}\n" : "removed %s\n", argv[i]);
		else
			rc = cli_error(cli, st, argv[i]);
		if (st == SM_E_CONNECT)
			break;
	}
	return rc;
}

/* cli_volumes.c - volume: named persistent disks (daemon/store/volumes.h).
 *
 *   supermachine volume create [--size SIZE] NAME   a new volume (default 1 GiB)
 *   supermachine volume ls                          list volumes
 *   supermachine volume inspect NAME                one volume's JSON
 *   supermachine volume rm NAME...                  remove volumes
 * A VM uses one with `run`/`create -v NAME:/path[:ro]`.
 */
#include "client/cli.h"

#include <string.h>
#include <time.h>

static const struct leading_opts plain = { .help = "volume --help" };

static void print_volumes(struct cli *cli, struct sm_volume_info *l, size_t n)
{
	if (cli->json) {
		print_json_array(&l->json, n, sizeof *l);
		return;
	}
	static const char *const head[] = { "NAME", "SIZE", "USED", "CREATED" };
	struct table *t = table_new(4, head);
	for (size_t i = 0; t && i < n; i++) {
		char size[32], used[32], created[32];
		fmt_size(size, sizeof size, l[i].size_mib << 20);
		fmt_size(used, sizeof used, l[i].used_bytes);
		time_t c = (time_t)l[i].created;
		struct tm tm;
		strftime(created, sizeof created, "%Y-%m-%d %H:%M", localtime_r(&c, &tm));
		const char *row[] = { l[i].name, size, used, created };
		table_row(t, row);
	}
	table_print_free(t);
}

static int volume_create(struct cli *cli, int argc, char **argv)
{
	const char *size = NULL;
	struct leading_opts o = { .value_flag = "--size", .value = &size,
				  .help = "volume --help" };
	int at = leading_options(cli, argc, argv, &o);
	if (at < 0)
		return 2;
	if (at + 1 != argc)
		return cli_usage_error("volume create: expected one NAME");
	unsigned long long mib = 0;
	if (size && cli_size_mib("volume create --size", size, 16, 16ull << 20, &mib))
		return 2;
	struct sm_volume_info v;
	int st = sm_volume_create(cli->c, argv[at], mib, &v);
	if (st != SM_OK)
		return cli_error(cli, st, argv[at]);
	if (cli->json)
		printf("%s\n", v.json);
	else
		printf("%s\n", v.name);
	sm_volume_free(&v);
	return 0;
}

static int volume_ls(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, &plain);
	if (at < 0)
		return 2;
	if (at < argc)
		return cli_usage_error("volume ls: unexpected argument %s", argv[at]);
	struct sm_volume_info *l;
	size_t n;
	int st = sm_volume_list(cli->c, &l, &n);
	if (st != SM_OK)
		return cli_error(cli, st, "listing volumes");
	print_volumes(cli, l, n);
	sm_volume_list_free(l, n);
	return 0;
}

static int volume_inspect(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, &plain);
	if (at < 0)
		return 2;
	if (at + 1 != argc)
		return cli_usage_error("volume inspect: expected one NAME");
	struct sm_volume_info v;
	int st = sm_volume_inspect(cli->c, argv[at], &v);
	if (st != SM_OK)
		return cli_error(cli, st, argv[at]);
	print_json_pretty(v.json);
	sm_volume_free(&v);
	return 0;
}

static int remove_volume(sm_client *c, const char *name, const void *unused)
{
	(void)unused;
	return sm_volume_remove(c, name);
}

static int volume_rm(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, &plain);
	if (at < 0)
		return 2;
	return act_on_each(cli, argv + at, argc - at, "volume rm: missing NAME", remove_volume,
			   NULL);
}

int cmd_volume(struct cli *cli, int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "create"))
		return volume_create(cli, argc - 1, argv + 1);
	if (argc > 1 && (!strcmp(argv[1], "ls") || !strcmp(argv[1], "list")))
		return volume_ls(cli, argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "inspect"))
		return volume_inspect(cli, argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "rm"))
		return volume_rm(cli, argc - 1, argv + 1);
	return cli_usage_error("volume: expected create, ls, inspect or rm (try volume --help)");
}

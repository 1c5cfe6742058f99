/* cli_snapshots.c - snapshot, snapshots and fork: saving running VMs and
 * making VMs from them (`run --from NAME` / `create --from NAME` restore
 * one; see cli_run.c).
 *
 *   supermachine snapshot VM NAME      snapshot a running VM (it keeps running)
 *   supermachine snapshot rm NAME...   remove snapshots
 *   supermachine snapshot inspect NAME its JSON
 *   supermachine snapshots [-a] [-q]   list them (snapshot ls is the same;
 *                                      -a: the images' bakes too)
 *   supermachine fork [-n N] VM        N copies of a running VM
 */
#include "client/cli.h"

#include <string.h>

/* -a and -q (also -aq), --json; the index of the first operand, or -1. */
static int list_options(struct cli *cli, int argc, char **argv, bool *all, bool *quiet)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--json")) {
			cli->json = true;
			continue;
		}
		if (!strcmp(argv[i], "--all")) {
			*all = true;
			continue;
		}
		for (const char *f = argv[i] + 1; *f; f++)
			if (*f == 'a')
				*all = true;
			else if (*f == 'q')
				*quiet = true;
			else
				return cli_usage_error("%s: unknown option %s (try --help)", argv[0],
						       argv[i]), -1;
	}
	return i;
}

static int list(struct cli *cli, int argc, char **argv)
{
	bool quiet = false, all = false;
	int at = list_options(cli, argc, argv, &all, &quiet);
	if (at < 0)
		return 2;
	if (at < argc)
		return cli_usage_error("%s: unexpected argument %s", argv[0], argv[at]);
	struct sm_snapshot *l;
	size_t n, kept = 0;
	int st = sm_snapshot_list(cli->c, &l, &n);
	if (st != SM_OK)
		return cli_error(cli, st, "listing snapshots");
	for (size_t i = 0; i < n; i++) {   /* bakes are the daemon's: only with -a */
		if (!all && l[i].kind && !strcmp(l[i].kind, "bake")) {
			sm_snapshot_free(&l[i]);
			continue;
		}
		l[kept++] = l[i];
	}
	n = kept;
	if (cli->json) {
		print_json_array(&l->json, n, sizeof *l);
	} else if (quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", l[i].name);
	} else {
		static const char *const head[] = { "NAME", "FROM VM", "IMAGE", "CPUS", "MEMORY",
						    "ON DISK", "CREATED" };
		struct table *t = table_new(7, head);
		for (size_t i = 0; t && i < n; i++) {
			char ago[64], cpus[16], mem[32], disk[32];
			fmt_ago(ago, sizeof ago, l[i].created);
			snprintf(cpus, sizeof cpus, "%d", l[i].vcpus);
			snprintf(mem, sizeof mem, "%u MiB", l[i].memory_mib);
			fmt_size(disk, sizeof disk, l[i].memory_disk_bytes + l[i].state_bytes);
			const char *row[] = { l[i].name, l[i].vm, l[i].image, cpus, mem, disk, ago };
			table_row(t, row);
		}
		table_print_free(t);
	}
	sm_snapshot_list_free(l, n);
	return 0;
}

int cmd_snapshots(struct cli *cli, int argc, char **argv)
{
	return list(cli, argc, argv);
}

static int remove_snapshot(sm_client *c, const char *name, const void *unused)
{
	(void)unused;
	return sm_snapshot_remove(c, name);
}

static int remove_snapshots(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, NULL);
	if (at < 0)
		return 2;
	return act_on_each(cli, argv + at, argc - at, "snapshot rm: missing NAME",
			   remove_snapshot, NULL);
}

static int inspect(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, NULL);
	if (at < 0)
		return 2;
	if (at + 1 != argc)
		return cli_usage_error("snapshot inspect: expected one NAME");
	struct sm_snapshot s;
	int st = sm_snapshot_inspect(cli->c, argv[at], &s);
	if (st != SM_OK)
		return cli_error(cli, st, argv[at]);
	print_json_pretty(s.json);
	sm_snapshot_free(&s);
	return 0;
}

int cmd_snapshot(struct cli *cli, int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "rm"))
		return remove_snapshots(cli, argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "ls"))
		return list(cli, argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "inspect"))
		return inspect(cli, argc - 1, argv + 1);
	int at = leading_options(cli, argc, argv, NULL);
	if (at < 0)
		return 2;
	if (at + 2 != argc)
		return cli_usage_error("snapshot: expected VM NAME (or rm/ls/inspect; try --help)");
	struct sm_snapshot s;
	int st = sm_vm_snapshot(cli->c, argv[at], argv[at + 1], &s);
	if (st != SM_OK)
		return cli_error(cli, st, argv[at]);
	printf("%s\n", cli->json ? s.json : s.name);
	sm_snapshot_free(&s);
	return 0;
}

int cmd_fork(struct cli *cli, int argc, char **argv)
{
	const char *nval = "1";
	const struct leading_opts count_opt = { .value_flag = "-n", .value = &nval };
	int at = leading_options(cli, argc, argv, &count_opt);
	if (at < 0)
		return 2;
	long count;
	if (cli_number("fork: -n", nval, 1, 16, &count))
		return 2;
	if (at + 1 != argc)
		return cli_usage_error("fork: expected one VM");
	struct sm_vm *vms;
	size_t n;
	int st = sm_vm_fork(cli->c, argv[at], (int)count, &vms, &n);
	if (st != SM_OK)
		return cli_error(cli, st, argv[at]);
	if (cli->json)
		print_json_array(&vms->json, n, sizeof *vms);
	else
		for (size_t i = 0; i < n; i++)
			printf("%s\n", vms[i].id);
	sm_vm_list_free(vms, n);
	return 0;
}

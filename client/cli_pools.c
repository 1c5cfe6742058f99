/* cli_pools.c - pool and gc: warm pools of ready VMs per image, and the
 * daemon's garbage collection.
 *
 *   supermachine pool set IMAGE --min N --max M [--idle-timeout S]
 *                             [--vcpus V] [--memory MiB]
 *   supermachine pool ls             list pools with their counters
 *   supermachine pool inspect IMAGE  one pool's JSON
 *   supermachine pool rm IMAGE...    remove pools (their ready VMs go)
 *   supermachine gc                  unused blobs, layers and bakes
 */
#include "client/cli.h"

#include <getopt.h>
#include <string.h>

enum { OPT_MIN = 256, OPT_MAX, OPT_IDLE, OPT_VCPUS, OPT_MEMORY, OPT_JSON };
static const struct option set_opts[] = {
	{ "min", required_argument, NULL, OPT_MIN },
	{ "max", required_argument, NULL, OPT_MAX },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "cpus", required_argument, NULL, OPT_VCPUS },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 },
};

/* pool set's options other than --json: each a number in a range. */
static const struct pool_number {
	int opt;
	const char *what;
	long lo, hi;
} numbers[] = {
	{ OPT_MIN, "pool set --min", 0, 64 },
	{ OPT_MAX, "pool set --max", 1, 64 },
	{ OPT_IDLE, "pool set --idle-timeout", 0, 86400 },
	{ OPT_VCPUS, "pool set --vcpus", 1, 64 },
	{ OPT_MEMORY, "pool set --memory", 64, 1 << 20 },
};

static const struct pool_number *number_option(int opt)
{
	for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++)
		if (numbers[i].opt == opt)
			return &numbers[i];
	return NULL;
}

static void set_number(struct sm_pool_opts *o, int opt, long n)
{
	switch (opt) {
	case OPT_MIN: o->min = (unsigned)n; break;
	case OPT_MAX: o->max = (unsigned)n; break;
	case OPT_IDLE: o->idle_timeout_s = n ? (int)n : -1; break;   /* -1: none at all */
	case OPT_VCPUS: o->vcpus = (int)n; break;
	case OPT_MEMORY: o->memory_mib = (unsigned)n; break;
	}
}

/* The pool as one line of a table, or its JSON. */
static void print_pools(struct cli *cli, struct sm_pool *l, size_t n)
{
	if (cli->json) {
		print_json_array(&l->json, n, sizeof *l);
		return;
	}
	static const char *const head[] = { "IMAGE", "MIN", "MAX", "READY", "IN USE", "CPUS",
					    "MEMORY", "HITS", "MISSES", "RESTORES", "ACQUIRE",
					    "ERROR" };
	struct table *t = table_new(12, head);
	for (size_t i = 0; t && i < n; i++) {
		char mn[16], mx[16], rd[16], iu[16], cpus[16], mem[32], hits[24], misses[24],
			restores[24], acq[32];
		snprintf(mn, sizeof mn, "%u", l[i].min);
		snprintf(mx, sizeof mx, "%u", l[i].max);
		snprintf(rd, sizeof rd, "%u", l[i].ready);
		snprintf(iu, sizeof iu, "%u", l[i].in_use);
		snprintf(cpus, sizeof cpus, "%d", l[i].vcpus);
		snprintf(mem, sizeof mem, "%u MiB", l[i].memory_mib);
		snprintf(hits, sizeof hits, "%llu", (unsigned long long)l[i].hits);
		snprintf(misses, sizeof misses, "%llu", (unsigned long long)l[i].misses);
		snprintf(restores, sizeof restores, "%llu", (unsigned long long)l[i].restores);
		snprintf(acq, sizeof acq, "%.0f ms", l[i].acquire_ms_avg);
		const char *row[] = { l[i].image, mn, mx, rd, iu, cpus, mem, hits, misses, restores,
				      acq, l[i].error ? l[i].error : "" };
		table_row(t, row);
	}
	table_print_free(t);
}

static int pool_set(struct cli *cli, int argc, char **argv)
{
	struct sm_pool_opts o = { 0 };
	bool has_min = false, has_max = false;
	long n;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", set_opts, NULL)) != -1) {
		if (opt == OPT_JSON) {
			cli->json = true;
			continue;
		}
		const struct pool_number *num = number_option(opt);
		if (!num)
			return cli_usage_error("pool set: unknown option %s (try pool --help)",
					       argv[optind - 1]);
		if (cli_number(num->what, optarg, num->lo, num->hi, &n))
			return 2;
		set_number(&o, opt, n);
		has_min |= opt == OPT_MIN;
		has_max |= opt == OPT_MAX;
	}
	if (optind + 1 != argc)
		return cli_usage_error("pool set: expected one IMAGE");
	if (!has_min || !has_max)
		return cli_usage_error("pool set: --min and --max are required");
	if (o.min > o.max)
		return cli_usage_error("pool set: --min %u is above --max %u", o.min, o.max);
	struct sm_pool p;
	int st = sm_pool_set(cli->c, argv[optind], &o, &p);
	if (st != SM_OK)
		return cli_error(cli, st, argv[optind]);
	if (cli->json)
		printf("%s\n", p.json);
	else
		printf("%s: min %u, max %u, idle timeout %u s, %d vCPUs, %u MiB\n", p.image, p.min,
		       p.max, p.idle_timeout_s, p.vcpus, p.memory_mib);
	sm_pool_free(&p);
	return 0;
}

/* Only --json before the operands. */
static const struct leading_opts plain = { .help = "pool --help" };

static int pool_ls(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, &plain);
	if (at < 0)
		return 2;
	if (at < argc)
		return cli_usage_error("pool ls: unexpected argument %s", argv[at]);
	struct sm_pool *l;
	size_t n;
	int st = sm_pool_list(cli->c, &l, &n);
	if (st != SM_OK)
		return cli_error(cli, st, "listing pools");
	print_pools(cli, l, n);
	sm_pool_list_free(l, n);
	return 0;
}

static int pool_inspect(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, &plain);
	if (at < 0)
		return 2;
	if (at + 1 != argc)
		return cli_usage_error("pool inspect: expected one IMAGE");
	struct sm_pool p;
	int st = sm_pool_inspect(cli->c, argv[at], &p);
	if (st != SM_OK)
		return cli_error(cli, st, argv[at]);
	print_json_pretty(p.json);
	sm_pool_free(&p);
	return 0;
}

static int remove_pool(sm_client *c, const char *image, const void *unused)
{
	(void)unused;
	return sm_pool_remove(c, image);
}

static int pool_rm(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, &plain);
	if (at < 0)
		return 2;
	return act_on_each(cli, argv + at, argc - at, "pool rm: missing IMAGE", remove_pool, NULL);
}

int cmd_pool(struct cli *cli, int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "set"))
		return pool_set(cli, argc - 1, argv + 1);
	if (argc > 1 && (!strcmp(argv[1], "ls") || !strcmp(argv[1], "list")))
		return pool_ls(cli, argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "inspect"))
		return pool_inspect(cli, argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "rm"))
		return pool_rm(cli, argc - 1, argv + 1);
	return cli_usage_error("pool: expected set, ls, inspect or rm (try pool --help)");
}

int cmd_gc(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, &plain);
	if (at < 0)
		return 2;
	if (at < argc)
		return cli_usage_error("gc: unexpected argument %s", argv[at]);
	struct sm_gc_result g;
	int st = sm_system_gc(cli->c, &g);
	if (st != SM_OK)
		return cli_error(cli, st, "gc");
	char freed[32];
	fmt_size(freed, sizeof freed, g.bytes_freed);
	if (cli->json)
		printf("{\"blobs_removed\":%llu,\"layers_removed\":%llu,\"files_removed\":%llu,"
		       "\"bytes_freed\":%llu,\"bakes_removed\":%llu}\n",
		       (unsigned long long)g.blobs_removed, (unsigned long long)g.layers_removed,
		       (unsigned long long)g.files_removed, (unsigned long long)g.bytes_freed,
		       (unsigned long long)g.bakes_removed);
	else
		printf("removed %llu blobs, %llu layers, %llu stray files (%s) and %llu bakes\n",
		       (unsigned long long)g.blobs_removed, (unsigned long long)g.layers_removed,
		       (unsigned long long)g.files_removed, freed,
		       (unsigned long long)g.bakes_removed);
	return 0;
}

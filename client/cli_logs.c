/* cli_logs.c - logs, wait and stats: what a VM's main process (run -d)
 * wrote, its end, and what a VM uses.
 *
 * `logs VM` prints the main process's stdout to our stdout and its stderr
 * to our stderr (-f: until it ends); a VM without one (create, an attached
 * run) shows its serial console as --console does.
 * `wait VM` blocks until the main process ends and prints its exit code
 * (128+N for signal N); our own status is 0, as docker's.
 * `stats [VM...]` prints one reading per VM (no VM: every running one).
 */
#include "client/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_out(const char *buf, size_t n, void *ud)
{
	(void)ud;
	return fwrite(buf, 1, n, stdout) != n || fflush(stdout) != 0;
}

static void on_output(int fd, const char *buf, size_t n, void *ud)
{
	FILE *f = fd == 1 ? stdout : stderr;
	(void)ud;
	fwrite(buf, 1, n, f);
	fflush(f);
}

int cmd_logs(struct cli *cli, int argc, char **argv)
{
	bool follow = false, console = false;
	int at = 1;
	for (; at < argc && argv[at][0] == '-' && argv[at][1]; at++) {
		if (!strcmp(argv[at], "-f") || !strcmp(argv[at], "--follow"))
			follow = true;
		else if (!strcmp(argv[at], "--console"))
			console = true;
		else if (!strcmp(argv[at], "--json"))
			cli->json = true;
		else
			return cli_usage_error("logs: unknown option %s (try --help)", argv[at]);
	}
	if (at + 1 != argc)
		return cli_usage_error("usage: supermachine logs [-f] [--console] VM");
	const char *vm = argv[at];
	int st = SM_E_NOT_FOUND;
	if (!console) {
		struct sm_exec_opts o = { .on_output = on_output };
		struct sm_exec_result res;
		st = sm_vm_main_logs(cli->c, vm, follow, &o, &res, NULL);
		if (st == SM_OK)
			sm_exec_result_free(&res);
		console = st != SM_OK && !strcmp(sm_errcode(cli->c), "no_main_process");
	}
	if (console)
		st = sm_vm_logs(cli->c, vm, follow, write_out, NULL);
	return st == SM_OK ? 0 : cli_error(cli, st, vm);
}

int cmd_wait(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, NULL);
	if (at < 0)
		return 2;
	if (at >= argc)
		return cli_usage_error("usage: supermachine wait VM...");
	int rc = 0;
	for (; at < argc; at++) {
		struct sm_exec_result res;
		int st = sm_vm_wait(cli->c, argv[at], &res);
		if (st != SM_OK) {
			rc = cli_error(cli, st, argv[at]);
			continue;
		}
		if (cli->json)
			printf("{\"exit_code\":%d,\"signal\":%d}\n", res.exit_code, res.signal);
		else
			printf("%d\n", sm_exec_status(&res));
		fflush(stdout);
	}
	return rc;
}

static void stats_row(struct table *t, const char *id, const struct sm_vm_stats *s)
{
	char cpu[32], mem[16], disk[16], rd[16], wr[16];
	snprintf(cpu, sizeof cpu, "%.2f s", s->cpu_seconds);
	fmt_size(mem, sizeof mem, (uint64_t)(s->memory_bytes > 0 ? s->memory_bytes : 0));
	fmt_size(disk, sizeof disk, (uint64_t)(s->disk_bytes > 0 ? s->disk_bytes : 0));
	fmt_size(rd, sizeof rd, (uint64_t)(s->disk_read_bytes > 0 ? s->disk_read_bytes : 0));
	fmt_size(wr, sizeof wr, (uint64_t)(s->disk_write_bytes > 0 ? s->disk_write_bytes : 0));
	const char *row[] = { id, cpu, mem, disk, rd, wr };
	table_row(t, row);
}

/* stats [VM...]: one reading of each (no VM: every running one). */
int cmd_stats(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, NULL);
	if (at < 0)
		return 2;
	struct sm_vm *list = NULL;
	size_t n = 0;
	if (at == argc) {
		int st = sm_vm_list(cli->c, 0, NULL, &list, &n);
		if (st != SM_OK)
			return cli_error(cli, st, "listing VMs");
	}
	static const char *const head[] = { "VM ID", "CPU", "MEMORY", "DISK", "READ", "WRITE" };
	struct table *t = cli->json ? NULL : table_new(6, head);
	int rc = 0, printed = 0;
	size_t count = at == argc ? n : (size_t)(argc - at);
	if (cli->json)
		printf("[");
	for (size_t i = 0; i < count; i++) {
		const char *id = at == argc ? list[i].id : argv[at + (int)i];
		struct sm_vm_stats s;
		int st = sm_vm_stats(cli->c, id, &s);
		if (st != SM_OK) {
			rc = cli_error(cli, st, id);
			continue;
		}
		if (cli->json)
			printf("%s%s", printed++ ? "," : "", s.json);
		else
			stats_row(t, id, &s);
		free(s.json);
	}
	if (cli->json)
		printf("]\n");
	else
		table_print_free(t);
	sm_vm_list_free(list, n);
	return rc;
}

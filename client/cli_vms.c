/* cli_vms.c - inspect, ps, stop, rm and cp: the commands that look at or manage
 * VMs without running anything in them (logs and wait: cli_logs.c). */
#include "client/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --json and one flag, -x or --long, before the operands; the index of
 * the first operand, or -1 after a usage error. */
static int flags(struct cli *cli, int argc, char **argv, const char *shortf,
		 const char *longf, bool *set)
{
	const struct leading_opts o = { .flag = shortf, .long_flag = longf, .set = set };
	return leading_options(cli, argc, argv, &o);
}

/* inspect VM: the VM as the daemon shows it, indented. */
int cmd_inspect(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, NULL);
	if (at < 0)
		return 2;
	if (at + 1 != argc)
		return cli_usage_error("inspect: expected one VM");
	struct sm_vm vm;
	int st = sm_vm_inspect(cli->c, argv[at], &vm);
	if (st != SM_OK)
		return cli_error(cli, st, argv[at]);
	if (cli->json)
		printf("%s\n", vm.json);
	else
		print_json_pretty(vm.json);
	sm_vm_free(&vm);
	return 0;
}

int cmd_ps(struct cli *cli, int argc, char **argv)
{
	bool all = false;
	int at = flags(cli, argc, argv, "-a", "--all", &all);
	if (at < 0)
		return 2;
	if (at < argc)
		return cli_usage_error("ps: unexpected argument %s", argv[at]);
	struct sm_vm *list;
	size_t n;
	int st = sm_vm_list(cli->c, all, NULL, &list, &n);
	if (st != SM_OK)
		return cli_error(cli, st, "listing VMs");
	if (cli->json) {
		print_json_array(&list->json, n, sizeof *list);
	} else {
		static const char *const head[] = { "VM ID", "IMAGE", "STATE", "CREATED", "CPUS",
						    "MEMORY", "PORTS" };
		struct table *t = table_new(7, head);
		for (size_t i = 0; t && i < n; i++) {
			char ago[64], cpus[16], mem[32], ports[256];
			fmt_ago(ago, sizeof ago, list[i].created);
			snprintf(cpus, sizeof cpus, "%d", list[i].vcpus);
			snprintf(mem, sizeof mem, "%u MiB", list[i].memory_mib);
			ports_summary(list[i].json, ports, sizeof ports);
			const char *row[] = { list[i].id, list[i].image, list[i].state, ago, cpus, mem,
					      ports };
			table_row(t, row);
		}
		table_print_free(t);
	}
	sm_vm_list_free(list, n);
	return 0;
}

static int stop_vm(sm_client *c, const char *id, const void *unused)
{
	(void)unused;
	return sm_vm_stop(c, id);
}

int cmd_stop(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, NULL);
	if (at < 0)
		return 2;
	return act_on_each(cli, argv + at, argc - at, "stop: missing VM", stop_vm, NULL);
}

static int remove_vm(sm_client *c, const char *id, const void *force)
{
	return sm_vm_remove(c, id, *(const bool *)force);
}

int cmd_rm(struct cli *cli, int argc, char **argv)
{
	bool force = false;
	int at = flags(cli, argc, argv, "-f", "--force", &force);
	if (at < 0)
		return 2;
	return act_on_each(cli, argv + at, argc - at, "rm: missing VM", remove_vm, &force);
}

/* "VM:/path" -> vm, path (split in place); NULL path for a host path. */
static void split_target(char *s, char **vm, char **path)
{
	char *colon = strchr(s, ':');
	if (colon && colon > s && colon[1] == '/' && !memchr(s, '/', (size_t)(colon - s))) {
		*colon = 0;
		*vm = s;
		*path = colon + 1;
	} else {
		*vm = NULL;
		*path = s;
	}
}

/* All of stdin, malloc'd. */
static int read_stdin(char **data, size_t *len)
{
	size_t cap = 65536;
	char *buf = malloc(cap);
	*len = 0;
	for (ssize_t n = 1; buf && n > 0;) {
		if (*len == cap) {
			char *b = realloc(buf, cap *= 2);
			if (!b) {
				free(buf);
				return -1;
			}
			buf = b;
		}
		n = read(STDIN_FILENO, buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n < 0) {
			free(buf);
			buf = NULL;
		} else
			*len += (size_t)n;
	}
	*data = buf;
	return buf ? 0 : -1;
}

static int write_stdout(const char *data, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = write(STDOUT_FILENO, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* cp with "-" (stdin or stdout) on the host side: one file's bytes (from
 * a VM folder, the bytes of its tar). */
static int cp_stdio(struct cli *cli, char *src, char *vm, char *vm_path, bool to_vm)
{
	char *data;
	size_t len;
	int st;
	if (to_vm) {
		if (read_stdin(&data, &len) < 0)
			return fprintf(stderr, "supermachine: cp: stdin: %s\n", strerror(errno)), 1;
		st = sm_file_write(cli->c, vm, vm_path, data, len, 0644);
		free(data);
		return st == SM_OK ? 0 : cli_error(cli, st, vm);
	}
	st = sm_file_read(cli->c, vm, vm_path, (void **)&data, &len);
	if (st != SM_OK)
		return cli_error(cli, st, src);
	int rc = write_stdout(data, len);
	free(data);
	if (rc < 0)
		return fprintf(stderr, "supermachine: cp: stdout: %s\n", strerror(errno)), 1;
	return 0;
}

int cmd_cp(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, NULL);
	if (at < 0)
		return 2;
	if (at + 2 != argc)
		return cli_usage_error("cp: expected SRC DST, one of them VM:/path");
	char *svm, *spath, *dvm, *dpath;
	split_target(argv[at], &svm, &spath);
	split_target(argv[at + 1], &dvm, &dpath);
	if (!svm == !dvm)
		return cli_usage_error("cp: exactly one of SRC and DST must be VM:/path");
	if (dvm && !strcmp(spath, "-"))
		return cp_stdio(cli, argv[at], dvm, dpath, true);
	if (svm && !strcmp(dpath, "-"))
		return cp_stdio(cli, argv[at], svm, spath, false);
	int st = dvm ? sm_copy_to_vm(cli->c, dvm, spath, dpath)
		     : sm_copy_from_vm(cli->c, svm, spath, dpath);
	return st == SM_OK ? 0 : cli_error(cli, st, argv[at + (dvm ? 1 : 0)]);
}

/* cli_system.c - info, version and the event feed. */
#include "client/cli.h"

#include <jansson.h>
#include <string.h>

static int only_json_flag(struct cli *cli, int argc, char **argv, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") != 0)
			return cli_usage_error("usage: %s", usage);
		cli->json = true;
	}
	return 0;
}

int cmd_info(struct cli *cli, int argc, char **argv)
{
	struct sm_info info;
	if (only_json_flag(cli, argc, argv, "supermachine info [--json]"))
		return 2;
	int st = sm_info(cli->c, &info);
	if (st != SM_OK)
		return cli_error(cli, st, "info");
	if (cli->json) {
		printf("%s\n", info.json);
	} else {
		printf("Daemon:    supermachined %s\n", info.version);
		printf("Socket:    %s\n", info.socket ? info.socket : sm_client_socket(cli->c));
		printf("Data dir:  %s\n", info.data_dir ? info.data_dir : "-");
		printf("KVM:       %s%s%s\n", info.kvm_usable ? "usable" : "not usable",
		       !info.kvm_usable && info.kvm_reason ? ": " : "",
		       !info.kvm_usable && info.kvm_reason ? info.kvm_reason : "");
		if (info.images >= 0)
			printf("Images:    %ld\n", info.images);
		printf("Defaults:  %d vCPU, %u MiB\n", info.default_vcpus, info.default_memory_mib);
	}
	sm_info_free(&info);
	return 0;
}

int cmd_version(struct cli *cli, int argc, char **argv)
{
	struct sm_version v;
	if (only_json_flag(cli, argc, argv, "supermachine version [--json]"))
		return 2;
	int st = sm_version(cli->c, &v);
	if (cli->json) {
		if (st == SM_OK)
			printf("{\"client\":\"%s\",\"daemon\":%s}\n", SM_CLIENT_VERSION, v.json);
		else
			printf("{\"client\":\"%s\",\"daemon\":null}\n", SM_CLIENT_VERSION);
	} else {
		printf("Client:  %s\n", SM_CLIENT_VERSION);
		if (st == SM_OK)
			printf("Daemon:  %s (API %s, %s/%s)\n", v.version, v.api_version, v.os, v.arch);
	}
	if (st != SM_OK)
		return cli_error(cli, st, "version");
	sm_version_free(&v);
	return 0;
}

struct events_out {
	bool json;
};

static int print_event(const char *type, const char *json, void *ud)
{
	struct events_out *o = ud;
	if (o->json) {
		printf("%s\n", json);
	} else {
		/* time, type, then what it is about */
		json_t *e = json_loads(json, 0, NULL);
		const char *when = json_string_value(json_object_get(e, "time"));
		const char *id = json_string_value(json_object_get(e, "id"));
		const char *name = json_string_value(json_object_get(e, "reference"));
		if (!name)
			name = json_string_value(json_object_get(e, "name"));
		printf("%s  %-16s %s%s%s\n", when ? when : "-", type, id ? short_id(id) : "",
		       name ? "  " : "", name ? name : "");
		json_decref(e);
	}
	fflush(stdout);
	return 0;
}

int cmd_events(struct cli *cli, int argc, char **argv)
{
	struct sm_events_opts eo = { 0 };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			cli->json = true;
		else if (!strcmp(argv[i], "--type") && i + 1 < argc)
			eo.type_prefix = argv[++i];
		else
			return cli_usage_error("usage: supermachine events [--type PREFIX] [--json]");
	}
	struct events_out o = { cli->json };
	int st = sm_events(cli->c, &eo, print_event, &o);
	return st == SM_OK ? 0 : cli_error(cli, st, "events");
}

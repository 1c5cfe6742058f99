/* cli_net.c - networking in the CLI: run's and create's network options
 * (-p/--publish in docker's syntax, --network, --egress-allow,
 * --egress-deny, --egress-default), checked before any request; `port
 * VM [GUEST[/PROTO]]`, docker's listing of published ports, and ps's
 * PORTS column. (`inspect VM` is cli_vms.c's.) */
#include "client/cli.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* A port number: all digits, 1 to 65535. */
static int port_number(const char *s, size_t len, unsigned *out)
{
	unsigned long v = 0;
	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* "[IP:]HOST:GUEST" without the protocol into p (IPv6: "[::1]:8080:80"). */
static int publish_ports(const char *s, struct sm_port *p, char *ip, size_t iplen)
{
	const char *last = strrchr(s, ':'), *rest = s;
	if (!last)
		return -1;
	if (s[0] == '[') {   /* [IPV6]:HOST:GUEST */
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= iplen)
			return -1;
		snprintf(ip, iplen, "%.*s", (int)(close - s - 1), s + 1);
		rest = close + 2;
	} else if (strchr(s, ':') != last) {   /* IPV4:HOST:GUEST */
		const char *first = strchr(s, ':');
		if ((size_t)(first - s) >= iplen)
			return -1;
		snprintf(ip, iplen, "%.*s", (int)(first - s), s);
		rest = first + 1;
	}
	const char *colon = strchr(rest, ':');
	if (!colon || colon != last)
		return -1;
	unsigned char buf[16];
	if (ip[0] && inet_pton(AF_INET, ip, buf) != 1 && inet_pton(AF_INET6, ip, buf) != 1)
		return -1;
	p->host_ip = ip[0] ? ip : NULL;
	return port_number(rest, (size_t)(colon - rest), &p->host_port) ||
	       port_number(colon + 1, strlen(colon + 1), &p->guest_port) ? -1 : 0;
}

/* -p [IP:]HOST:GUEST[/tcp|/udp]. */
static int publish(struct net_args *n, const char *arg)
{
	char spec[128];
	if (n->n_ports == CLI_MAX_PORTS)
		return cli_usage_error("-p %s: at most %d published ports", arg, CLI_MAX_PORTS);
	if (strlen(arg) >= sizeof spec)
		return cli_usage_error("-p %s: too long", arg);
	snprintf(spec, sizeof spec, "%s", arg);
	struct sm_port *p = &n->ports[n->n_ports];
	char *slash = strrchr(spec, '/');
	memset(p, 0, sizeof *p);
	if (slash) {
		if (strcmp(slash, "/tcp") && strcmp(slash, "/udp"))
			return cli_usage_error("-p %s: the protocol must be tcp or udp", arg);
		p->udp = !strcmp(slash, "/udp");
		*slash = 0;
	}
	n->ips[n->n_ports][0] = 0;
	if (publish_ports(spec, p, n->ips[n->n_ports], sizeof n->ips[0]) < 0)
		return cli_usage_error("-p %s: expected [IP:]HOST_PORT:GUEST_PORT[/tcp|/udp] (ports "
				       "1 to 65535; an IPv6 address in brackets: [::1]:8080:80)",
				       arg);
	n->n_ports++;
	return 0;
}

static int rule(const char **list, size_t *n, const char *opt, const char *arg)
{
	if (*n == CLI_MAX_RULES)
		return cli_usage_error("%s %s: at most %d rules", opt, arg, CLI_MAX_RULES);
	if (!*arg)
		return cli_usage_error("%s: an empty rule", opt);
	list[(*n)++] = arg;
	return 0;
}

int net_option(struct net_args *n, int opt, const char *arg)
{
	switch (opt) {
	case 'p':
		return publish(n, arg);
	case CLI_OPT_NETWORK:
		if (strcmp(arg, "none") && strcmp(arg, "outbound"))
			return cli_usage_error("--network %s: expected none or outbound", arg);
		n->network = arg;
		return 0;
	case CLI_OPT_EGRESS_ALLOW:
		return rule(n->allow, &n->n_allow, "--egress-allow", arg);
	case CLI_OPT_EGRESS_DENY:
		return rule(n->deny, &n->n_deny, "--egress-deny", arg);
	case CLI_OPT_EGRESS_DEFAULT:
		if (strcmp(arg, "allow") && strcmp(arg, "deny"))
			return cli_usage_error("--egress-default %s: expected allow or deny", arg);
		n->egress_default = arg;
		return 0;
	}
	return cli_usage_error("unknown option (try --help)");
}

int net_args_check(const struct net_args *n)
{
	bool egress = n->n_allow || n->n_deny || n->egress_default;
	if (n->network && !strcmp(n->network, "none") && (n->n_ports || egress))
		return cli_usage_error("--network none: a VM without a network takes no %s",
				       n->n_ports ? "-p" : "--egress-* options");
	return 0;
}

void net_args_to_opts(const struct net_args *n, struct sm_vm_create_opts *o)
{
	o->network = n->network;
	o->ports = n->n_ports ? n->ports : NULL;
	o->n_ports = n->n_ports;
	o->egress_allow = n->n_allow ? n->allow : NULL;
	o->egress_deny = n->n_deny ? n->deny : NULL;
	o->egress_default = n->egress_default;
}

/* "80/tcp -> 127.0.0.1:18080" (no filter), or "127.0.0.1:18080" (one guest port asked). */
static void print_port(json_t *p, bool filtered)
{
	const char *ip = json_string_value(json_object_get(p, "host_ip"));
	const char *proto = json_string_value(json_object_get(p, "protocol"));
	json_int_t host = json_integer_value(json_object_get(p, "host_port"));
	json_int_t guest = json_integer_value(json_object_get(p, "guest_port"));
	bool v6 = ip && strchr(ip, ':');
	if (!filtered)
		printf("%lld/%s -> ", (long long)guest, proto ? proto : "tcp");
	printf("%s%s%s:%lld\n", v6 ? "[" : "", ip ? ip : "", v6 ? "]" : "", (long long)host);
}

void ports_summary(const char *vm_json, char *buf, size_t len)
{
	json_t *j = json_loads(vm_json, 0, NULL), *p;
	size_t i, used = 0;
	buf[0] = 0;
	json_array_foreach(json_object_get(j, "ports"), i, p) {
		const char *ip = json_string_value(json_object_get(p, "host_ip"));
		const char *proto = json_string_value(json_object_get(p, "protocol"));
		bool v6 = ip && strchr(ip, ':');
		int n = snprintf(buf + used, len - used, "%s%s%s%s:%lld->%lld/%s", i ? ", " : "",
				 v6 ? "[" : "", ip ? ip : "", v6 ? "]" : "",
				 (long long)json_integer_value(json_object_get(p, "host_port")),
				 (long long)json_integer_value(json_object_get(p, "guest_port")),
				 proto ? proto : "tcp");
		if (n < 0 || (size_t)n >= len - used) {
			snprintf(buf + (len > 4 ? len - 4 : 0), len > 4 ? 4 : len, "...");
			break;
		}
		used += (size_t)n;
	}
	json_decref(j);
}

/* GUEST[/PROTO] as a filter: 0, or a usage error. */
static int port_filter(const char *arg, unsigned *guest, const char **proto)
{
	const char *slash = strchr(arg, '/');
	*proto = slash ? slash + 1 : "tcp";
	if (port_number(arg, slash ? (size_t)(slash - arg) : strlen(arg), guest) < 0 ||
	    (strcmp(*proto, "tcp") && strcmp(*proto, "udp")))
		return cli_usage_error("port: %s: expected GUEST_PORT[/tcp|/udp]", arg);
	return 0;
}

int cmd_port(struct cli *cli, int argc, char **argv)
{
	int at = leading_options(cli, argc, argv, NULL);
	unsigned guest = 0;
	const char *proto = NULL;
	if (at < 0)
		return 2;
	if (at >= argc || argc - at > 2)
		return cli_usage_error("port: expected VM [GUEST_PORT[/tcp|/udp]]");
	if (argc - at == 2 && port_filter(argv[at + 1], &guest, &proto))
		return 2;
	struct sm_vm vm;
	int st = sm_vm_inspect(cli->c, argv[at], &vm);
	if (st != SM_OK)
		return cli_error(cli, st, argv[at]);
	json_t *j = json_loads(vm.json, 0, NULL), *ports = json_object_get(j, "ports"), *p;
	size_t i, shown = 0;
	json_t *out = json_array();
	json_array_foreach(ports, i, p) {
		const char *pp = json_string_value(json_object_get(p, "protocol"));
		if (guest && (json_integer_value(json_object_get(p, "guest_port")) != (json_int_t)guest ||
			      !pp || strcmp(pp, proto)))
			continue;
		shown++;
		if (cli->json)
			json_array_append(out, p);
		else
			print_port(p, guest != 0);
	}
	if (cli->json) {
		char *text = json_dumps(out, JSON_COMPACT);
		printf("%s\n", text ? text : "[]");
		free(text);
	}
	int rc = 0;
	if (guest && !shown) {
		fprintf(stderr, "supermachine: VM %s publishes no host port for %u/%s\n", vm.id,
			guest, proto);
		rc = 1;
	}
	json_decref(out);
	json_decref(j);
	sm_vm_free(&vm);
	return rc;
}

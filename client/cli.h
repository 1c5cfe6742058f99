/* cli.h - the supermachine CLI's shared parts: each command is a
 * function in cli_<area>.c taking its own argv (argv[0] = command name). */
#ifndef SM_CLI_H
#define SM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client/supermachine.h"

struct cli {
	sm_client *c;
	bool json;           /* --json: machine output */
	bool tty;            /* stdout is a terminal */
};

/* Prints the library's error for what failed; returns the exit code. */
int cli_error(struct cli *cli, int status, const char *what);
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_pull(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_images(struct cli *cli, int argc, char **argv);
int cmd_rmi(struct cli *cli, int argc, char **argv);
int cmd_info(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);
int cmd_events(struct cli *cli, int argc, char **argv);
/* cli_run.c */
int cmd_run(struct cli *cli, int argc, char **argv);
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_exec(struct cli *cli, int argc, char **argv);
/* cli_vms.c */
int cmd_ps(struct cli *cli, int argc, char **argv);
int cmd_stop(struct cli *cli, int argc, char **argv);
int cmd_rm(struct cli *cli, int argc, char **argv);
int cmd_logs(struct cli *cli, int argc, char **argv);
int cmd_wait(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_cp(struct cli *cli, int argc, char **argv);
int cmd_inspect(struct cli *cli, int argc, char **argv);
/* cli_snapshots.c */
int cmd_snapshot(struct cli *cli, int argc, char **argv);
int cmd_snapshots(struct cli *cli, int argc, char **argv);
int cmd_fork(struct cli *cli, int argc, char **argv);
/* cli_pools.c */
int cmd_pool(struct cli *cli, int argc, char **argv);
int cmd_gc(struct cli *cli, int argc, char **argv);
/* cli_volumes.c */
int cmd_volume(struct cli *cli, int argc, char **argv);

/* cli_args.c: the options before a command's operands. Besides these,
 * --json (cli->json) and "--" (the end of options). */
struct leading_opts {
	const char *flag, *long_flag;  /* "-f", "--force": set *set */
	bool *set;
	const char *value_flag;        /* "-n": "-n N" or "-nN" into *value */
	const char **value;
	const char *help;              /* in the unknown-option error; NULL: "--help" */
};
/* o NULL: only --json. The index of the first operand, or -1 after a
 * usage error. */
int leading_options(struct cli *cli, int argc, char **argv, const struct leading_opts *o);
/* Whether a command's arguments (argv[0] = its name) ask for its help:
 * "--help" or "-h" among its options, anywhere before "--". With
 * cmd_line (run, create, exec: a command line follows the target), the
 * first operand ends the options, so `run IMAGE ls --help` is ls's. The
 * values of value options (cli_args.c's list) are skipped. */
bool asks_for_help(int argc, char **argv, bool cmd_line);
/* s as a number from lo to hi into *out, else a usage error ("WHAT S:
 * expected a number from LO to HI") and non-zero. */
int cli_number(const char *what, const char *s, long lo, long hi, long *out);
/* s as a size in MiB (a number of MiB, or 64k/512M/10G/1T, binary units)
 * from lo_mib to hi_mib into *out, else a usage error and non-zero. */
int cli_size_mib(const char *what, const char *s, unsigned long long lo_mib,
		 unsigned long long hi_mib, unsigned long long *out);
/* act on each of n names, printing each name done and the error of each
 * not (none: a usage error saying missing); 0 or the last error's code. */
typedef int (*cli_action)(sm_client *c, const char *name, const void *arg);
int act_on_each(struct cli *cli, char **names, int n, const char *missing,
		cli_action act, const void *arg);

/* cli_net.c: run's and create's network options, and `port`. */
#define CLI_MAX_PORTS 32
#define CLI_MAX_RULES 64
enum { CLI_OPT_NETWORK = 512, CLI_OPT_EGRESS_ALLOW, CLI_OPT_EGRESS_DENY,
       CLI_OPT_EGRESS_DEFAULT };
struct net_args {
	struct sm_port ports[CLI_MAX_PORTS];
	char ips[CLI_MAX_PORTS][48];   /* the ports' host_ip strings */
	size_t n_ports;
	const char *network, *egress_default;
	const char *allow[CLI_MAX_RULES + 1], *deny[CLI_MAX_RULES + 1]; /* NULL-terminated */
	size_t n_allow, n_deny;
};
/* One option ('p' or a CLI_OPT_*) with its value, checked: -p
 * [IP:]HOST:GUEST[/tcp|/udp], --network none|outbound, --egress-allow
 * RULE, --egress-deny RULE, --egress-default allow|deny. 0, or a usage
 * error's status. n must start zeroed. */
int net_option(struct net_args *n, int opt, const char *arg);
/* Options that cannot go together (-p or --egress-* with --network none). */
int net_args_check(const struct net_args *n);
void net_args_to_opts(const struct net_args *n, struct sm_vm_create_opts *o);
int cmd_port(struct cli *cli, int argc, char **argv);
/* A VM's published ports for ps, as docker's: "127.0.0.1:18080->80/tcp,
 * [::1]:53->53/udp" ("" for none; "..." ends what does not fit). */
void ports_summary(const char *vm_json, char *buf, size_t len);

/* cli_format.c */
void fmt_size(char *buf, size_t len, uint64_t bytes);
void fmt_ago(char *buf, size_t len, const char *rfc3339);
const char *short_id(const char *id);  /* 12 hex digits of sha256:… */

/* A table: add rows of ncols cells, then print with aligned columns. */
struct table;
struct table *table_new(int ncols, const char *const *headers);
void table_row(struct table *t, const char *const *cells);
void table_print(struct table *t, FILE *out);
void table_free(struct table *t);
/* table_print to stdout, then table_free. */
void table_print_free(struct table *t);

/* A JSON array of n items' json texts: first is &list->json, stride
 * sizeof *list. */
void print_json_array(char *const *first, size_t n, size_t stride);
/* A JSON text indented (as it is if it does not parse). */
void print_json_pretty(const char *json);

/* cli_progress.c: pull/import progress, bars on a terminal, lines not. */
struct progress;
struct progress *progress_new(bool tty, FILE *out);
int progress_cb(const struct sm_progress_event *ev, void *ud);
void progress_finish(struct progress *p);

#endif

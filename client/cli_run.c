/* cli_run.c - run, create and exec: the commands that start guest work.
 *
 * Output chunks go to our stdout/stderr as they arrive; the guest
 * command's exit status becomes ours (128+N for a signal, 124 for a
 * timeout). Ctrl-C (SIGINT) and SIGTERM are not ours to die of while a
 * command runs: a thread waits for them and forwards them to the guest
 * process group through the exec's signal route, on a client handle of
 * its own. -i sends our stdin (read to EOF first) as the command's input.
 * -t (usually -it) runs the command on a guest pty instead: our terminal
 * goes raw, keys (Ctrl-C included) go to the guest as bytes, and SIGWINCH
 * resizes the guest's pty. A command the guest cannot find or run is
 * reported in docker's words with docker's status (127, 126). --from SNAPSHOT (run, create) restores the VM
 * from a snapshot instead of booting an image. -v HOST:GUEST[:ro] (run,
 * create) shares a host folder; a relative HOST is resolved against our
 * cwd before it goes to the daemon, which checks it against its shared
 * folders. run -d starts the VM's command as its main process, detached
 * (the daemon keeps its output: `logs`, `wait`), and prints the VM's id.
 * --entrypoint X (run, create) is docker's: X replaces the image's
 * ENTRYPOINT and its CMD is dropped (only CMD... given here follows);
 * --entrypoint "" clears it, so CMD... alone is the command.
 * -p, --network and --egress-* (run, create) are cli_net.c's.
 */
#include "client/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ENV 256
#define MAX_LABELS 64
#define MAX_MOUNTS 4
#define MAX_VOLUMES 4

struct run_args {
	const char *env[MAX_ENV + 1];
	const char *labels[MAX_LABELS + 1];
	size_t n_env, n_labels;
	const char *workdir, *user, *hostname;
	int vcpus;
	unsigned memory_mib, storage_mib, timeout_s;
	bool rm, interactive, tty, detach;
	char **cmd;                /* after the image / VM, NULL-terminated */
	/* --entrypoint X: {X, NULL}, or {NULL} for "" (none); used when set */
	const char *entrypoint[2];
	bool entrypoint_set;
	const char *target;        /* image (run, create) or VM (exec) */
	const char *from;          /* --from: a snapshot instead of an image */
	struct sm_mount mounts[MAX_MOUNTS]; /* -v: host_path malloc'd (realpath) */
	size_t n_mounts;
	struct sm_volume_mount volumes[MAX_VOLUMES]; /* -v NAME:GUEST: malloc'd */
	size_t n_volumes;
	struct net_args net;       /* -p, --network, --egress-* (cli_net.c) */
};

/* The running exec, for the signal thread. */
static struct {
	pthread_mutex_t mu;
	char vm[64], exec_id[64];
	const char *socket;
} fwd = { .mu = PTHREAD_MUTEX_INITIALIZER };

enum { OPT_CPUS = 256, OPT_MEMORY, OPT_STORAGE, OPT_RM, OPT_LABEL, OPT_TIMEOUT, OPT_JSON,
       OPT_FROM, OPT_HOSTNAME, OPT_ENTRYPOINT };
static const struct option run_opts[] = {
	{ "env", required_argument, NULL, 'e' },
	{ "workdir", required_argument, NULL, 'w' },
	{ "user", required_argument, NULL, 'u' },
	{ "interactive", no_argument, NULL, 'i' },
	{ "tty", no_argument, NULL, 't' },
	{ "detach", no_argument, NULL, 'd' },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "storage", required_argument, NULL, OPT_STORAGE },
	{ "rm", no_argument, NULL, OPT_RM },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "volume", required_argument, NULL, 'v' },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
	{ "publish", required_argument, NULL, 'p' },
	{ "network", required_argument, NULL, CLI_OPT_NETWORK },
	{ "egress-allow", required_argument, NULL, CLI_OPT_EGRESS_ALLOW },
	{ "egress-deny", required_argument, NULL, CLI_OPT_EGRESS_DENY },
	{ "egress-default", required_argument, NULL, CLI_OPT_EGRESS_DEFAULT },
	{ NULL, 0, NULL, 0 },
};

/* A size as MiB, or with a suffix: 512m, 2g, 1t; at most max MiB. */
static int mib_size(const char *opt, const char *s, unsigned long long max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end == 't' || *end == 'T')
		v *= 1024 * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		v *= 1024, end++;
	else if (*end == 'm' || *end == 'M')
		end++;
	if (errno || end == s || *end || s[0] == '-' || v < 1 || v > max)
		return cli_usage_error("%s %s: expected MiB (or 512m, 2g, 1t)", opt, s);
	*out = (unsigned)v;
	return 0;
}

/* -v NAME:GUEST[:ro], a named volume (docker's rule: a source without a
 * "/" that starts with a letter or digit). */
static int named_volume(const char *arg, const char *colon, struct run_args *a)
{
	const char *guest = colon + 1, *opt = strchr(guest, ':');
	if (a->n_volumes == MAX_VOLUMES)
		return cli_usage_error("-v %s: at most %d volumes", arg, MAX_VOLUMES);
	if (opt == guest || !*guest || (opt && strcmp(opt, ":ro")))
		return cli_usage_error("-v %s: expected NAME:GUEST[:ro]", arg);
	char *name = strndup(arg, (size_t)(colon - arg));
	char *g = opt ? strndup(guest, (size_t)(opt - guest)) : strdup(guest);
	if (!name || !g) {
		free(name);
		free(g);
		return cli_usage_error("out of memory");
	}
	a->volumes[a->n_volumes++] = (struct sm_volume_mount){ .name = name, .guest_path = g,
							       .readonly = opt != NULL };
	return 0;
}

/* -v HOST:GUEST[:ro]: HOST resolved (realpath: a relative one against
 * our cwd, symlinks followed, so the daemon checks the real folder); or a
 * named volume. */
static int volume(const char *arg, struct run_args *a)
{
	char host[PATH_MAX], *colon = strchr(arg, ':');
	if (colon && colon != arg && isalnum((unsigned char)arg[0]) &&
	    !memchr(arg, '/', (size_t)(colon - arg)))
		return named_volume(arg, colon, a);
	if (a->n_mounts == MAX_MOUNTS)
		return cli_usage_error("-v %s: at most %d mounts", arg, MAX_MOUNTS);
	if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof host)
		return cli_usage_error("-v %s: expected HOST:GUEST[:ro]", arg);
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = 0;
	const char *guest = colon + 1, *opt = strchr(guest, ':');
	if (opt == guest || !*guest || (opt && strcmp(opt, ":ro")))
		return cli_usage_error("-v %s: expected HOST:GUEST[:ro]", arg);
	char *real = realpath(host, NULL);
	if (!real)
		return cli_usage_error("-v %s: host folder %s: %s", arg, host, strerror(errno));
	char *g = opt ? strndup(guest, (size_t)(opt - guest)) : strdup(guest);
	if (!g) {
		free(real);
		return cli_usage_error("out of memory");
	}
	a->mounts[a->n_mounts++] = (struct sm_mount){ .host_path = real, .guest_path = g,
						     .readonly = opt != NULL };
	return 0;
}

static void free_mounts(struct run_args *a)
{
	for (size_t i = 0; i < a->n_mounts; i++) {
		free((char *)a->mounts[i].host_path);
		free((char *)a->mounts[i].guest_path);
	}
	a->n_mounts = 0;
	for (size_t i = 0; i < a->n_volumes; i++) {
		free((char *)a->volumes[i].name);
		free((char *)a->volumes[i].guest_path);
	}
	a->n_volumes = 0;
}

static int parse_opt(struct cli *cli, int opt, struct run_args *a)
{
	long n;
	switch (opt) {
	case 'e':
		if (a->n_env == MAX_ENV || !strchr(optarg, '='))
			return cli_usage_error("-e %s: expected KEY=VALUE", optarg);
		a->env[a->n_env++] = optarg;
		return 0;
	case OPT_LABEL:
		if (a->n_labels == MAX_LABELS)
			return cli_usage_error("too many labels");
		a->labels[a->n_labels++] = optarg;
		return 0;
	case 'w': a->workdir = optarg; return 0;
	case 'u': a->user = optarg; return 0;
	case 'i': a->interactive = true; return 0;
	case 't': a->tty = true; return 0;
	case 'd': a->detach = true; return 0;
	case OPT_RM: a->rm = true; return 0;
	case OPT_JSON: cli->json = true; return 0;
	case OPT_FROM: a->from = optarg; return 0;
	case OPT_HOSTNAME: a->hostname = optarg; return 0;
	case OPT_ENTRYPOINT:   /* one string, as docker's: "" clears it */
		a->entrypoint[0] = optarg[0] ? optarg : NULL;
		a->entrypoint_set = true;
		return 0;
	case 'v': return volume(optarg, a) ? 2 : 0;
	case OPT_CPUS:
		if (cli_number("--cpus", optarg, 1, 64, &n))
			return 2;
		a->vcpus = (int)n;
		return 0;
	case OPT_TIMEOUT:
		if (cli_number("--timeout", optarg, 1, 86400, &n))
			return 2;
		a->timeout_s = (unsigned)n;
		return 0;
	case OPT_MEMORY:
		return mib_size("--memory", optarg, 1u << 20, &a->memory_mib) ? 2 : 0;
	case OPT_STORAGE:   /* the daemon checks its own range */
		return mib_size("--storage", optarg, 1u << 30, &a->storage_mib) ? 2 : 0;
	case 'p': case CLI_OPT_NETWORK: case CLI_OPT_EGRESS_ALLOW: case CLI_OPT_EGRESS_DENY:
	case CLI_OPT_EGRESS_DEFAULT:
		return net_option(&a->net, opt, optarg) ? 2 : 0;
	}
	return cli_usage_error("unknown option (try --help)");
}

/* Is opt (a letter or a long option's value) in the space-separated list? */
static bool option_allowed(int opt, const char *allowed)
{
	char name[32] = "";
	if (opt < 256)
		snprintf(name, sizeof name, "%c", opt);
	for (const struct option *o = run_opts; opt >= 256 && o->name; o++)
		if (o->val == opt)
			snprintf(name, sizeof name, "%s", o->name);
	size_t n = strlen(name);
	for (const char *p = allowed; n && (p = strstr(p, name)); p += n)
		if ((p == allowed || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

/* OPTIONS TARGET [--] [CMD...] (no TARGET with --from); allowed: option
 * letters/names accepted. */
static int parse_run(struct cli *cli, int argc, char **argv, const char *allowed,
		     struct run_args *a)
{
	int opt;
	memset(a, 0, sizeof *a);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+e:w:u:v:p:itd", run_opts, NULL)) != -1) {
		if (opt == '?' || !option_allowed(opt, allowed))
			return cli_usage_error("%s: unknown option (try --help)", argv[0]);
		int rc = parse_opt(cli, opt, a);
		if (rc)
			return rc;
	}
	if (net_args_check(&a->net))
		return 2;
	if (a->from && (a->n_mounts || a->n_volumes))
		return cli_usage_error("%s: -v cannot be used with --from (not supported yet)",
				       argv[0]);
	if (a->from) {
		a->target = a->from;   /* the VM's source, for messages */
	} else if (optind >= argc) {
		return cli_usage_error("%s: missing %s", argv[0],
				       strcmp(argv[0], "exec") ? "IMAGE (or --from SNAPSHOT)" : "VM");
	} else {
		a->target = argv[optind++];
	}
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	a->cmd = optind < argc ? argv + optind : NULL;
	return 0;
}

static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	for (;;) {
		int sig;
		if (sigwait(set, &sig) != 0)
			continue;
		pthread_mutex_lock(&fwd.mu);
		char vm[64], id[64];
		snprintf(vm, sizeof vm, "%s", fwd.vm);
		snprintf(id, sizeof id, "%s", fwd.exec_id);
		pthread_mutex_unlock(&fwd.mu);
		if (!id[0] && sig != SIGWINCH)
			_exit(128 + sig);   /* nothing runs in the guest yet */
		struct sm_client_opts o = { .socket_path = fwd.socket };
		struct winsize ws;
		sm_client *c;
		if (id[0] && sm_client_new(&o, &c) == SM_OK) {
			if (sig == SIGWINCH) {
				if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row)
					sm_exec_resize(c, vm, id, ws.ws_row, ws.ws_col);
			} else if (sm_exec_signal(c, vm, id, sig) != SM_OK)
				fprintf(stderr, "supermachine: forwarding signal %d: %s\n", sig,
					sm_errmsg(c));
			sm_client_free(c);
		}
	}
	return NULL;
}

static void start_forwarding(struct cli *cli)
{
	static sigset_t set;
	pthread_t t;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* An ignored signal is dropped before sigwait can see it (a shell
	 * starts background jobs with SIGINT ignored); blocked, the default
	 * action never runs. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	fwd.socket = sm_client_socket(cli->c);
	if (pthread_create(&t, NULL, signal_thread, &set) == 0)
		pthread_detach(t);
}

static void on_output(int fd, const char *buf, size_t n, void *ud)
{
	(void)ud;
	FILE *f = fd == 1 ? stdout : stderr;
	fwrite(buf, 1, n, f);
	fflush(f);
}

static void on_start(const char *exec_id, int pid, void *ud)
{
	(void)pid;
	pthread_mutex_lock(&fwd.mu);
	snprintf(fwd.vm, sizeof fwd.vm, "%s", (const char *)ud);
	snprintf(fwd.exec_id, sizeof fwd.exec_id, "%s", exec_id ? exec_id : "");
	pthread_mutex_unlock(&fwd.mu);
}

/* Our whole stdin, for -i. */
static char *read_stdin(size_t *len)
{
	size_t cap = 65536;
	char *buf = malloc(cap);
	*len = 0;
	for (ssize_t n; buf; *len += (size_t)n) {
		if (*len == cap) {
			char *b = realloc(buf, cap *= 2);
			if (!b)
				break;
			buf = b;
		}
		n = read(STDIN_FILENO, buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			n = 0;
		else if (n <= 0)
			return buf;
	}
	free(buf);
	return NULL;
}

/* An exec that failed: docker's words and status (127: the command was
 * not found, 126: it cannot be run), else the daemon's message and 1. */
static int exec_error(struct cli *cli, int st)
{
	const char *code = sm_errcode(cli->c);
	int status = !strcmp(code, "command_not_found") ? 127
		   : !strcmp(code, "command_not_executable") ? 126 : 0;
	if (!status)
		return cli_error(cli, st, "exec");
	fprintf(stderr, "supermachine: %s\n", sm_errmsg(cli->c));
	return status;
}

/* -t: cmd on a guest pty, our terminal raw meanwhile. */
static int exec_tty(struct cli *cli, const char *vm, char **cmd, struct sm_exec_opts *eo)
{
	struct termios saved, raw;
	struct winsize ws = { 0 };
	bool is_tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (is_tty) {
		ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
	}
	struct sm_exec_result res;
	int st = sm_exec_tty(cli->c, vm, (const char *const *)cmd, eo, ws.ws_row, ws.ws_col,
			     STDIN_FILENO, STDOUT_FILENO, &res);
	if (is_tty)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
	if (st != SM_OK)
		return exec_error(cli, st);
	return sm_exec_status(&res);
}

/* Runs cmd (NULL: the VM's command) in vm; the exit status for the CLI.
 * per_exec: env, workdir and user are for this command (exec), not
 * already the VM's (run). */
static int exec_in(struct cli *cli, const char *vm, char **cmd, const struct run_args *a,
		   bool per_exec)
{
	struct sm_exec_opts eo = {
		.timeout_s = a->timeout_s,
		.on_output = on_output, .on_start = on_start, .ud = (void *)vm,
	};
	if (per_exec) {
		eo.env = a->n_env ? a->env : NULL;
		eo.cwd = a->workdir;
		eo.user = a->user;
	}
	if (a->tty)
		return exec_tty(cli, vm, cmd, &eo);
	char *in = NULL;
	if (a->interactive) {
		if (!(in = read_stdin(&eo.stdin_len)))
			return cli_usage_error("reading stdin: %s", strerror(errno));
		eo.stdin_data = in;
	}
	struct sm_exec_result res;
	int st = sm_exec(cli->c, vm, (const char *const *)cmd, &eo, &res);
	free(in);
	if (st != SM_OK)
		return exec_error(cli, st);
	int code = sm_exec_status(&res);
	sm_exec_result_free(&res);
	return code;
}

static int create(struct cli *cli, const struct run_args *a, struct sm_vm *vm)
{
	struct sm_vm_create_opts o = {
		.env = a->n_env ? a->env : NULL, .workdir = a->workdir, .user = a->user,
		.cmd = (const char *const *)a->cmd, .labels = a->n_labels ? a->labels : NULL,
		.vcpus = a->vcpus, .memory_mib = a->memory_mib, .auto_remove = a->rm,
		.storage_mib = a->storage_mib,
		.mounts = a->n_mounts ? a->mounts : NULL, .n_mounts = a->n_mounts,
		.volumes = a->n_volumes ? a->volumes : NULL, .n_volumes = a->n_volumes,
		.hostname = a->hostname, .entrypoint = a->entrypoint_set ? a->entrypoint : NULL,
	};
	net_args_to_opts(&a->net, &o);
	int st = a->from ? sm_vm_restore(cli->c, a->from, &o, vm)
			 : sm_vm_create(cli->c, a->target, &o, vm);
	return st == SM_OK ? 0 : cli_error(cli, st, a->target);
}

/* run -d: the VM's command becomes its main process, kept running by the
 * daemon (its output for `logs`, its end for `wait`); prints the VM. */
static int run_detached(struct cli *cli, struct run_args *a)
{
	struct sm_vm vm;
	int rc = create(cli, a, &vm);
	free_mounts(a);
	if (rc)
		return rc;
	int st = sm_vm_main_start(cli->c, vm.id, NULL);
	if (st != SM_OK) {
		rc = cli_error(cli, st, vm.id);
		sm_vm_remove(cli->c, vm.id, 1);
	} else {
		printf("%s\n", cli->json ? vm.json : vm.id);
	}
	sm_vm_free(&vm);
	return rc;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
	struct run_args a;
	struct sm_vm vm;
	int rc = parse_run(cli, argc, argv, "e w u i t d v p cpus memory storage rm label timeout json "
			   "from detach hostname entrypoint network egress-allow egress-deny "
			   "egress-default", &a);
	if (!rc && a.detach && (a.interactive || a.tty || a.timeout_s))
		rc = cli_usage_error("run: -d cannot be used with -i, -t or --timeout");
	if (rc) {
		free_mounts(&a);
		return rc;
	}
	if (a.detach)
		return run_detached(cli, &a);
	start_forwarding(cli);
	rc = create(cli, &a, &vm);
	free_mounts(&a);
	if (rc)
		return rc;
	rc = exec_in(cli, vm.id, NULL, &a, false);
	int st = a.rm ? sm_vm_remove(cli->c, vm.id, 1) : sm_vm_stop(cli->c, vm.id);
	if (st != SM_OK)
		fprintf(stderr, "supermachine: %s VM %s: %s\n", a.rm ? "removing" : "stopping",
			vm.id, sm_errmsg(cli->c));
	sm_vm_free(&vm);
	return rc;
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
	struct run_args a;
	struct sm_vm vm;
	int rc = parse_run(cli, argc, argv, "e w u v p cpus memory storage rm label json from hostname "
			   "entrypoint network egress-allow egress-deny egress-default", &a);
	if (!rc)
		rc = create(cli, &a, &vm);
	free_mounts(&a);
	if (rc)
		return rc;
	printf("%s\n", cli->json ? vm.json : vm.id);
	sm_vm_free(&vm);
	return 0;
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
	struct run_args a;
	int rc = parse_run(cli, argc, argv, "e w u i t timeout json", &a);
	if (rc)
		return rc;
	if (!a.cmd)
		return cli_usage_error("exec: missing the command (exec VM -- CMD...)");
	start_forwarding(cli);
	return exec_in(cli, a.target, a.cmd, &a, true);
}

/* cli.c - supermachine: a thin CLI over libsupermachine.
 *
 * docker/podman habits: `supermachine pull busybox`, `images`, `rmi`,
 * `run --rm busybox -- echo hi`, `exec`, `ps`, `rm`, `cp`, `logs`,
 * tables for people and --json for programs. Global options come before
 * the command; every command also takes --json. When the daemon cannot be
 * reached the message says so and names the socket.
 */
#include "client/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MOUNT_HELP \
	"-v, --volume HOST:GUEST[:ro] (repeatable, at most 4) shares the host\n" \
	"folder HOST at GUEST in the VM over virtio-fs (:ro read-only); a relative\n" \
	"HOST (it must have a /: ./dir) is resolved against the current folder.\n" \
	"The daemon shares only folders beneath its \"shared_folders\" (default: its\n" \
	"user's home). A VM with such -v is restored from its image's bake or taken\n" \
	"from a warm pool like any other (the folders are bound to it then); it\n" \
	"cannot be snapshotted or forked, and -v cannot be used with --from.\n" \
	"-v NAME:GUEST[:ro] (NAME without a /; at most 4) mounts the named volume\n" \
	"NAME (`volume create`) at GUEST: read-write in one running VM at a time,\n" \
	"read-only in any number. A VM with volumes boots (no bake, no pool)."

#define NET_HELP \
	"--network outbound|none: a NIC on user-mode networking (passt) that\n" \
	"reaches out through the host, or no NIC (default: the daemon's, see\n" \
	"`info`). -p, --publish [IP:]HOST:GUEST[/tcp|/udp] (repeatable, at most 32)\n" \
	"forwards the host's IP:HOST (IP default 127.0.0.1; [::1]:8080:80 for IPv6)\n" \
	"to GUEST in the VM; a host port already taken (by anything, or by another\n" \
	"VM) refuses the VM. `port VM` lists them. --egress-allow RULE and\n" \
	"--egress-deny RULE (repeatable, at most 64 together) and\n" \
	"--egress-default allow|deny set where the VM may connect; RULE is\n" \
	"ADDRESS[/LEN][:PORT[-PORT]][/tcp|/udp|/icmp], ADDRESS any, an IPv4 or an\n" \
	"[IPv6] address (10.0.0.0/8:443, any:53/udp, [2001:db8::]/32). Deny rules\n" \
	"(the daemon's, then these) beat allow rules (these, then the daemon's),\n" \
	"which beat the default; a daemon whose config denies by default may\n" \
	"refuse allow rules and --egress-default allow (forbidden).\n"

static const struct {
	const char *name;
	int (*fn)(struct cli *, int, char **);
	const char *help;
	const char *details;   /* for `supermachine COMMAND --help`, or NULL */
} commands[] = {
	{ "pull", cmd_pull, "pull [--platform OS/ARCH] IMAGE   pull an image from its registry", NULL },
	{ "import", cmd_import, "import [--tag NAME[:REF]] [--ref REF] [--platform OS/ARCH] PATH\n"
	  "                                    import an OCI layout or docker-save tar",
	  "An OCI layout holding several images: the one whose ref (its\n"
	  "org.opencontainers.image.ref.name) is REF (--ref, or the REF of --tag),\n"
	  "then the one for the platform (default linux/amd64). Without --tag an\n"
	  "image is named by the layout's own name for it, or for a bare ref R as\n"
	  "FILE:R (FILE: the layout's file name without .tar)." },
	{ "images", cmd_images, "images [-q]                       list images", NULL },
	{ "rmi", cmd_rmi, "rmi [-f] IMAGE...                 remove images", NULL },
	{ "run", cmd_run, "run [-d] [--rm] [-e K=V] [-w DIR] [-u USER] [--cpus N] [--memory M] [-i] [-t]\n"
	  "      [--storage SIZE] [-v HOST|NAME:GUEST[:ro]] [--label K=V] [--timeout S]\n"
	  "      [--hostname NAME] [--entrypoint CMD] [-p [IP:]HOST:GUEST[/udp]]\n"
	  "      [--network none|outbound] [--egress-allow RULE] [--egress-deny RULE]\n"
	  "      [--egress-default allow|deny] IMAGE|--from SNAPSHOT\n"
	  "      [-- CMD...]                   run a command in a new VM (--rm: remove it after;\n"
	  "                                    -d: detached, print the VM id)",
	  "A new VM boots IMAGE, or is restored from SNAPSHOT (--from: its memory,\n"
	  "processes and files as they were when it was taken; its env, cmd,\n"
	  "entrypoint, workdir and user unless given here; --cpus/--memory/--storage\n"
	  "must be the snapshot's). The command is the image's ENTRYPOINT + CMD;\n"
	  "CMD... replaces its CMD. --entrypoint CMD replaces its ENTRYPOINT with CMD\n"
	  "and drops its CMD (only CMD... given here follow), as docker does;\n"
	  "--entrypoint \"\" clears it, so CMD... alone is the command. The exit\n"
	  "status is the command's (128+N for signal N), or docker's 127 (not found)\n"
	  "and 126 (cannot be run).\n"
	  "-e K=V over the image's env; -w DIR the working folder (made if missing);\n"
	  "-u USER|UID[:GROUP|GID] as in the guest's /etc/passwd and /etc/group;\n"
	  "-i send our stdin; -t on a pty (-it for a shell); --timeout S kill CMD\n"
	  "after S seconds; --hostname NAME (RFC 1123; default: the VM's short id).\n"
	  "--storage: the VM's writable layer, a sparse disk of its own (MiB, or\n"
	  "512m, 10g, 1t; default: the daemon's, see `info`); writing past it is\n"
	  "\"No space left on device\" in the VM.\n"
	  "-d starts it as the VM's main process, detached: the daemon keeps its\n"
	  "stdout and stderr (logs), its end (wait), and stops the VM (--rm:\n"
	  "removes it) when it ends.\n"
	  NET_HELP
	  MOUNT_HELP },
	{ "create", cmd_create, "create [run's VM options] IMAGE|--from SNAPSHOT [-- CMD...]\n"
	  "                                    boot (or restore) a VM, print its id",
	  "Takes run's VM options (-e, -w, -u, --cpus, --memory, --storage, --rm,\n"
	  "--label, -v, --from, --hostname, --entrypoint, -p, --network, --egress-*)\n"
	  "and prints the new VM's id (--json: the VM). CMD... and --entrypoint make\n"
	  "the VM's command as for run (the API runs it for an exec without argv and\n"
	  "as the main process).\n"
	  NET_HELP
	  MOUNT_HELP },
	{ "exec", cmd_exec, "exec [-e K=V] [-w DIR] [-u USER] [-i] [-t] VM -- CMD...  run a command in a VM\n"
	  "                                    (-t: on a pty; -it for a shell)",
	  "-e K=V over the VM's env; -w DIR the working folder; -u USER|UID[:GROUP|GID];\n"
	  "-i send our stdin; -t on a pty; --timeout S. The exit status is CMD's, or\n"
	  "docker's 127 (CMD not found) and 126 (CMD cannot be run)." },
	{ "ps", cmd_ps, "ps [-a]                           list running VMs (-a: all)", NULL },
	{ "inspect", cmd_inspect, "inspect VM                        a VM's settings and state (JSON)",
	  "The VM as the daemon shows it (GET /v1/vms/{id}), indented: its image,\n"
	  "resources, command, state, network, published ports and effective egress\n"
	  "policy (the daemon's rules merged with its own), mounts, volumes." },
	{ "port", cmd_port, "port VM [GUEST_PORT[/PROTO]]      list a VM's published ports",
	  "One line per published port, as docker prints them: 80/tcp -> 127.0.0.1:18080.\n"
	  "With GUEST_PORT[/tcp|/udp] (tcp by default): the host addresses that reach\n"
	  "it, one per line (exit 1 when none does). --json: the VM's \"ports\"." },
	{ "stop", cmd_stop, "stop VM...                        power VMs off", NULL },
	{ "rm", cmd_rm, "rm [-f] VM...                     remove VMs (-f: even running ones)", NULL },
	{ "snapshot", cmd_snapshot, "snapshot VM NAME                  snapshot a running VM (it keeps running)\n"
	  "      snapshot rm NAME... | inspect NAME | ls",
	  "Saves the VM's memory, vCPU and device state and its writable layer (a\n"
	  "copy of its disk) in the daemon's DATA/snapshots/NAME. VMs restored from\n"
	  "it (run --from NAME, create --from NAME) share its read-only files and\n"
	  "the memory pages they have not written; each writes on its own copy of\n"
	  "the disk. NAME: letters, digits, '_',\n"
	  "'.', '-' (up to 64, beginning with a letter or digit)." },
	{ "snapshots", cmd_snapshots, "snapshots [-a] [-q]               list snapshots (-q: names only;\n"
	  "                                    -a: the images' bakes too)",
	  "A bake (_bake-...) is the snapshot VMs of an image are restored from:\n"
	  "the daemon makes one per image, vCPUs, memory, kernel, initramfs and\n"
	  "VMM on first use (a cold boot), removes it with its image, and `gc`\n"
	  "removes those of another kernel, initramfs or VMM." },
	{ "fork", cmd_fork, "fork [-n N] VM                    N (1-16, default 1) copies of a running VM",
	  "Snapshots the VM (it keeps running) and restores N new VMs from that\n"
	  "snapshot, printing their ids. The snapshot is temporary (named _fork-...):\n"
	  "it is removed with the last of those VMs." },
	{ "pool", cmd_pool, "pool set IMAGE --min N --max M [--idle-timeout S] [--vcpus V]\n"
	  "      [--memory MiB] | pool ls | pool inspect IMAGE | pool rm IMAGE...\n"
	  "                                    warm pools: VMs of IMAGE kept ready",
	  "A pool keeps MIN restored VMs of IMAGE ready, and at most MAX alive (ready\n"
	  "and handed out). `run` and `create` of IMAGE with the pool's --cpus and\n"
	  "--memory take a ready VM (a hit) or, when none is ready, restore one (a\n"
	  "miss, after which the pool keeps one more ready, up to MAX, until nobody\n"
	  "took a VM for --idle-timeout seconds, default 300; then ready VMs beyond\n"
	  "MIN that waited that long are removed). Removing a VM from a pool\n"
	  "releases it; the pool refills.\n"
	  "--vcpus and --memory default to the daemon's defaults. `pool rm`\n"
	  "removes the ready VMs; VMs already handed out run on." },
	{ "volume", cmd_volume, "volume create [--size SIZE] NAME | volume ls | volume inspect NAME |\n"
	  "      volume rm NAME...             named persistent disks for -v NAME:/path",
	  "A volume is a sparse ext4 disk kept by the daemon (default 1 GiB; --size\n"
	  "takes MiB or 512M, 10G, 1T). `run`/`create -v NAME:/path[:ro]` attach it:\n"
	  "read-write to one VM at a time, read-only to any number. It outlives its\n"
	  "VMs; `volume rm` is refused while a VM (until it is removed) holds it.\n"
	  "NAME: letters, digits, '_', '.', '-' (up to 64, beginning with a letter\n"
	  "or digit)." },
	{ "gc", cmd_gc, "gc                                remove unused blobs, layers and bakes", NULL },
	{ "logs", cmd_logs, "logs [-f] [--console] VM          a VM's main process output (-f: follow)",
	  "Prints what the main process of a VM started by run -d wrote: its stdout\n"
	  "to stdout, its stderr to stderr (-f: until it ends). --console, or a VM\n"
	  "without a main process: the VM's serial console (-f: until the VM exits)." },
	{ "wait", cmd_wait, "wait VM...                        wait for main processes, print exit codes",
	  "Blocks until the main process of each VM (run -d) has ended and prints\n"
	  "its exit code (128+N for signal N). The VM stops when it ends." },
	{ "stats", cmd_stats, "stats [VM...]                     CPU, memory, disk and I/O of running VMs",
	  "One reading per VM (no VM: every running one): its VMM's CPU time and\n"
	  "resident memory, the space its directory takes, its storage reads and\n"
	  "writes." },
	{ "cp", cmd_cp, "cp SRC DST                        copy a file or folder host<->VM\n"
	  "                                    (VM:/path; a folder lands inside DST; - is stdio)", NULL },
	{ "info", cmd_info, "info                              daemon and KVM status", NULL },
	{ "version", cmd_version, "version                           client and daemon versions", NULL },
	{ "events", cmd_events, "events [--type PREFIX]            follow lifecycle events", NULL },
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* `supermachine COMMAND --help` (or -h), wherever among its options
 * (asks_for_help), on stdout. */
static void command_usage(size_t i)
{
	printf("usage: supermachine [--socket PATH] [--json] %s\n", commands[i].help);
	if (commands[i].details)
		printf("\n%s\n", commands[i].details);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: supermachine [--socket PATH] [--json] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].help);
	fprintf(f, "\nThe socket defaults to $SUPERMACHINE_SOCKET, then the daemon's own "
		"default.\nEvery command takes --json for machine-readable output.\n");
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "supermachine: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return 2;
}

int cli_error(struct cli *cli, int status, const char *what)
{
	if (status == SM_E_CONNECT)
		fprintf(stderr, "supermachine: cannot reach the daemon: is supermachined "
			"running? socket %s\n  (%s)\n", sm_client_socket(cli->c),
			sm_errmsg(cli->c));
	else
		fprintf(stderr, "supermachine: %s: %s\n", what, sm_errmsg(cli->c));
	return 1;
}

/* Global options; returns the index of the command or -1. */
static int parse_globals(int argc, char **argv, struct sm_client_opts *o, bool *json)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			o->socket_path = argv[++i];
		else if (!strncmp(argv[i], "--socket=", 9))
			o->socket_path = argv[i] + 9;
		else if (!strcmp(argv[i], "--json"))
			*json = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			exit(0);
		} else {
			exit(cli_usage_error("unknown option %s (try --help)", argv[i]));
		}
	}
	return i < argc ? i : -1;
}

int main(int argc, char **argv)
{
	struct sm_client_opts o = { 0 };
	struct cli cli = { .tty = isatty(STDOUT_FILENO) };
	int at = parse_globals(argc, argv, &o, &cli.json);
	if (at < 0) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(argv[at], commands[i].name) != 0)
			continue;
		static const char *const cmd_lines[] = { "run", "create", "exec" };
		bool cmd_line = false;
		for (size_t k = 0; k < sizeof cmd_lines / sizeof cmd_lines[0]; k++)
			cmd_line |= !strcmp(argv[at], cmd_lines[k]);
		if (asks_for_help(argc - at, argv + at, cmd_line)) {
			command_usage(i);
			return 0;
		}
		int st = sm_client_new(&o, &cli.c);
		if (st != SM_OK) {
			fprintf(stderr, "supermachine: %s\n", sm_strerror(st));
			return 1;
		}
		int rc = commands[i].fn(&cli, argc - at, argv + at);
		sm_client_free(cli.c);
		return rc;
	}
	return cli_usage_error("unknown command \"%s\" (try --help)", argv[at]);
}

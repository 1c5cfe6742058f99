/* options.c - parse supermachine-vmm's command line (options.h). */
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_VCPUS, OPT_MEM, OPT_CONSOLE,
       OPT_CONSOLE_LOG, OPT_TIMEOUT, OPT_STATS, OPT_PROBE, OPT_HELP,
       OPT_DISK, OPT_LAYER, OPT_VSOCK, OPT_CID, OPT_FS, OPT_FS_ALLOW, OPT_CONTROL_FD, OPT_AGENT_TIMEOUT, OPT_NO_JAIL,
       OPT_RESTORE, OPT_KERNEL_DIGEST, OPT_INITRD_DIGEST, OPT_NET };

static const struct option longopts[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "console", no_argument, NULL, OPT_CONSOLE },
	{ "console-log", required_argument, NULL, OPT_CONSOLE_LOG },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "probe", no_argument, NULL, OPT_PROBE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "layer", required_argument, NULL, OPT_LAYER },
	{ "vsock", required_argument, NULL, OPT_VSOCK },
	{ "cid", required_argument, NULL, OPT_CID },
	{ "fs", required_argument, NULL, OPT_FS },
	{ "fs-allow", required_argument, NULL, OPT_FS_ALLOW },
	{ "net", required_argument, NULL, OPT_NET },
	{ "control-fd", required_argument, NULL, OPT_CONTROL_FD },
	{ "agent-timeout", required_argument, NULL, OPT_AGENT_TIMEOUT },
	{ "no-jail", no_argument, NULL, OPT_NO_JAIL },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "kernel-digest", required_argument, NULL, OPT_KERNEL_DIGEST },
	{ "initrd-digest", required_argument, NULL, OPT_INITRD_DIGEST },
	{ 0 },
};

const char *options_usage(void)
{
	return "usage: supermachine-vmm --kernel BZIMAGE [--initrd FILE] [--cmdline STRING]\n"
	       "                        [--vcpus N] [--mem MiB] [--console] [--console-log FILE]\n"
	       "                        [--timeout SEC] [--stats] [--no-jail]\n"
	       "                        [--layer PATH]... [--disk PATH[,ro]]...\n"
	       "                        [--vsock UDS_PATH [--cid N]]\n"
	       "                        [--fs TAG[=FOLDER[,ro]]]... [--fs-allow FOLDER[,ro]]...\n"
	       "                        [--net MAC] [--control-fd N] [--restore DIR]\n"
	       "       supermachine-vmm --kernel BZIMAGE --initrd FILE --disk ROOTFS [options]\n"
	       "                        [--agent-timeout SEC] -- CMD [ARGS...]\n"
	       "       supermachine-vmm --probe\n"
	       "exit status: 0 poweroff, 1 error, 2 usage, 3 reboot, 4 triple fault, 5 panic,\n"
	       "             6 KVM internal error, 7 timeout, 8 halted forever\n"
	       "--layer PATH: an image layer (erofs), lowest first, up to 127: together one\n"
	       "  read-only disk (vda, before any --disk) with a GPT partition per layer\n"
	       "  (vda1 the lowest); the default command line then adds sm.layers=N\n"
	       "--no-jail: for debugging only: run the guest without the sandbox (by default\n"
	       "  the VMM drops all capabilities, sets no_new_privs and a seccomp allowlist\n"
	       "  that kills it on any other system call once the VM is set up)\n"
	       "--fs TAG=FOLDER: share a host folder over virtio-fs (in the guest: mount -t\n"
	       "  virtiofs TAG DIR), confined beneath FOLDER; ,ro refuses writes; a TAG alone\n"
	       "  is an idle slot whose mounts fail (ENODEV) until a folder is bound to it\n"
	       "--fs-allow FOLDER: a folder the worker channel may later bind to an idle slot\n"
	       "  (FS_BIND): the jail allows file calls and Landlock confines them beneath\n"
	       "  the --fs and --fs-allow folders until FS_SEAL narrows it to the bound ones\n"
	       "--net MAC: a virtio-net card (eth0 in the guest) with this MAC (unicast and\n"
	       "  locally administered, e.g. 52:54:00:12:34:56), its link down until the\n"
	       "  worker channel attaches passt and the egress policy (NET_ATTACH), which\n"
	       "  may give it another MAC. A snapshot made with --net restores only with\n"
	       "  --net, and one made without it only without; the restored card takes\n"
	       "  the MAC given here (the guest is told by a config change)\n"
	       "--restore DIR: start from the snapshot in DIR (vm.state, vm.mem) instead of\n"
	       "  booting: vCPUs and memory come from it; --kernel and --initrd must be the\n"
	       "  files it was made with, and the devices the same as the saved VM's\n"
	       "--kernel-digest/--initrd-digest sha256:HEX: the files' digests, which a\n"
	       "  snapshot records and a restore checks, when the caller knows them already\n"
	       "  (otherwise the VMM hashes the files)\n"
	       "run mode (-- CMD): boots, runs CMD in the guest through its agent with our\n"
	       "  stdin/stdout/stderr, powers the guest off; --agent-timeout (default 300)\n"
	       "  bounds the boot. exit status: CMD's, 128+N if signal N killed it, or\n"
	       "  122 the VM ended (or the agent connection broke) before CMD finished,\n"
	       "  123 the guest agent never answered, 125 usage or VM setup error,\n"
	       "  127 CMD could not be started in the guest (not found, not executable)\n";
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_one(int c, const char *arg, struct options *o, struct vm_err *err)
{
	long v;
	char *end;
	switch (c) {
	case OPT_KERNEL: o->vm.kernel = arg; return 0;
	case OPT_INITRD: o->vm.initrd = arg; return 0;
	case OPT_CMDLINE: o->vm.cmdline = arg; return 0;
	case OPT_CONSOLE: o->vm.console_stdout = true; return 0;
	case OPT_CONSOLE_LOG: o->vm.console_log = arg; return 0;
	case OPT_STATS: o->stats = true; return 0;
	case OPT_NO_JAIL: o->no_jail = true; return 0;
	case OPT_RESTORE: o->restore_dir = arg; return 0;
	case OPT_KERNEL_DIGEST: o->kernel_digest = arg; return 0;
	case OPT_INITRD_DIGEST: o->initrd_digest = arg; return 0;
	case OPT_PROBE: o->probe = true; return 0;
	case OPT_HELP: o->help = true; return 0;
	/* virtio devices (virtio/devices.h); rng is always attached */
	case OPT_DISK: return virtio_opts_add_disk(&o->dev, arg, err);
	case OPT_LAYER: return virtio_opts_add_layer(&o->dev, arg, err);
	case OPT_VSOCK: o->dev.vsock_path = arg; return 0;
	case OPT_CID: return virtio_opts_set_cid(&o->dev, arg, err);
	case OPT_FS: return virtio_opts_add_fs(&o->dev, arg, err);
	case OPT_FS_ALLOW: return virtio_opts_add_fs_allow(&o->dev, arg, err);
	case OPT_NET: return virtio_opts_set_net(&o->dev, arg, err);
	case OPT_VCPUS:
		if (parse_long(arg, 1, VM_MAX_VCPUS, &v) < 0)
			return vm_errf(err, "--vcpus %s: want 1..%d", arg, VM_MAX_VCPUS);
		o->vm.vcpus = (int)v;
		return 0;
	case OPT_MEM:
		if (parse_long(arg, 32, 1L << 20, &v) < 0)
			return vm_errf(err, "--mem %s: want MiB, 32..1048576", arg);
		o->vm.mem_bytes = (uint64_t)v << 20;
		return 0;
	case OPT_CONTROL_FD:
		if (parse_long(arg, 0, 1 << 20, &v) < 0)
			return vm_errf(err, "--control-fd %s: want a file descriptor", arg);
		o->control_fd = (int)v;
		return 0;
	case OPT_TIMEOUT:
		o->vm.timeout_sec = strtod(arg, &end);
		if (end == arg || *end || !(o->vm.timeout_sec > 0))
			return vm_errf(err, "--timeout %s: want seconds > 0", arg);
		return 0;
	case OPT_AGENT_TIMEOUT:
		o->agent_timeout_sec = strtod(arg, &end);
		if (end == arg || *end || !(o->agent_timeout_sec > 0) ||
		    o->agent_timeout_sec > 86400)
			return vm_errf(err, "--agent-timeout %s: want seconds, 0 < SEC <= 86400", arg);
		return 0;
	default:
		return vm_errf(err, "unknown option");
	}
}

int options_parse(int argc, char **argv, struct options *o, struct vm_err *err)
{
	memset(o, 0, sizeof(*o));
	o->vm.vcpus = 1;
	o->vm.mem_bytes = (uint64_t)OPTIONS_DEFAULT_MEM_MIB << 20;
	o->control_fd = -1;
	o->agent_timeout_sec = OPTIONS_DEFAULT_AGENT_TIMEOUT;
	optind = 1;
	opterr = 0;
	int c;
	/* "+": stop at the first non-option, so CMD's own options stay CMD's */
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return vm_errf(err, "bad option %s", argv[optind - 1]);
		if (parse_one(c, optarg, o, err) < 0)
			return -1;
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		return vm_errf(err, "unexpected argument %s (the guest command goes after --)",
			       argv[optind]);
	if (optind > 1 && strcmp(argv[optind - 1], "--") == 0) {
		if (optind == argc)
			return vm_errf(err, "no command after --");
		o->run_argv = argv + optind;
	}
	if (!o->vm.cmdline) {
		o->vm.cmdline = o->run_argv ? OPTIONS_RUN_CMDLINE : OPTIONS_DEFAULT_CMDLINE;
		if (o->dev.nlayers) { /* the guest's init stacks the layers */
			snprintf(o->layers_cmdline, sizeof(o->layers_cmdline), "%s sm.layers=%d",
				 o->vm.cmdline, o->dev.nlayers);
			o->vm.cmdline = o->layers_cmdline;
		}
	}
	if (!o->probe && !o->help && !o->vm.kernel)
		return vm_errf(err, "--kernel is required");
	if (o->run_argv && o->restore_dir)
		return vm_errf(err, "-- CMD (run mode) and --restore exclude each other");
	if (o->run_argv && o->control_fd >= 0)
		return vm_errf(err, "-- CMD (run mode) and --control-fd exclude each other");
	return 0;
}

/* options.h - supermachine-vmm's command line.
 *
 *   supermachine-vmm --kernel K [--initrd I] [--cmdline S] [--vcpus N]
 *                    [--mem MiB] [--console] [--console-log F]
 *                    [--timeout SEC] [--stats] [--no-jail]
 *                    [--layer PATH]... [--disk PATH[,ro]]...
 *                    [--vsock PATH [--cid N]]
 *                    [--fs TAG[=FOLDER[,ro]]]... [--fs-allow FOLDER[,ro]]...
 *                    [--net MAC]
 *                    [--control-fd N]   (supermachined's worker channel)
 *                    [--agent-timeout SEC] [-- CMD ARGS...]   (run mode)
 *                    [--restore DIR]   (start from the snapshot in DIR)
 *                    [--kernel-digest D] [--initrd-digest D]
 *   supermachine-vmm --probe
 *
 * Words after `--` select run mode (run_mode.h): CMD runs in the guest
 * through the agent and its exit status becomes ours.
 *
 * options_parse() is pure apart from writing the usage text into err.
 */
#ifndef SM_OPTIONS_H
#define SM_OPTIONS_H

#include <stdbool.h>

#include "vm.h"
#include "daemon/vm/virtio/devices.h"

#define OPTIONS_DEFAULT_CMDLINE "console=ttyS0"
#define OPTIONS_DEFAULT_MEM_MIB 256
/* Run mode: a quiet console boots faster (every console byte is a VM exit). */
#define OPTIONS_RUN_CMDLINE "console=ttyS0 quiet"
#define OPTIONS_DEFAULT_AGENT_TIMEOUT 300.0

struct options {
	struct vm_config vm;
	struct virtio_opts dev; /* --layer, --disk, --vsock, --cid, --fs, --net (virtio/devices.h) */
	char layers_cmdline[64]; /* the default command line + " sm.layers=N" */
	int control_fd;          /* --control-fd: worker_proto.h; -1 = none */
	char **run_argv;         /* after `--` (points into argv); NULL = no run mode */
	double agent_timeout_sec; /* run mode: how long the guest may take to boot */
	const char *restore_dir; /* --restore: DIR/vm.state + DIR/vm.mem; NULL = boot */
	const char *kernel_digest, *initrd_digest; /* "sha256:..": the files' digests,
						      known to the caller; NULL = hash them */
	bool probe;
	bool stats;
	bool no_jail;            /* --no-jail: debugging only, no seccomp (jail.h) */
	bool help;
};

/* 0, or -1 with a message in err (usage error). */
int options_parse(int argc, char **argv, struct options *o, struct vm_err *err);
const char *options_usage(void);

#endif

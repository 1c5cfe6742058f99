/* options.h - supermachine-vmm's command line.
 *
 *   supermachine-vmm --kernel K [--initrd I] [--cmdline S] [--vcpus N]
 *                    [--mem MiB] [--console] [--console-log F]
 *                    [--timeout SEC] [--stats]
 *                    [--disk PATH[,ro]]... [--vsock PATH [--cid N]]
 *                    [--control-fd N]   (supermachined's worker channel)
 *   supermachine-vmm --probe
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

struct options {
	struct vm_config vm;
	struct virtio_opts dev; /* --disk, --vsock, --cid (virtio/devices.h) */
	int control_fd;          /* --control-fd: worker_proto.h; -1 = none */
	bool probe;
	bool stats;
	bool help;
};

/* 0, or -1 with a message in err (usage error). */
int options_parse(int argc, char **argv, struct options *o, struct vm_err *err);
const char *options_usage(void);

#endif

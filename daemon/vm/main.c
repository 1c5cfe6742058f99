/* main.c - supermachine-vmm: boot one microVM and report how it ended.
 *
 * The exit status is the outcome (vm.h: 0 poweroff, 3 reboot, 4 triple
 * fault, 5 panic, ...); one line on stderr says what happened. With
 * `-- CMD ARGS` it runs CMD in the guest instead (run_mode.h) and exits
 * with CMD's status.
 *
 * The guest runs only once the process is jailed (jail.h), after every
 * file and device is open; the worker channel's READY says it is. With
 * --restore DIR it starts from a snapshot instead of booting (vmm_build.h).
 */
#include "debug_dump.h"
#include "fs_bind.h"
#include "jail.h"
#include "options.h"
#include "probe.h"
#include "run_mode.h"
#include "vm.h"
#include "vmm_build.h"
#include "worker_channel.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static void print_stats(const struct vm *vm)
{
	uint64_t n[VM_EXITK_COUNT];
	vm_exit_stats(vm, n);
	vm_print_exits("kvm exits", n);
}

static int run_vm(struct options *o)
{
	static struct vmm m; /* large; its address is the snapshot callback's */
	struct fs_binder binder; /* FS_BIND, FS_SEAL: --fs-allow (fs_bind.h) */
	struct vm_err err = { "" };
	enum vm_outcome out = VM_ERROR;
	struct worker_channel *ch = NULL;
	struct jail_folders folders;
	virtio_opts_folders(&o->dev, &folders);
	fs_binder_open(&binder, &m.devs, false, &err); /* nothing to open: cannot fail */
	if (vmm_build(&m, o, &err) < 0 || vm_debug_dump_start(&m.vm, &m.devs, &err) < 0 ||
	    fs_binder_open(&binder, &m.devs, o->dev.nallow > 0, &err) < 0 ||
	    (!o->no_jail && vm_jail_enter(o->control_fd, &folders, &err) < 0) ||
	    (o->control_fd >= 0 &&
	     !(ch = worker_channel_start(o->control_fd, &m.vm, vmm_snapshot, &m, &binder,
					 m.devs.net, &err)))) {
		fprintf(stderr, "supermachine-vmm: %s\n", err.msg);
		worker_channel_report(o->control_fd, out, err.msg);
	} else {
		out = vm_run(&m.vm, &err);
		worker_channel_report(o->control_fd, out, err.msg);
		worker_channel_finish(ch);
		fprintf(stderr, "supermachine-vmm: %s: %s\n", vm_outcome_name(out), err.msg);
		if (o->stats) {
			vmm_print_restore_stats(&m);
			print_stats(&m.vm);
			virtio_devices_stats(&m.devs);
		}
	}
	vm_debug_dump_stop();
	vmm_free(&m);
	fs_binder_close(&binder);
	return out;
}

/* The FUSE server keeps an fd per node the guest holds (fs_nodes): raise
 * the soft open-file limit to the hard one, as a service manager would
 * (systemd/supermachined.service: 65536), or a guest untarring a tree on
 * a shared folder runs into EMFILE after ~1000 files under a shell's
 * default of 1024. Best effort. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Usage errors in run mode exit 125 (CMD's own statuses own the rest). */
static bool wants_run_mode(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct options o;
	struct vm_err err = { "" };
	if (options_parse(argc, argv, &o, &err) < 0) {
		fprintf(stderr, "supermachine-vmm: %s\n%s", err.msg, options_usage());
		return wants_run_mode(argc, argv) ? RUN_SETUP : VM_BAD_USAGE;
	}
	if (o.help) {
		fputs(options_usage(), stdout);
		return 0;
	}
	if (o.probe) {
		if (probe_long_mode(10, &err) < 0) {
			fprintf(stderr, "supermachine-vmm: probe failed: %s\n", err.msg);
			return 1;
		}
		fprintf(stderr, "supermachine-vmm: probe ok: a 64-bit guest ran to HLT\n");
		return 0;
	}
	raise_fd_limit();
	if (o.run_argv)
		return run_mode(&o);
	return run_vm(&o);
}

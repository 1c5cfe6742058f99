/* init.c - supermachine's PID 1 inside the microVM (static, from the initramfs).
 *
 * Boot sequence:
 *   1. mount /proc, /sys, /dev (devtmpfs) and /dev/pts; stdio on /dev/console
 *   2. load the kernel modules listed in /lib/modules/load-order (written by
 *      guest/mkinitramfs in modules.dep order) with finit_module
 *      and bring the loopback interface up (init_net.c)
 *   3. if the root disk exists (/dev/vda unless sm.root says otherwise):
 *      mount it read-only (erofs, else ext4) under an overlayfs with a tmpfs
 *      upper and switch root into it; with no disk, stay in the initramfs
 *   4. listen on AF_VSOCK port SM_AGENT_PORT (guest/agent_proto.h)
 *   5. print exactly one ready line on the console:
 *        supermachine-init: ready cpus=N mem_kib=M root=disk|initramfs agent=PORT|off
 *      (N = CPUs online, M = MemTotal of /proc/meminfo)
 *   6. serve the agent until a SHUTDOWN request, then power off; a SYNC
 *      request (after a restore) reseeds the RNG and sets the clock and
 *      hostname (init_sync.c); a MOUNT_FS request mounts a virtio-fs
 *      share at a path it creates (init_mount.c); a NET_CONFIG sets the
 *      network interface and /etc/resolv.conf (init_net.c, init_etc.c)
 *
 * Kernel command-line keys (all optional):
 *   sm.poweroff     power off right after the ready line
 *   sm.panic        exit right after the ready line: PID 1 exiting panics
 *                   the kernel (for tests of the VMM's panic handling)
 *   sm.root=DEV     root disk (default /dev/vda); sm.root=none stays in
 *                   the initramfs even when a disk is attached
 *   sm.port=N       agent vsock port (default 1024)
 *   sm.layers=N     the partitions /dev/vda1..vdaN are N image layers
 *                   (erofs), lowest first, N <= 127: all are stacked under
 *                   the overlay (sm.root is ignored)
 *   sm.upper=vdX    the overlay's upper (the VM's writable layer) is the
 *                   ext4 file system on /dev/vdX; without it, a tmpfs
 *   sm.vol=vdX:rw|ro:/path  (repeatable, up to 4) mount ext4 disk vdX at
 *                   /path once the root is switched (named volumes)
 *   sm.debug        log each boot step and module on the console
 *
 * Power off uses ACPI when the kernel has it, else a reset (a minimal kernel
 * booted with reboot=k), which the VMM treats as the end of the VM.
 * Failures of steps 2-4 are printed and boot continues: the ready line still
 * comes, so a VMM without some device can still be tested.
 */
#include "agent.h"
#include "agent_proto.h"
#include "init_cmdline.h"
#include "init_net.h"
#include "init_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define TAG "supermachine-init: "

static void read_cmdline(struct init_opts *o)
{
	char line[4096] = "";
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, line, sizeof(line) - 1);
		line[n > 0 ? n : 0] = 0;
		close(fd);
	}
	if (init_parse_cmdline(line, o))
		fprintf(stderr, TAG "ignored an invalid sm.* key in: %s", line);
}

/* "" when the root disk is absent or not wanted, else its path. */
static const char *root_device(const struct init_opts *o)
{
	static char dev[80];
	struct stat st;
	if (!strcmp(o->root, "none"))
		return "";
	snprintf(dev, sizeof(dev), "%s", o->root[0] ? o->root : "/dev/vda");
	return stat(dev, &st) == 0 ? dev : "";
}

#define AGENT_VSOCK_BUF (1ull << 20)

static int agent_listen(uint32_t port)
{
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				    .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, TAG "vsock socket: %s\n", strerror(errno));
		return -1;
	}
	/* Accepted connections inherit it: the host may send this much ahead
	 * of the agent's reads (the kernel's default is 256 KiB). Best effort. */
	unsigned long long buf = AGENT_VSOCK_BUF;
	setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &buf, sizeof(buf));
	setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 64)) {
		fprintf(stderr, TAG "vsock port %u: %s\n", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static const struct init_opts *boot_opts;   /* main's, for on_shutdown */

static void on_shutdown(void *opaque, uint32_t how)
{
	kill(-1, SIGKILL);
	if (boot_opts)
		volumes_unmount(boot_opts);   /* clean: a read-only attach can mount it */
	sync();
	if (how == SM_SHUTDOWN_REBOOT)
		reboot(RB_AUTOBOOT);
	sys_power_off();
}

static int on_sync(void *opaque, const struct sm_sync_req *req, char *err, size_t errlen)
{
	return sys_sync(req, err, errlen);
}

static int on_net_config(void *opaque, const struct sm_net_req *req, char *err, size_t errlen)
{
	if (req->flags & SM_NET_NONE)
		return init_net_remove(req->ifname, err, errlen);
	int e = init_net_apply(req, err, errlen);
	return e ? e : etc_resolv_conf_set(req, err, errlen);
}

static int on_mount_fs(void *opaque, const struct sm_mount_req *req, char *err, size_t errlen)
{
	return sys_mount_fs(req, err, errlen);
}

static int on_fs_events(void *opaque, const struct sm_fsev_req *req, char *err, size_t errlen)
{
	return sys_fs_events(req, err, errlen);
}

static void boot_steps(const struct init_opts *o, bool *on_disk)
{
	char err[512];
	int loaded;
	if (modules_load(&loaded, o->debug, err, sizeof(err)))
		fprintf(stderr, TAG "some modules failed to load (last: %s)\n", err);
	else if (o->debug)
		fprintf(stderr, TAG "%d modules loaded\n", loaded);
	if (init_net_link_up("lo", 0, err, sizeof(err)))
		fprintf(stderr, TAG "%s\n", err);
	const char *dev = o->layers ? "/dev/vda" : root_device(o);
	*on_disk = false;
	if (dev[0]) {
		if (rootfs_switch(dev, o->layers, o->upper, err, sizeof(err)))
			fprintf(stderr, TAG "root %s: %s; staying in the initramfs\n", dev, err);
		else
			*on_disk = true;
		if (*on_disk)
			etc_files_boot();
	}
	if (*on_disk && volumes_mount(o, err, sizeof(err))) {
		/* Never run with a volume's path in the overlay instead: the VM
		 * ends while booting, and its console says why. */
		fprintf(stderr, TAG "%s; powering off\n", err);
		sys_power_off();
	}
}

int main(void)
{
	struct init_opts o;
	bool on_disk;
	char err[512];
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	if (sys_early_mounts(err, sizeof(err)))
		fprintf(stderr, TAG "%s\n", err);
	sys_console();
	read_cmdline(&o);
	boot_opts = &o;
	boot_steps(&o, &on_disk);
	int lfd = agent_listen(o.port);
	struct agent_hooks hooks = { .shutdown = on_shutdown, .sync = on_sync,
				     .mount_fs = on_mount_fs, .fs_events = on_fs_events,
				     .net_config = on_net_config,
				     .cpus = sys_cpus_online(), .mem_kib = sys_mem_kib() };
	char port[16] = "off";
	if (lfd >= 0)
		snprintf(port, sizeof(port), "%u", o.port);
	dprintf(STDOUT_FILENO, TAG "ready cpus=%u mem_kib=%llu root=%s agent=%s\n",
		hooks.cpus, (unsigned long long)hooks.mem_kib,
		on_disk ? "disk" : "initramfs", port);
	if (o.poweroff)
		sys_power_off();
	if (o.panic)
		return 1;
	if (lfd >= 0 && agent_serve(lfd, &hooks))
		fprintf(stderr, TAG "agent stopped\n");
	/* Nothing left to serve: PID 1 must not exit, so power off. */
	sys_power_off();
	return 0;
}

/* vms_boot.c - start a VM's worker and wait for its guest agent.
 *
 * The VMM gets the kernel, our initramfs, "sm.layers=N" on the kernel
 * command line and the image's layers, lowest first, as --layer PATH: one
 * read-only disk with a partition per layer (daemon/vm/virtio/
 * blk_composite.h; the guest's init stacks them: guest/init_rootfs.c),
 * plus the hybrid vsock socket and the console log in the VM's directory.
 * A VM with a writable layer disk (upper.img, vms_upper.c) gets it
 * read-write as the next disk (sm.upper=vdb), which the guest mounts as
 * its overlay's upper. The VM counts as
 * running once the agent answers a ping through that socket.
 *
 * A VM restored from a snapshot gets --restore DIR instead of a command
 * line, vCPUs and memory (they are the snapshot's), and the same kernel,
 * initramfs and disks as the VM that was saved (the VMM checks the
 * kernel's and initramfs's digests against the snapshot's; the daemon
 * hashed both when it started and passes them, so no restore hashes them
 * again). Once its agent answers it is synced:
 * fresh random bytes, the host's time and its own hostname, so clones of
 * one snapshot neither share RNG state nor a name. A booted VM is synced
 * too: that is how it gets its hostname (and the guest its /etc/hosts).
 *
 * Named volumes are disks after the layers' (vms_volumes.c), with an
 * "sm.vol=" word each on the command line; such VMs always boot.
 *
 * Every VM gets idle virtio-fs slots (--fs smN) and, when it has mounts,
 * --fs-allow for their folders (vms_mounts.c); once its agent answers,
 * the folders are bound to the slots, the VMM sealed to them and the
 * agent mounts each; a mount that fails fails the start with the agent's
 * message.
 */
#include "daemon/vms/vms_int.h"
#include "common/agent_client/agent_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LAYERS 127 /* partitions of the VMM's layers disk (BLK_MAX_LAYERS) */
/* The fixed options (at most 14 words), the mounts' and two per layer. */
#define ARGV_MAX (64 + 2 * MAX_LAYERS)
#define AGENT_TRY_MS 2000
#define SYNC_MS 30000

static void on_ready(void *ud)
{
	(void)ud;  /* the agent's answer, not the VMM's READY, makes it running */
}

static void on_exit_hook(void *ud, const struct worker_exit *ex)
{
	vms_on_exit(ud, ex);
}

int boot_start(struct vms *v, struct vm_rec *r, char *err, size_t errlen)
{
	size_t nl = r->cfg->n_layers;
	if (nl == 0 || nl > MAX_LAYERS) {
		snprintf(err, errlen, "image has %zu layers; a VM takes 1 to %d", nl, MAX_LAYERS);
		return -1;
	}
	char cmdline[128 + VM_MAX_VOLUMES * 280], vols[VM_MAX_VOLUMES * 280], vcpus[16], mem[16];
	char vmmlog[PATH_MAX + 16], mac[18];
	char vol_disks[VM_MAX_VOLUMES][PATH_MAX + 4];
	char fs[VM_MAX_MOUNTS + MOUNTS_MAX_ALLOW + VM_MAX_MOUNTS][PATH_MAX + 8];
	const char *argv[ARGV_MAX];
	size_t a = 0;
	snprintf(cmdline, sizeof cmdline, "console=ttyS0 quiet sm.layers=%zu", nl);
	if (r->storage_mib)   /* the disk after the layers' one (vda) */
		snprintf(cmdline + strlen(cmdline), sizeof cmdline - strlen(cmdline),
			 " sm.upper=vdb");
	/* The volumes' disks follow the layers' and the upper's. */
	volumes_cmdline(r, 1 + (r->storage_mib ? 1 : 0), vols, sizeof vols);
	snprintf(cmdline + strlen(cmdline), sizeof cmdline - strlen(cmdline), "%s", vols);
	snprintf(vcpus, sizeof vcpus, "%d", r->vcpus);
	snprintf(mem, sizeof mem, "%u", r->memory_mib);
	snprintf(vmmlog, sizeof vmmlog, "%s/vmm.log", r->dir);
	argv[a++] = "--kernel"; argv[a++] = v->kernel;
	argv[a++] = "--initrd"; argv[a++] = v->initrd;
	if (r->restore_dir) {
		argv[a++] = "--restore"; argv[a++] = r->restore_dir;
		/* Hashed once at start (vms_bake.c): the VMM need not hash them. */
		if (sm_digest_valid(v->kernel_digest) && sm_digest_valid(v->initrd_digest)) {
			argv[a++] = "--kernel-digest"; argv[a++] = v->kernel_digest;
			argv[a++] = "--initrd-digest"; argv[a++] = v->initrd_digest;
		}
	} else {
		argv[a++] = "--cmdline"; argv[a++] = cmdline;
		argv[a++] = "--vcpus"; argv[a++] = vcpus;
		argv[a++] = "--mem"; argv[a++] = mem;
	}
	argv[a++] = "--console-log"; argv[a++] = r->console;
	argv[a++] = "--vsock"; argv[a++] = r->vsock;
	vm_link_mac_text(r, mac);   /* every VM has the card: vms_link.c */
	argv[a++] = "--net"; argv[a++] = mac;
	for (size_t i = 0; i < nl; i++) {
		argv[a++] = "--layer";
		argv[a++] = r->cfg->layers[i];
	}
	if (r->storage_mib) {
		argv[a++] = "--disk";
		argv[a++] = r->upper;
	}
	volumes_vmm_args(r, vol_disks, argv, &a);
	mounts_vmm_args(v, r, fs, argv, &a);
	argv[a] = NULL;
	struct worker_hooks hooks = { .on_ready = on_ready, .on_exit = on_exit_hook, .ud = r };
	pthread_mutex_lock(&v->mu);
	r->refs++;   /* the worker's reference, dropped in vms_on_exit */
	pthread_mutex_unlock(&v->mu);
	struct worker *w;
	if (worker_start(v->vmm_path, argv, vmmlog, &hooks, &w, err, errlen) < 0) {
		vm_put(r);
		return -1;
	}
	pthread_mutex_lock(&v->mu);
	r->w = w;
	r->pid = worker_pid(w);
	rec_changed(r);
	bool closing = v->closing;   /* vms_kill_all may have missed it */
	pthread_mutex_unlock(&v->mu);
	if (closing)
		worker_kill(w);
	return 0;
}

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* A guest's entropy, clock and hostname: 0, or -2 with err (a guest whose
 * agent answers but cannot be synced is not started). */
static int sync_guest(struct vm_rec *r, struct agent_client *c, char *err, size_t errlen)
{
	if (agent_client_sync(c, r->hostname, SYNC_MS) == 0)
		return 0;
	if (r->restore_dir)
		snprintf(err, errlen, "the guest restored from snapshot %s did not take its new "
			 "entropy, time and hostname: %s (console: %s)", r->from_snapshot,
			 agent_client_error(c), r->console);
	else
		snprintf(err, errlen, "the guest did not take its hostname: %s (console: %s)",
			 agent_client_error(c), r->console);
	return -2;
}

int boot_wait_agent(struct vms *v, struct vm_rec *r, char *err, size_t errlen)
{
	long deadline = mono_ms() + (long)v->cfg.boot_timeout_s * 1000;
	char cerr[512] = "";
	for (;;) {
		if (vm_state(r) != VM_STARTING) {
			pthread_mutex_lock(&v->mu);
			snprintf(err, errlen, "the VM ended while %s: %s (console: %s)",
				 r->restore_dir ? "restoring" : "booting", r->why, r->console);
			pthread_mutex_unlock(&v->mu);
			return -1;
		}
		struct agent_client *c = agent_client_connect(r->vsock, SM_AGENT_PORT, AGENT_TRY_MS,
							      cerr, sizeof cerr);
		if (c) {
			/* A restored guest's first request is its sync. */
			int rc = sync_guest(r, c, err, errlen);
			if (rc == 0 && r->n_mounts && mounts_attach(r, c, err, errlen) < 0)
				rc = -2;
			/* A bake's card stays unattached in its snapshot; a pool's VM
			 * gets its network when handed out (vms_adopt). */
			if (rc == 0 && r->kind == VM_KIND_USER && vm_link_up(v, r, c, err, errlen) < 0)
				rc = -2;
			agent_client_close(c);
			if (rc == 0)
				return 0;
			if (rc == -2)
				return -1;
		}
		if (mono_ms() > deadline) {
			snprintf(err, errlen, "the guest agent did not answer within %us (%s; "
				 "console: %s)", v->cfg.boot_timeout_s, cerr, r->console);
			return -1;
		}
	}
}

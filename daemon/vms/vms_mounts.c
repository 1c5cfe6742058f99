/* vms_mounts.c - shared host folders of a running VM (vms.h: struct
 * vm_mount).
 *
 * Every VM the daemon starts has VM_MAX_MOUNTS idle virtio-fs slots,
 * tags sm0..sm3 (--fs smN): a bake and every VM restored from it carry
 * the same devices, so a VM with mounts restores from the bake, and a
 * warm pool's VM can take folders when handed out. A VM restored from an
 * older snapshot has the slots that snapshot had (snapshots.fs_slots).
 *
 * Folders reach a slot at run time (daemon/vm/fs_bind.h): the daemon opens
 * each folder and sends the descriptor, slot and mode over the worker
 * channel (FS_BIND), then FS_SEAL confines the VMM to exactly the bound
 * folders, on every thread; then the guest agent mounts tag smN at the
 * guest path. The VMM's jail may only reach what its --fs-allow folders
 * allow until the seal: a VM created with mounts gets exactly those
 * folders (with their modes), a pool VM the configured shared folders
 * (any mount of a later request lies beneath one of them); others get
 * none, and their jails hold no file calls at all.
 */
#include "daemon/vms/vms_int.h"
#include "common/agent_client/agent_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIND_MS 10000
#define SEAL_MS 10000
#define MOUNT_MS 30000
#define AGENT_MS 5000

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void mounts_vmm_args(struct vms *v, const struct vm_rec *r, char bufs[][PATH_MAX + 8],
		     const char **argv, size_t *a)
{
	size_t b = 0;
	for (int i = 0; i < r->fs_slots && i < VM_MAX_MOUNTS; i++) {
		snprintf(bufs[b], PATH_MAX + 8, "sm%d", i);
		argv[(*a)++] = "--fs";
		argv[(*a)++] = bufs[b++];
	}
	if (r->fs_slots == 0)
		return;
	/* Always a mode suffix: the VMM strips one trailing ",ro"/",rw", so a
	 * folder whose own name ends in ",ro" stays that folder. */
	for (size_t i = 0; i < r->n_mounts; i++) {
		snprintf(bufs[b], PATH_MAX + 8, "%s%s", r->mounts[i].host_path,
			 r->mounts[i].readonly ? ",ro" : ",rw");
		argv[(*a)++] = "--fs-allow";
		argv[(*a)++] = bufs[b++];
	}
	const char *const *sf = v->cfg.shared_folders;
	for (size_t i = 0, n = 0; r->kind == VM_KIND_POOL && sf && sf[i]; i++) {
		if (n == MOUNTS_MAX_ALLOW || !is_dir(sf[i]))
			continue;   /* a missing one would fail the jail */
		snprintf(bufs[b], PATH_MAX + 8, "%s,rw", sf[i]);
		argv[(*a)++] = "--fs-allow";
		argv[(*a)++] = bufs[b++];
		n++;
	}
}

/* FS_BIND of every mount, then FS_SEAL (also without mounts): 0, or -1. */
static int bind_and_seal(struct vm_rec *r, struct worker *w, char *err, size_t errlen)
{
	char msg[256];
	if (r->n_mounts > (size_t)r->fs_slots) {
		snprintf(err, errlen, "the VM has %d shared-folder slots (it was restored from a "
			 "snapshot made before slots existed); it needs %zu", r->fs_slots,
			 r->n_mounts);
		return -1;
	}
	for (size_t i = 0; i < r->n_mounts; i++) {
		const struct vm_mount *m = &r->mounts[i];
		int fd = open(m->host_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "shared folder %s: %s", m->host_path, strerror(errno));
			return -1;
		}
		int rc = worker_bind_fs(w, (int)i, fd, m->readonly, BIND_MS, msg, sizeof msg);
		close(fd);
		if (rc < 0) {
			snprintf(err, errlen, "binding %s to the VM's slot sm%zu: %s", m->host_path, i,
				 msg);
			return -1;
		}
	}
	if (worker_seal_fs(w, SEAL_MS, msg, sizeof msg) < 0) {
		snprintf(err, errlen, "confining the VM to its shared folders: %s", msg);
		return -1;
	}
	return 0;
}

/* The guest agent mounts each shared folder: 0, or -1 with err. */
static int mount_all(struct vm_rec *r, struct agent_client *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < r->n_mounts; i++) {
		char tag[24];
		snprintf(tag, sizeof tag, "sm%zu", i);
		if (agent_client_mount_fs(c, tag, r->mounts[i].guest_path, r->mounts[i].readonly,
					  MOUNT_MS) < 0) {
			snprintf(err, errlen, "mounting %s (host %s) in the guest: %s (console: %s)",
				 r->mounts[i].guest_path, r->mounts[i].host_path,
				 agent_client_error(c), r->console);
			return -1;
		}
	}
	return 0;
}

int mounts_attach(struct vm_rec *r, struct agent_client *c, char *err, size_t errlen)
{
	pthread_mutex_lock(&r->v->mu);
	struct worker *w = r->w;
	pthread_mutex_unlock(&r->v->mu);
	if (!w) {
		snprintf(err, errlen, "the VM has no running worker");
		return -1;
	}
	if (r->fs_slots == 0 && r->n_mounts == 0)
		return 0;   /* nothing to bind, no file access to seal */
	if (bind_and_seal(r, w, err, errlen) < 0)
		return -1;
	if (r->n_mounts == 0)
		return 0;
	char cerr[256] = "";
	struct agent_client *own = c ? NULL : agent_client_connect(r->vsock, SM_AGENT_PORT,
								     AGENT_MS, cerr, sizeof cerr);
	if (!c && !own) {
		snprintf(err, errlen, "connecting to the guest agent to mount its folders: %s", cerr);
		return -1;
	}
	int rc = mount_all(r, c ? c : own, err, errlen);
	if (own)
		agent_client_close(own);
	return rc;
}

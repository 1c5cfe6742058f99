/* vms_watch.c - a VM's watcher thread: host changes in its shared folders
 * reach the guest at once (issue 11).
 *
 * A running VM with mounts marked `watch` gets one fs_watch (daemon/fs/
 * watch: inotify on every folder of each tree, bursts coalesced) whose
 * records this file turns into FS_EVENTS requests for the guest agent,
 * one per mount per batch, on a connection of its own (opened at start,
 * opened again after a failure; a refused connection means the VM is
 * ending and the batch is dropped). The agent hands them to our
 * guest kernel, which drops the guest's cached entry, attributes and pages
 * of each path and raises the inotify event a local change would
 * (guest/kernel/sm_fsnotify.c). A RENAME_FROM/RENAME_TO pair becomes one
 * RENAME; an unpaired half (never emitted today) becomes a DELETE or
 * CREATE. A guest that cannot take them (not our kernel, an older agent)
 * is told once and then left to the FUSE timeouts (1 s).
 *
 * The watcher holds copies of what it needs (the vsock path, the guest
 * paths), never the record's lock: vms_on_exit stops it (joining the
 * thread) with the lock released.
 */
#include "daemon/vms/vms_int.h"
#include "daemon/fs/watch/watch.h"
#include "common/agent_client/agent_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_MS 1000
#define SEND_MS 10000

struct vm_watcher {
	struct fs_watch *w;
	char id[VM_ID_LEN + 1];
	char vsock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *roots[VM_MAX_MOUNTS];   /* guest path per watched mount id */
	struct agent_client *c;       /* watcher thread only */
	bool off;                     /* the guest cannot take them */
	struct sm_fsev ev[SM_FSEV_MAX];
};

static uint32_t fsev_kind(enum fs_change_kind k)
{
	switch (k) {
	case FS_CHANGE_CREATE: case FS_CHANGE_RENAME_TO: return SM_FSEV_CREATE;
	case FS_CHANGE_MODIFY: return SM_FSEV_MODIFY;
	case FS_CHANGE_ATTRIB: return SM_FSEV_ATTRIB;
	case FS_CHANGE_DELETE: case FS_CHANGE_RENAME_FROM: return SM_FSEV_DELETE;
	case FS_CHANGE_RESCAN: return SM_FSEV_RESCAN;
	}
	return SM_FSEV_RESCAN;
}

/* One try: 0, or -1 with errno and the reason in why. */
static int send_once(struct vm_watcher *vw, const struct sm_fsev_req *req, char *why,
		     size_t whylen)
{
	if (!vw->c) {
		vw->c = agent_client_connect(vw->vsock, SM_AGENT_PORT, CONNECT_MS, why, whylen);
		if (!vw->c) {
			errno = ECONNREFUSED;
			return -1;
		}
	}
	if (agent_client_fs_events(vw->c, req, SEND_MS) == 0)
		return 0;
	int e = errno;
	snprintf(why, whylen, "%s", agent_client_error(vw->c));
	agent_client_close(vw->c);
	vw->c = NULL;
	errno = e;
	return -1;
}

static void send_req(struct vm_watcher *vw, const struct sm_fsev_req *req)
{
	char why[512] = "";
	if (vw->off)
		return;
	if (send_once(vw, req, why, sizeof why) == 0)
		return;
	if (errno == ECONNREFUSED)
		return;   /* no agent: the VM is ending (its exit stops this watcher) */
	if (errno == ENOTSUP || errno == EPROTONOSUPPORT || errno == ENOSYS) {
		vw->off = true;
		fprintf(stderr, "supermachined: VM %s: host changes to shared folders cannot be "
			"raised in the guest (%s); it sees them after the FUSE timeouts\n", vw->id,
			why);
		return;
	}
	if (send_once(vw, req, why, sizeof why) < 0 && errno != ECONNREFUSED) /* a fresh one */
		fprintf(stderr, "supermachined: VM %s: %u host changes under %s not sent to the "
			"guest: %s\n", vw->id, req->n, req->root, why);
}

/* The records of mount m, renames paired, as one request. */
static void send_mount(struct vm_watcher *vw, uint32_t m, const struct fs_change *ch, size_t n)
{
	struct sm_fsev_req req = { .root = vw->roots[m], .ev = vw->ev };
	for (size_t i = 0; i < n && req.n < SM_FSEV_MAX; i++) {
		if (ch[i].mount_id != m)
			continue;
		struct sm_fsev *ev = &vw->ev[req.n++];
		*ev = (struct sm_fsev){ .kind = fsev_kind(ch[i].kind),
					.flags = ch[i].is_dir ? SM_FSEV_DIR : 0,
					.path = (char *)ch[i].path, .path2 = "" };
		if (ch[i].kind == FS_CHANGE_RENAME_FROM && i + 1 < n &&
		    ch[i + 1].kind == FS_CHANGE_RENAME_TO && ch[i + 1].cookie == ch[i].cookie &&
		    ch[i + 1].mount_id == m) {
			ev->kind = SM_FSEV_RENAME;
			ev->path2 = (char *)ch[++i].path;
		}
		/* Only a rescan (or modify, attrib) may name the root itself. */
		if (ev->kind == SM_FSEV_RESCAN || (!ev->path[0] && ev->kind != SM_FSEV_MODIFY &&
						   ev->kind != SM_FSEV_ATTRIB))
			*ev = (struct sm_fsev){ .kind = SM_FSEV_RESCAN, .path = "", .path2 = "" };
	}
	if (req.n)
		send_req(vw, &req);
}

static void on_changes(void *opaque, const struct fs_change *changes, size_t n)
{
	struct vm_watcher *vw = opaque;
	for (uint32_t m = 0; m < VM_MAX_MOUNTS; m++)
		if (vw->roots[m])
			send_mount(vw, m, changes, n);
}

static void on_error(void *opaque, const char *msg)
{
	struct vm_watcher *vw = opaque;
	fprintf(stderr, "supermachined: VM %s: watching shared folders: %s\n", vw->id, msg);
}

void vm_watch_stop(struct vm_watcher *vw)
{
	if (!vw)
		return;
	fs_watch_free(vw->w);   /* stops and joins the thread first */
	if (vw->c)
		agent_client_close(vw->c);
	for (size_t i = 0; i < VM_MAX_MOUNTS; i++)
		free(vw->roots[i]);
	free(vw);
}

static int add_mounts(struct vm_watcher *vw, const struct vm_rec *r, char *err, size_t errlen)
{
	struct fs_watch_err werr;
	for (size_t i = 0; i < r->n_mounts; i++) {
		if (!r->mounts[i].watch)
			continue;
		if (!(vw->roots[i] = strdup(r->mounts[i].guest_path))) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (fs_watch_add(vw->w, (uint32_t)i, r->mounts[i].host_path, &werr) < 0) {
			snprintf(err, errlen, "%s: %s", r->mounts[i].host_path, werr.msg);
			return -1;
		}
	}
	return 0;
}

int vm_watch_start(const struct vm_rec *r, struct vm_watcher **out, char *err, size_t errlen)
{
	*out = NULL;
	size_t watched = 0;
	for (size_t i = 0; i < r->n_mounts; i++)
		watched += r->mounts[i].watch;
	if (!watched)
		return 0;
	struct vm_watcher *vw = calloc(1, sizeof *vw);
	if (!vw) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(vw->id, r->id, sizeof vw->id);
	snprintf(vw->vsock, sizeof vw->vsock, "%s", r->vsock);
	struct fs_watch_cfg cfg = { .emit = on_changes, .on_error = on_error, .opaque = vw,
				    .max_batch = SM_FSEV_MAX };
	struct fs_watch_err werr;
	if (!(vw->w = fs_watch_new(&cfg, &werr))) {
		snprintf(err, errlen, "%s", werr.msg);
		vm_watch_stop(vw);
		return -1;
	}
	if (add_mounts(vw, r, err, errlen) < 0) {
		vm_watch_stop(vw);
		return -1;
	}
	/* The agent answers now (the VM just started): connect before the
	 * first change, so it does not wait for a handshake. */
	vw->c = agent_client_connect(vw->vsock, SM_AGENT_PORT, CONNECT_MS, err, errlen);
	if (fs_watch_start(vw->w, &werr) < 0) {
		snprintf(err, errlen, "%s", werr.msg);
		vm_watch_stop(vw);
		return -1;
	}
	*out = vw;
	return 0;
}

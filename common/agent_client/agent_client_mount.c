/* agent_client_mount.c - shared folders from the host (agent_proto.h):
 * MOUNT_FS (version 3), the guest agent mounts a virtio-fs share at a path
 * it creates, so images without mount(8) get their shared folders; and
 * FS_EVENTS (version 4), the host watcher's change records for a mounted
 * share. Requests are checked here with the agent's own rules before they
 * are sent.
 */
#include "agent_client_int.h"

#include <errno.h>
#include <string.h>

/* Send a MOUNT_FS (mount) or FS_EVENTS (fsev) request and wait for OK. */
static int request_ok(struct agent_client *c, const struct sm_mount_req *mount,
		      const struct sm_fsev_req *fsev, const char *path, int timeout_ms)
{
	const char *what = mount ? "mount_fs" : "fs_events";
	uint32_t id = ++c->next_id;
	pthread_mutex_lock(&c->mu);
	int rc = mount ? sm_mount_req_encode(&c->out, id, mount)
		       : sm_fsev_req_encode(&c->out, id, fsev);
	pthread_mutex_unlock(&c->mu);
	if (rc) {
		ac_set_err(c, "%s: %.300s: cannot encode the request", what, path);
		errno = EINVAL;
		return -1;
	}
	return ac_wait_ok(c, id, timeout_ms, what);
}

int agent_client_mount_fs(struct agent_client *c, const char *tag, const char *guest_path,
			  bool readonly, int timeout_ms)
{
	const char *why = NULL;
	if (!tag || !guest_path) {
		ac_set_err(c, "mount_fs: no tag or guest path");
		errno = EINVAL;
		return -1;
	}
	if (c->hello.version < 3) {
		ac_set_err(c, "mount_fs: %s: the guest agent speaks protocol version %u, MOUNT_FS "
			   "needs 3 (an older guest image or snapshot)", guest_path, c->hello.version);
		errno = EPROTONOSUPPORT;
		return -1;
	}
	if ((why = sm_mount_tag_check(tag)) || (why = sm_mount_path_check(guest_path))) {
		ac_set_err(c, "mount_fs: %.300s (tag %.40s): %s", guest_path, tag, why);
		errno = EINVAL;
		return -1;
	}
	struct sm_mount_req req = { .tag = (char *)tag, .path = (char *)guest_path,
				    .flags = readonly ? SM_MOUNT_READONLY : 0 };
	return request_ok(c, &req, NULL, guest_path, timeout_ms);
}

int agent_client_fs_events(struct agent_client *c, const struct sm_fsev_req *req, int timeout_ms)
{
	const char *root = req && req->root ? req->root : "?";
	if (c->hello.version < 4) {
		ac_set_err(c, "fs_events: %.300s: the guest agent speaks protocol version %u, "
			   "FS_EVENTS needs 4 (an older guest image or snapshot)", root,
			   c->hello.version);
		errno = EPROTONOSUPPORT;
		return -1;
	}
	return request_ok(c, NULL, req, root, timeout_ms);
}

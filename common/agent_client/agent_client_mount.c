/* agent_client_mount.c - MOUNT_FS from the host (agent_proto.h, version
 * 3): the guest agent mounts a virtio-fs share at a path it creates, so
 * images without mount(8) get their shared folders. The request is
 * checked here with the agent's own rules before it is sent.
 */
#include "agent_client_int.h"

#include <errno.h>
#include <string.h>

int agent_client_mount_fs(struct agent_client *c, const char *tag, const char *guest_path,
			  bool readonly, int timeout_ms)
{
	struct sm_hdr h;
	const uint8_t *p;
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
	uint32_t id = ++c->next_id;
	pthread_mutex_lock(&c->mu);
	int rc = sm_mount_req_encode(&c->out, id, &req);
	pthread_mutex_unlock(&c->mu);
	if (rc) {
		ac_set_err(c, "mount_fs: %.300s: cannot encode the request", guest_path);
		errno = EINVAL;
		return -1;
	}
	c->agent_errno = 0;
	if (ac_wait_for(c, id, ac_deadline_of(timeout_ms), &h, &p, "mount_fs")) {
		errno = c->agent_errno ? c->agent_errno : EIO;
		return -1;
	}
	if (h.type != SM_MSG_OK) {
		ac_set_err(c, "mount_fs: unexpected %s", sm_msg_type_name(h.type));
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* agent_proto_mount.c - MOUNT_FS coding and validation (agent_proto.h).
 *
 * The rules both sides apply to a shared folder's mount request: the tag
 * names a virtio-fs device (1-36 printable bytes, no space), the guest
 * path is absolute with no "." or ".." component and bounded lengths, and
 * only known flags are set. The host's encoder refuses what the agent's
 * decoder would, so a bad request fails before it is sent.
 */
#include "agent_proto.h"

#include <stdlib.h>
#include <string.h>

const char *sm_mount_tag_check(const char *tag)
{
	size_t n = strlen(tag);
	if (n == 0 || n > SM_MOUNT_TAG_MAX)
		return "tag is not 1-36 bytes";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)tag[i] <= ' ' || (unsigned char)tag[i] >= 0x7f)
			return "tag holds a space, control or non-ASCII byte";
	return NULL;
}

const char *sm_mount_path_check(const char *path)
{
	size_t n = strlen(path);
	if (path[0] != '/')
		return "path is not absolute";
	if (n >= SM_MOUNT_PATH_MAX)
		return "path is too long";
	const char *s = path;
	bool any = false;
	while (*s) {
		while (*s == '/')
			s++;
		size_t c = strcspn(s, "/");
		if (c == 0)
			break;
		any = true;
		if (c > SM_MOUNT_NAME_MAX)
			return "path has a component longer than 255 bytes";
		if ((c == 1 && s[0] == '.') || (c == 2 && s[0] == '.' && s[1] == '.'))
			return "path has a '.' or '..' component";
		for (size_t i = 0; i < c; i++)
			if ((unsigned char)s[i] < ' ' || s[i] == 0x7f)
				return "path holds a control character";
		s += c;
	}
	if (!any)
		return "path is the root";
	return NULL;
}

void sm_mount_req_free(struct sm_mount_req *req)
{
	free(req->tag);
	free(req->path);
	memset(req, 0, sizeof(*req));
}

int sm_mount_req_encode(struct sm_wbuf *b, uint32_t id, const struct sm_mount_req *req)
{
	if (!req->tag || !req->path || sm_mount_tag_check(req->tag) ||
	    sm_mount_path_check(req->path) || (req->flags & ~SM_MOUNT_FLAGS))
		return -1;
	size_t f = sm_frame_begin(b, SM_MSG_MOUNT_FS, id);
	sm_put_str(b, req->tag);
	sm_put_str(b, req->path);
	sm_put_u32(b, req->flags);
	return sm_frame_end(b, f);
}

int sm_mount_req_decode(const void *p, size_t len, struct sm_mount_req *req, const char **why)
{
	struct sm_rbuf r;
	memset(req, 0, sizeof(*req));
	sm_rbuf_init(&r, p, len);
	sm_get_str(&r, &req->tag);
	sm_get_str(&r, &req->path);
	sm_get_u32(&r, &req->flags);
	*why = NULL;
	if (sm_rbuf_done(&r))
		*why = "malformed MOUNT_FS";
	else if ((*why = sm_mount_tag_check(req->tag)) || (*why = sm_mount_path_check(req->path)))
		;
	else if (req->flags & ~SM_MOUNT_FLAGS)
		*why = "unknown MOUNT_FS flags";
	return *why ? -1 : 0;
}

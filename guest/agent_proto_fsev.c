/* agent_proto_fsev.c - FS_EVENTS coding and validation (agent_proto.h).
 *
 * FS_EVENTS carries the host watcher's change records for one shared
 * folder into the guest: the mount's guest path, then each record's kind,
 * flags and path(s) relative to it. Both sides apply the same rules (the
 * host's encoder refuses what the agent's decoder would): the root is a
 * valid mount path, a relative path has no leading or doubled '/', no "."
 * or ".." component and fits beneath the root in SM_MOUNT_PATH_MAX, only a
 * RENAME has a second path, and only MODIFY, ATTRIB and RESCAN may name
 * the root itself ("").
 */
#include "agent_proto.h"

#include <stdlib.h>
#include <string.h>

const char *sm_fsev_relpath_check(const char *root, const char *rel)
{
	size_t n = strlen(rel);
	if (strlen(root) + 1 + n >= SM_MOUNT_PATH_MAX)
		return "path is too long";
	const char *s = rel;
	while (n && *s) {
		size_t c = strcspn(s, "/");
		if (c == 0)
			return "path has an empty component (a leading, doubled or trailing '/')";
		if (c > SM_MOUNT_NAME_MAX)
			return "path has a component longer than 255 bytes";
		if ((c == 1 && s[0] == '.') || (c == 2 && s[0] == '.' && s[1] == '.'))
			return "path has a '.' or '..' component";
		s += c;
		if (*s == '/' && !*++s)
			return "path has an empty component (a leading, doubled or trailing '/')";
	}
	return NULL;
}

static const char *fsev_check(const char *root, const struct sm_fsev *ev)
{
	const char *why;
	if (ev->kind < SM_FSEV_CREATE || ev->kind > SM_FSEV_RESCAN)
		return "unknown FS_EVENTS kind";
	if (ev->flags & ~SM_FSEV_FLAGS)
		return "unknown FS_EVENTS flags";
	if ((why = sm_fsev_relpath_check(root, ev->path)))
		return why;
	bool rename = ev->kind == SM_FSEV_RENAME;
	if (rename != (ev->path2[0] != 0))
		return "only a rename has a second path";
	if (rename && (why = sm_fsev_relpath_check(root, ev->path2)))
		return why;
	bool on_root = ev->kind == SM_FSEV_MODIFY || ev->kind == SM_FSEV_ATTRIB ||
		       ev->kind == SM_FSEV_RESCAN;
	if (!on_root && !ev->path[0])
		return "a create, delete or rename names the mount root";
	return NULL;
}

void sm_fsev_req_free(struct sm_fsev_req *req)
{
	free(req->root);
	for (uint32_t i = 0; req->ev && i < req->n; i++) {
		free(req->ev[i].path);
		free(req->ev[i].path2);
	}
	free(req->ev);
	memset(req, 0, sizeof(*req));
}

int sm_fsev_req_encode(struct sm_wbuf *b, uint32_t id, const struct sm_fsev_req *req)
{
	if (!req->root || sm_mount_path_check(req->root) || req->n == 0 || req->n > SM_FSEV_MAX)
		return -1;
	for (uint32_t i = 0; i < req->n; i++)
		if (!req->ev[i].path || !req->ev[i].path2 || fsev_check(req->root, &req->ev[i]))
			return -1;
	size_t f = sm_frame_begin(b, SM_MSG_FS_EVENTS, id);
	sm_put_str(b, req->root);
	sm_put_u32(b, req->n);
	for (uint32_t i = 0; i < req->n; i++) {
		sm_put_u32(b, req->ev[i].kind);
		sm_put_u32(b, req->ev[i].flags);
		sm_put_str(b, req->ev[i].path);
		sm_put_str(b, req->ev[i].path2);
	}
	return sm_frame_end(b, f);
}

static int decode_events(struct sm_rbuf *r, struct sm_fsev_req *req, const char **why)
{
	uint32_t n;
	if (sm_get_u32(r, &n))
		return -1;
	if (n == 0 || n > SM_FSEV_MAX) {
		*why = "FS_EVENTS holds no record or too many";
		return -1;
	}
	req->ev = calloc(n, sizeof(*req->ev));
	if (!req->ev)
		return -1;
	req->n = n;
	for (uint32_t i = 0; i < n; i++) {
		struct sm_fsev *ev = &req->ev[i];
		if (sm_get_u32(r, &ev->kind) || sm_get_u32(r, &ev->flags) ||
		    sm_get_str(r, &ev->path) || sm_get_str(r, &ev->path2))
			return -1;
		if ((*why = fsev_check(req->root, ev)))
			return -1;
	}
	return 0;
}

int sm_fsev_req_decode(const void *p, size_t len, struct sm_fsev_req *req, const char **why)
{
	struct sm_rbuf r;
	memset(req, 0, sizeof(*req));
	*why = NULL;
	sm_rbuf_init(&r, p, len);
	if (sm_get_str(&r, &req->root) == 0 && (*why = sm_mount_path_check(req->root)))
		return -1;
	if (decode_events(&r, req, why) || sm_rbuf_done(&r)) {
		if (!*why)
			*why = "malformed FS_EVENTS";
		return -1;
	}
	return 0;
}

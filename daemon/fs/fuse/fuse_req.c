/* fuse_req.c - the helpers an op uses on its request (fuse_internal.h):
 * appending to the reply, reading a name, pinning nodes and handles.
 */
#include "daemon/fs/fuse/fuse_internal.h"

#include <errno.h>

int fs_reply(struct fs_req *r, const void *p, size_t n)
{
	int e = fs_out_write(&r->out, sizeof(struct fuse_out_header) + r->len, p, n);
	if (e == 0)
		r->len += n;
	return e;
}

size_t fs_reply_room(const struct fs_req *r)
{
	size_t used = sizeof(struct fuse_out_header) + r->len;
	return r->out.cap > used ? r->out.cap - used : 0;
}

int fs_arg_name(struct fs_req *r, char *name)
{
	int n = fs_in_str(&r->in, name, NAME_MAX + 1);
	if (n < 0)
		return n;
	return fs_name_check(name);
}

int fs_pin(struct fs_req *r, uint64_t nodeid, struct fs_node_ref *ref)
{
	return fs_nodes_pin(&r->s->nodes, nodeid, ref);
}

void fs_unpin(struct fs_req *r, const struct fs_node_ref *ref)
{
	fs_nodes_unpin(&r->s->nodes, ref);
}

int fs_pin_fh(struct fs_req *r, uint64_t fh, bool dir, struct fs_handle_ref *ref)
{
	return fs_handles_pin(&r->s->handles, fh, dir, ref);
}

void fs_unpin_fh(struct fs_req *r, const struct fs_handle_ref *ref)
{
	fs_handles_unpin(&r->s->handles, ref);
}

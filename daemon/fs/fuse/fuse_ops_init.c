/* fuse_ops_init.c - INIT and DESTROY: protocol negotiation and the
 * server's per-mount state.
 *
 * We speak 7.31 up to <linux/fuse.h>'s minor (7.38 on Debian 12) and
 * answer a guest with its own minor when that is lower; major 7 only.
 * Offered (when the guest offers them too): async reads, atomic O_TRUNC,
 * big writes and max_pages (FS_MAX_IO per request), READDIRPLUS,
 * auto-invalidation of cached data when the host's mtime moves,
 * async direct I/O, parallel directory ops, cached symlinks.
 * Not offered: writeback cache (the host may change files under the
 * guest), POSIX/BSD locks (the guest kernel keeps them, see
 * fuse_server.h), export support, ACLs, killpriv, DAX.
 * An INIT also forgets every node and handle a previous guest left (a
 * rebooted guest sends INIT without a DESTROY).
 */
#include "daemon/fs/fuse/fuse_internal.h"

#include <errno.h>
#include <string.h>

#define OFFERED (FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | \
		 FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO | FUSE_AUTO_INVAL_DATA | \
		 FUSE_ASYNC_DIO | FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES | \
		 FUSE_CACHE_SYMLINKS | FUSE_INIT_EXT)

static void reset_tables(struct fs_server *s)
{
	fs_handles_release_all(&s->handles);
	fs_nodes_forget_all(&s->nodes);
}

int fs_op_init(struct fs_req *r)
{
	struct fuse_init_in in;
	memset(&in, 0, sizeof(in));
	size_t n = r->in.left < sizeof(in) ? r->in.left : sizeof(in);
	if (fs_args(r, &in, n) < 0)
		return -EINVAL;
	if (in.major != FUSE_KERNEL_VERSION || in.minor < FS_MIN_MINOR)
		return -EPROTO;
	if (fs_reply_room(r) < sizeof(struct fuse_init_out))
		return -EINVAL;
	uint64_t offered = in.flags;
	if (in.flags & FUSE_INIT_EXT)
		offered |= (uint64_t)in.flags2 << 32;
	uint64_t flags = offered & OFFERED;
	struct fuse_init_out o = {
		.major = FUSE_KERNEL_VERSION,
		.minor = in.minor < FUSE_KERNEL_MINOR_VERSION ? in.minor : FUSE_KERNEL_MINOR_VERSION,
		.max_readahead = in.max_readahead,
		.flags = (uint32_t)flags,
		.flags2 = (uint32_t)(flags >> 32),
		.max_write = FS_MAX_IO,
		.time_gran = 1,
		.max_pages = FS_MAX_IO / 4096,
	};
	reset_tables(r->s);
	pthread_mutex_lock(&r->s->mu);
	r->s->initialized = true;
	r->s->minor = o.minor;
	pthread_mutex_unlock(&r->s->mu);
	return fs_reply(r, &o, sizeof(o));
}

int fs_op_destroy(struct fs_req *r)
{
	pthread_mutex_lock(&r->s->mu);
	r->s->initialized = false;
	pthread_mutex_unlock(&r->s->mu);
	reset_tables(r->s);
	return 0;
}

/* vsock_persist.c - save and restore a virtio-vsock device (snapshots).
 *
 * Section "VSCK" version 1: the transport's "VMIO" section, u64 the guest
 * CID, u32 the last host-side port handed out.
 *
 * Open connections do not survive a snapshot (their host sockets belong to
 * the old process): restore frees every connection slot and tells the
 * guest with a TRANSPORT_RESET event, after which the guest drops its
 * connected sockets and keeps its listeners; the host reconnects through
 * the restored process's own listener. The last host port is kept so that
 * new connections do not reuse the ports of the ones the guest is still
 * tearing down. The CID is the guest's address and must match.
 */
#include "daemon/vm/snapshot/snap_buf.h"
#include "daemon/vm/virtio/vsock.h"

#define VSOCK_TAG     SNAP_TAG('V', 'S', 'C', 'K')
#define VSOCK_VERSION 1

void virtio_vsock_save(const struct virtio_vsock *v, struct snap_writer *w)
{
	size_t h = snap_begin(w, VSOCK_TAG, VSOCK_VERSION);
	virtio_mmio_save(&v->t, w);
	snap_put_u64(w, v->guest_cid);
	snap_put_u32(w, v->next_ephemeral);
	snap_end(w, h);
}

static bool load_own(const struct virtio_vsock *v, struct snap_reader *r, uint32_t *port)
{
	uint64_t cid;
	if (!snap_get_u64(r, &cid) || !snap_get_u32(r, port))
		return false;
	if (cid != v->guest_cid)
		return snap_fail(r, "guest CID %llu in the snapshot, %llu in this VM",
				 (unsigned long long)cid, (unsigned long long)v->guest_cid);
	if (*port < VSOCK_EPHEMERAL_BASE || *port == UINT32_MAX)
		return snap_fail(r, "last host port %u outside %u..%u", *port,
				 VSOCK_EPHEMERAL_BASE, UINT32_MAX - 1);
	return true;
}

bool virtio_vsock_restore(struct virtio_vsock *v, struct snap_reader *r)
{
	struct snap_reader sub;
	struct virtio_mmio_state s;
	uint32_t port = VSOCK_EPHEMERAL_BASE;
	if (!snap_open(r, VSOCK_TAG, VSOCK_VERSION, &sub, NULL))
		return false;
	if (virtio_mmio_load(&v->t, &sub, &s) && load_own(v, &sub, &port))
		snap_done(&sub, "VSCK section");
	if (!snap_merge(r, &sub, "virtio-vsock"))
		return false;
	virtio_mmio_commit(&v->t, &s);
	v->next_ephemeral = port;
	virtio_vsock_transport_reset_locked(v);
	virtio_mmio_resume(&v->t);
	return true;
}

/* net_persist.c - save and restore a virtio-net device (snapshots).
 *
 * Section "VNET" version 1: the transport's "VMIO" section, 6 bytes the
 * MAC, bool whether the link was up.
 *
 * The backend does not survive a snapshot (its socket and passt belong to
 * the old process), nor do the bytes buffered on either stream: the guest
 * sees them as frames lost on the wire, which its protocols recover from.
 * After a restore the link is down until the VMM attaches the new passt;
 * if the guest saw it up, it is told at once (config change interrupt),
 * and told again when the link comes back. The MAC is the guest's own
 * (its driver read it at probe time) and must match.
 */
#include "daemon/vm/snapshot/snap_buf.h"
#include "daemon/vm/virtio/net.h"

#include <string.h>

#define NET_TAG     SNAP_TAG('V', 'N', 'E', 'T')
#define NET_VERSION 1

void virtio_net_save(const struct virtio_net *n, struct snap_writer *w)
{
	size_t h = snap_begin(w, NET_TAG, NET_VERSION);
	virtio_mmio_save(&n->t, w);
	snap_put_bytes(w, n->mac, sizeof(n->mac));
	snap_put_bool(w, n->link_up);
	snap_end(w, h);
}

static bool load_own(const struct virtio_net *n, struct snap_reader *r, bool *was_up)
{
	uint8_t mac[6];
	if (!snap_get_bytes(r, mac, sizeof(mac)) || !snap_get_bool(r, was_up))
		return false;
	if (memcmp(mac, n->mac, sizeof(mac)) != 0)
		return snap_fail(r, "MAC %02x:%02x:%02x:%02x:%02x:%02x in the snapshot, "
				 "%02x:%02x:%02x:%02x:%02x:%02x in this VM", mac[0], mac[1], mac[2],
				 mac[3], mac[4], mac[5], n->mac[0], n->mac[1], n->mac[2],
				 n->mac[3], n->mac[4], n->mac[5]);
	return true;
}

bool virtio_net_restore(struct virtio_net *n, struct snap_reader *r)
{
	struct snap_reader sub;
	struct virtio_mmio_state s;
	bool was_up = false;
	if (!snap_open(r, NET_TAG, NET_VERSION, &sub, NULL))
		return false;
	if (virtio_mmio_load(&n->t, &sub, &s) && load_own(n, &sub, &was_up))
		snap_done(&sub, "VNET section");
	if (!snap_merge(r, &sub, "virtio-net"))
		return false;
	net_link_down(n, "restored from a snapshot");
	net_rx_forget(n);
	virtio_mmio_commit(&n->t, &s);
	if (was_up)
		virtio_mmio_config_changed(&n->t); /* the guest saw link up */
	virtio_mmio_resume(&n->t);
	return true;
}

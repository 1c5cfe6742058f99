/* net_persist.c - save and restore a virtio-net device (snapshots).
 *
 * Section "VNET" version 1: the transport's "VMIO" section, 6 bytes the
 * MAC, bool whether the link was up.
 *
 * The backend does not survive a snapshot (its socket and passt belong to
 * the old process), nor do the bytes buffered on either stream: the guest
 * sees them as frames lost on the wire, which its protocols recover from.
 * Nor does the table of recent UDP peers of served ports (egress_peers.h):
 * a UDP server's answers pass again once its peer sends again.
 * After a restore the link is down until the VMM attaches the new passt;
 * if the guest saw it up, it is told at once (config change interrupt),
 * and told again when the link comes back.
 *
 * The MAC is the restoring VMM's (--net MAC), not the snapshot's: clones
 * of one snapshot each get their own. When they differ the config space
 * shows the new one and the guest gets a config change interrupt; its
 * driver read the old one at probe time and keeps using it in the
 * interface until the guest sets the new one (Linux does not re-read it).
 * The section records the device's MAC as it is when saved, so a VM
 * that NET_ATTACH gave another MAC saves that one.
 */
#include "daemon/vm/snapshot/snap_buf.h"
#include "daemon/vm/virtio/net.h"

#include <stdio.h>
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

static bool load_own(struct snap_reader *r, uint8_t saved_mac[6], bool *was_up)
{
	return snap_get_bytes(r, saved_mac, 6) && snap_get_bool(r, was_up);
}

static void log_new_mac(const uint8_t saved[6], const uint8_t mac[6])
{
	fprintf(stderr, "virtio-net: restored with MAC %02x:%02x:%02x:%02x:%02x:%02x (the "
		"snapshot's was %02x:%02x:%02x:%02x:%02x:%02x)\n", mac[0], mac[1], mac[2], mac[3],
		mac[4], mac[5], saved[0], saved[1], saved[2], saved[3], saved[4], saved[5]);
}

bool virtio_net_restore(struct virtio_net *n, struct snap_reader *r)
{
	struct snap_reader sub;
	struct virtio_mmio_state s;
	uint8_t saved_mac[6];
	bool was_up = false;
	if (!snap_open(r, NET_TAG, NET_VERSION, &sub, NULL))
		return false;
	if (virtio_mmio_load(&n->t, &sub, &s) && load_own(&sub, saved_mac, &was_up))
		snap_done(&sub, "VNET section");
	if (!snap_merge(r, &sub, "virtio-net"))
		return false;
	net_link_down(n, "restored from a snapshot");
	net_rx_forget(n);
	virtio_mmio_commit(&n->t, &s);
	bool new_mac = memcmp(saved_mac, n->mac, 6) != 0;
	if (new_mac)
		log_new_mac(saved_mac, n->mac);
	if (was_up || new_mac)
		virtio_mmio_config_changed(&n->t); /* the guest saw link up, or the old MAC */
	virtio_mmio_resume(&n->t);
	return true;
}

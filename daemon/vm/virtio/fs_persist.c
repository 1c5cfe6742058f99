/* fs_persist.c - save and restore a virtio-fs device (snapshots, fs.h).
 *
 * Section "VFS_" version 1: the transport's "VMIO" section, the 36-byte
 * tag, u8 session (the guest had sent FUSE requests since the device's
 * last reset). Restore refuses another tag, and a session: the guest's
 * node IDs and file handles would name host state this process does not
 * have.
 */
#include <string.h>

#include "daemon/vm/snapshot/snap_buf.h"
#include "daemon/vm/virtio/fs.h"

#define FS_TAG     SNAP_TAG('V', 'F', 'S', '_')
#define FS_VERSION 1

void virtio_fs_save(const struct virtio_fs *dev, struct snap_writer *w)
{
	size_t h = snap_begin(w, FS_TAG, FS_VERSION);
	virtio_mmio_save(&dev->t, w);
	snap_put_bytes(w, dev->tag, FS_TAG_MAX);
	snap_put_u8(w, dev->session);
	snap_end(w, h);
}

static bool check_fs(const struct virtio_fs *dev, struct snap_reader *sub, const char *tag,
		     uint8_t session)
{
	if (memcmp(tag, dev->tag, FS_TAG_MAX))
		return snap_fail(sub, "tag %.*s, this VM's is %.*s", FS_TAG_MAX, tag, FS_TAG_MAX,
				 dev->tag);
	if (session)
		return snap_fail(sub, "the guest had %.*s mounted when the snapshot was taken; "
				 "a mounted host folder cannot be restored", FS_TAG_MAX, tag);
	return true;
}

bool virtio_fs_restore(struct virtio_fs *dev, struct snap_reader *r)
{
	struct snap_reader sub;
	struct virtio_mmio_state s;
	char tag[FS_TAG_MAX];
	uint8_t session = 0;
	if (!snap_open(r, FS_TAG, FS_VERSION, &sub, NULL))
		return false;
	if (virtio_mmio_load(&dev->t, &sub, &s) && snap_get_bytes(&sub, tag, FS_TAG_MAX) &&
	    snap_get_u8(&sub, &session) && check_fs(dev, &sub, tag, session))
		snap_done(&sub, "VFS_ section");
	if (!snap_merge(r, &sub, "virtio-fs"))
		return false;
	virtio_mmio_commit(&dev->t, &s);
	virtio_mmio_resume(&dev->t);
	return true;
}

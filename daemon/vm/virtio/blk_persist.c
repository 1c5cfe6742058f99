/* blk_persist.c - save and restore a virtio-blk device (snapshots).
 *
 * Section "VBLK" version 1: bool read-only, u64 capacity in sectors, the
 * 20-byte disk id, str the path the disk was opened from, then the
 * transport's "VMIO" section (mmio_persist.c).
 *
 * The disk's contents are not saved: the restored VM must be given the
 * same disk (the path may differ, e.g. a moved image). A disk whose mode,
 * size or id differs is refused before anything is loaded, naming both
 * paths. The device keeps no state of its own between requests.
 */
#include <string.h>

#include "daemon/vm/snapshot/snap_buf.h"
#include "daemon/vm/virtio/blk.h"

#define BLK_TAG     SNAP_TAG('V', 'B', 'L', 'K')
#define BLK_VERSION 1

void virtio_blk_save(const struct virtio_blk *dev, struct snap_writer *w)
{
	size_t h = snap_begin(w, BLK_TAG, BLK_VERSION);
	snap_put_bool(w, dev->disk.readonly);
	snap_put_u64(w, dev->disk.sectors);
	snap_put_bytes(w, dev->disk.id, BLK_ID_BYTES);
	snap_put_str(w, dev->path);
	virtio_mmio_save(&dev->t, w);
	snap_end(w, h);
}

static const char *mode(bool readonly)
{
	return readonly ? "read-only" : "read-write";
}

/* The saved disk must be the one dev has open. */
static bool check_disk(const struct virtio_blk *dev, struct snap_reader *r)
{
	bool ro;
	uint64_t sectors;
	char id[BLK_ID_BYTES];
	char path[PATH_MAX];
	if (!snap_get_bool(r, &ro) || !snap_get_u64(r, &sectors) ||
	    !snap_get_bytes(r, id, sizeof(id)) || !snap_get_str(r, path, sizeof(path)))
		return false;
	const struct blk_disk *d = &dev->disk;
	if (ro != d->readonly)
		return snap_fail(r, "disk %s was %s, %s here is %s", path, mode(ro), dev->path,
				 mode(d->readonly));
	if (sectors != d->sectors)
		return snap_fail(r, "disk %s had %llu sectors, %s here has %llu", path,
				 (unsigned long long)sectors, dev->path,
				 (unsigned long long)d->sectors);
	if (memcmp(id, d->id, sizeof(id)))
		return snap_fail(r, "disk %s had id \"%.*s\", %s here has \"%.*s\"", path,
				 BLK_ID_BYTES, id, dev->path, BLK_ID_BYTES, d->id);
	return true;
}

bool virtio_blk_restore(struct virtio_blk *dev, struct snap_reader *r)
{
	struct snap_reader sub;
	struct virtio_mmio_state s;
	if (!snap_open(r, BLK_TAG, BLK_VERSION, &sub, NULL))
		return false;
	if (check_disk(dev, &sub) && virtio_mmio_load(&dev->t, &sub, &s))
		snap_done(&sub, "VBLK section");
	if (!snap_merge(r, &sub, "virtio-blk"))
		return false;
	virtio_mmio_commit(&dev->t, &s);
	virtio_mmio_resume(&dev->t);
	return true;
}

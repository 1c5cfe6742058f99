/* blk_persist.c - save and restore a virtio-blk device (snapshots).
 *
 * Section "VBLK" version 2: bool read-only, u64 capacity in sectors, the
 * 20-byte disk id, str the path the disk was opened from, u32 the number
 * of layers of a composite disk (0: one file) and u64 each layer's size in
 * bytes, then the transport's "VMIO" section (mmio_persist.c). Version 1
 * (no layer count) was a disk of one file, and still restores as one.
 *
 * The disk's contents are not saved: the restored VM must be given the
 * same disk (the path may differ, e.g. a moved image; a composite gets the
 * same --layer files). A disk whose mode, size, id, layer count or a
 * layer's size differs is refused before anything is loaded, naming both
 * paths. The device keeps no state of its own between requests.
 */
#include <string.h>

#include "daemon/vm/snapshot/snap_buf.h"
#include "daemon/vm/virtio/blk.h"
#include "daemon/vm/virtio/blk_composite.h"

#define BLK_TAG     SNAP_TAG('V', 'B', 'L', 'K')
#define BLK_VERSION 2

void virtio_blk_save(const struct virtio_blk *dev, struct snap_writer *w)
{
	size_t h = snap_begin(w, BLK_TAG, BLK_VERSION);
	snap_put_bool(w, dev->disk.readonly);
	snap_put_u64(w, dev->disk.sectors);
	snap_put_bytes(w, dev->disk.id, BLK_ID_BYTES);
	snap_put_str(w, dev->path);
	int layers = blk_composite_layers(&dev->disk);
	snap_put_u32(w, (uint32_t)layers);
	for (int i = 0; i < layers; i++)
		snap_put_u64(w, blk_composite_layer_bytes(&dev->disk, i));
	virtio_mmio_save(&dev->t, w);
	snap_end(w, h);
}

static const char *mode(bool readonly)
{
	return readonly ? "read-only" : "read-write";
}

/* What a snapshot says about its disk. */
struct saved_disk {
	bool ro;
	uint64_t sectors;
	char id[BLK_ID_BYTES];
	char path[PATH_MAX];
	uint32_t layers;                  /* 0: one file */
	uint64_t bytes[BLK_MAX_LAYERS];   /* each layer's size */
};

static bool read_saved(struct snap_reader *r, uint32_t version, struct saved_disk *s)
{
	if (!snap_get_bool(r, &s->ro) || !snap_get_u64(r, &s->sectors) ||
	    !snap_get_bytes(r, s->id, sizeof(s->id)) || !snap_get_str(r, s->path, sizeof(s->path)))
		return false;
	s->layers = 0;
	if (version == 1)
		return true;
	if (!snap_get_u32(r, &s->layers))
		return false;
	if (s->layers > BLK_MAX_LAYERS)
		return snap_fail(r, "disk %s: %u layers (at most %d)", s->path, s->layers,
				 BLK_MAX_LAYERS);
	for (uint32_t i = 0; i < s->layers; i++)
		if (!snap_get_u64(r, &s->bytes[i]))
			return false;
	return true;
}

/* The saved layers must be the composite's (none for a file): count, then
 * sizes, which say more than the disk's size and id would. */
static bool check_layers(const struct virtio_blk *dev, struct snap_reader *r,
			 const struct saved_disk *s)
{
	int have = blk_composite_layers(&dev->disk);
	if (s->layers != (uint32_t)have)
		return snap_fail(r, "disk %s had %u layers, %s here has %d", s->path, s->layers,
				 dev->path, have);
	for (int i = 0; i < have; i++) {
		uint64_t now = blk_composite_layer_bytes(&dev->disk, i);
		if (s->bytes[i] != now)
			return snap_fail(r, "disk %s: layer %d had %llu bytes, here %llu (%s)",
					 s->path, i, (unsigned long long)s->bytes[i],
					 (unsigned long long)now, dev->path);
	}
	return true;
}

/* The saved disk must be the one dev has open. */
static bool check_disk(const struct virtio_blk *dev, struct snap_reader *r, uint32_t version)
{
	struct saved_disk s;
	if (!read_saved(r, version, &s))
		return false;
	const struct blk_disk *d = &dev->disk;
	if (s.ro != d->readonly)
		return snap_fail(r, "disk %s was %s, %s here is %s", s.path, mode(s.ro), dev->path,
				 mode(d->readonly));
	if (!check_layers(dev, r, &s))
		return false;
	if (s.sectors != d->sectors)
		return snap_fail(r, "disk %s had %llu sectors, %s here has %llu", s.path,
				 (unsigned long long)s.sectors, dev->path,
				 (unsigned long long)d->sectors);
	if (memcmp(s.id, d->id, sizeof(s.id)))
		return snap_fail(r, "disk %s had id \"%.*s\", %s here has \"%.*s\"", s.path,
				 BLK_ID_BYTES, s.id, dev->path, BLK_ID_BYTES, d->id);
	return true;
}

bool virtio_blk_restore(struct virtio_blk *dev, struct snap_reader *r)
{
	struct snap_reader sub;
	struct virtio_mmio_state s;
	uint32_t version;
	if (!snap_open(r, BLK_TAG, BLK_VERSION, &sub, &version))
		return false;
	if (check_disk(dev, &sub, version) && virtio_mmio_load(&dev->t, &sub, &s))
		snap_done(&sub, "VBLK section");
	if (!snap_merge(r, &sub, "virtio-blk"))
		return false;
	virtio_mmio_commit(&dev->t, &s);
	virtio_mmio_resume(&dev->t);
	return true;
}

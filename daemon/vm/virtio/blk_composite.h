/* blk_composite.h - one read-only disk made of image layer files.
 *
 * supermachine-vmm --layer PATH (repeatable, lowest layer first) gives the
 * guest one virtio-blk disk whose sectors are a GUID partition table made
 * in memory (gpt.h) with layer i as partition i+1 (/dev/vda1 is the lowest
 * layer). Reads map each byte range onto the layer files, the table in
 * memory, or zeros (the padding between partitions); nothing is ever
 * written, to the files or anywhere else. The store keeps sharing one
 * erofs file per layer across images; a VM takes up to 127 of them on one
 * device slot.
 */
#ifndef SM_VIRTIO_BLK_COMPOSITE_H
#define SM_VIRTIO_BLK_COMPOSITE_H

#include <stdint.h>

#include "daemon/vm/virtio/blk.h"
#include "daemon/vm/virtio/gpt.h"

#define BLK_MAX_LAYERS GPT_MAX_PARTS

/* Open the n (1..BLK_MAX_LAYERS) layer files read-only into d as one
 * read-only composite disk. Its id is "layersN-" and 8 hex digits of a
 * CRC32 over the files' names. 0, or -1 with err naming the
 * file (missing, not a regular file, empty). */
int blk_composite_open(struct blk_disk *d, const char *const *paths, int n,
		       struct vm_err *err);

/* The composite's layer count (0 if d is not a composite) and layer i's
 * size in bytes when it was opened (for snapshots). */
int blk_composite_layers(const struct blk_disk *d);
uint64_t blk_composite_layer_bytes(const struct blk_disk *d, int i);

/* The table's layout (unit tests; NULL if d is not a composite). */
const struct gpt_layout *blk_composite_gpt(const struct blk_disk *d);

#endif

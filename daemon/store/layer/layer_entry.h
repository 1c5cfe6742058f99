/* layer_entry.h - apply one tar entry to the layer tree (internal).
 *
 * layer_convert.c owns the archive and the output files; layer_entry.c
 * decides what each entry becomes: a node in the tree, an overlayfs
 * whiteout or opaque marker, or nothing (a neutralised hostile entry).
 */
#ifndef SM_LAYER_ENTRY_H
#define SM_LAYER_ENTRY_H

#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>

#include "erofs_writer.h"
#include "layer_convert.h"
#include "layer_tree.h"

struct layer_ctx {
	struct archive *a;
	struct lt_tree tree;
	struct erofs_writer w;
	struct layer_limits lim;
	struct layer_stats *st;
	uint64_t total_size;
	bool saw_entry;
	char *err;
	size_t errlen;
};

/* 0: applied or neutralised; -1: the layer is refused (err is set). */
int layer_apply_entry(struct layer_ctx *c, struct archive_entry *e);

/* Helpers shared by layer_entry.c, layer_whiteout.c and layer_xattr.c. */
int layer_neutralise(struct layer_ctx *c);      /* counts; returns 0 */
int layer_oom(struct layer_ctx *c, struct archive_entry *e);    /* -1 */
const char *layer_entry_path(struct archive_entry *e);
/* Permissions, owner (out of range: nobody) and mtime from the entry. */
void layer_set_meta(struct layer_ctx *c, struct lt_inode *ino,
		    struct archive_entry *e);

#endif

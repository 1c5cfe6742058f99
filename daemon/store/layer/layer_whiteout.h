/* layer_whiteout.h - OCI whiteouts -> overlayfs whiteouts (internal). */
#ifndef SM_LAYER_WHITEOUT_H
#define SM_LAYER_WHITEOUT_H

#include "layer_entry.h"

#define LAYER_WH_PREFIX ".wh."

/* A 0/0 character device: an overlayfs whiteout. */
bool layer_is_whiteout(const struct lt_inode *ino);

/* Entry named last (starting with .wh.) in dir. 0 or -1 (err set). */
int layer_apply_whiteout(struct layer_ctx *c, struct archive_entry *e,
			 struct lt_dentry *dir, const char *last);

/* Set trusted.overlay.opaque=y on a directory inode. */
int layer_mark_opaque(struct layer_ctx *c, struct archive_entry *e,
		      struct lt_inode *dir);

/* lt_blocked_fn (ctx: the layer_ctx): an opaque directory in place of a
 * whiteout; NULL for any other non-directory. */
struct lt_inode *layer_dir_for_whiteout(void *ctx, struct lt_inode *blocker);

#endif

/* layer_whiteout.c - OCI whiteouts as overlayfs sees them.
 *
 * .wh.NAME becomes a 0/0 character device named NAME, unless this layer
 * has NAME itself (a whiteout only hides lower layers). .wh..wh..opq sets
 * trusted.overlay.opaque=y on its directory, and so does re-making a
 * directory where this layer put a whiteout, explicitly or as the parent
 * of a later entry: the lower directory was deleted and must not show
 * through. Other .wh..wh.* names (aufs metadata) and empty or dot names
 * are dropped.
 */
#include "layer_whiteout.h"
#include "erofs_format.h"

#include <string.h>

#define WH_OPAQUE       ".wh..wh..opq"

bool layer_is_whiteout(const struct lt_inode *ino)
{
	return (ino->mode & 0170000) == 0020000 && !ino->rdev_major &&
	       !ino->rdev_minor;
}

int layer_mark_opaque(struct layer_ctx *c, struct archive_entry *e,
		      struct lt_inode *dir)
{
	if (lt_inode_add_xattr(dir, EROFS_XATTR_INDEX_TRUSTED, "overlay.opaque",
			       "y", 1) < 0)
		return layer_oom(c, e);
	c->st->opaque_dirs++;
	return 0;
}

int layer_apply_whiteout(struct layer_ctx *c, struct archive_entry *e,
			 struct lt_dentry *dir, const char *last)
{
	const char *name = last + strlen(LAYER_WH_PREFIX);
	struct lt_inode *ino;

	if (strcmp(last, WH_OPAQUE) == 0)
		return layer_mark_opaque(c, e, dir->inode);
	if (strncmp(name, LAYER_WH_PREFIX, strlen(LAYER_WH_PREFIX)) == 0 ||
	    !*name ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return layer_neutralise(c);   /* aufs metadata or a bad name */
	if (lt_lookup(&c->tree, dir, name))
		return 0;       /* whiteouts hide lower layers only (OCI) */
	ino = lt_inode_new(0020000);
	if (!ino)
		return layer_oom(c, e);
	layer_set_meta(c, ino, e);
	ino->mode = 0020000;            /* c---------, rdev 0/0 */
	if (lt_bind(&c->tree, dir, name, ino) != LT_OK) {
		lt_inode_put(&c->tree, ino);
		return layer_oom(c, e);
	}
	c->st->whiteouts++;
	return 0;
}

/* lt_walk found a non-directory where a parent is needed: a whiteout
 * of this layer gives way to an opaque directory (the lower one was
 * deleted); a symlink or file blocks the entry. */
struct lt_inode *layer_dir_for_whiteout(void *ctx, struct lt_inode *blocker)
{
	struct layer_ctx *c = ctx;
	struct lt_inode *ino;

	if (!layer_is_whiteout(blocker))
		return NULL;
	ino = lt_inode_new(0040755);
	if (!ino)
		return NULL;
	ino->mtime = c->tree.default_mtime;
	if (lt_inode_add_xattr(ino, EROFS_XATTR_INDEX_TRUSTED, "overlay.opaque",
			       "y", 1) < 0) {
		lt_inode_put(&c->tree, ino);
		return NULL;
	}
	c->st->opaque_dirs++;
	return ino;
}

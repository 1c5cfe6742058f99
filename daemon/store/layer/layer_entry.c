/* layer_entry.c - what one tar entry becomes in the layer's tree.
 *
 * Paths are cleaned lexically (absolute and ../ clamped at the root). An
 * entry whose parent path runs through a symlink or file is dropped, so a
 * write can never go through a symlink. Hard links must name an existing
 * non-directory of this layer by a clean path. OCI whiteouts (.wh.NAME)
 * are handed to layer_whiteout.c, xattrs and ACLs to layer_xattr.c. Every
 * dropped or rewritten entry is counted in stats.neutralised; size caps
 * refuse the layer.
 */
#include "layer_entry.h"
#include "layer_whiteout.h"
#include "layer_xattr.h"
#include "erofs_format.h"

#include <stdio.h>
#include <string.h>

#define SYMLINK_MAX     4095
#define NOBODY          65534u

int layer_neutralise(struct layer_ctx *c)
{
	c->st->neutralised++;
	return 0;
}

static uint32_t id_or_nobody(la_int64_t id, bool *bad)
{
	if (id >= 0 && id <= (la_int64_t)UINT32_MAX)
		return (uint32_t)id;
	*bad = true;
	return NOBODY;
}

void layer_set_meta(struct layer_ctx *c, struct lt_inode *ino,
		    struct archive_entry *e)
{
	bool bad = false;

	ino->mode = (ino->mode & 0170000) | (archive_entry_perm(e) & 07777);
	if ((ino->mode & 0170000) == 0120000)
		ino->mode = 0120777;    /* as on any Linux filesystem */
	ino->uid = id_or_nobody(archive_entry_uid(e), &bad);
	ino->gid = id_or_nobody(archive_entry_gid(e), &bad);
	c->st->neutralised += bad;
	ino->mtime = archive_entry_mtime(e);
	ino->mtime_nsec = archive_entry_mtime_is_set(e)
		? (uint32_t)archive_entry_mtime_nsec(e) % 1000000000u : 0;
}

/* Names as stored: pax records hold UTF-8, which libarchive would
 * otherwise try to convert to the process locale (and fail in "C"). */
static const char *name_of(const char *utf8, const char *mbs)
{
	return utf8 ? utf8 : mbs;
}

static const char *entry_pathname(struct archive_entry *e)
{
	return name_of(archive_entry_pathname_utf8(e), archive_entry_pathname(e));
}

static const char *entry_hardlink(struct archive_entry *e)
{
	return name_of(archive_entry_hardlink_utf8(e), archive_entry_hardlink(e));
}

static const char *entry_symlink(struct archive_entry *e)
{
	return name_of(archive_entry_symlink_utf8(e), archive_entry_symlink(e));
}

const char *layer_entry_path(struct archive_entry *e)
{
	const char *p = entry_pathname(e);

	return p ? p : "(unnamed)";
}

int layer_oom(struct layer_ctx *c, struct archive_entry *e)
{
	snprintf(c->err, c->errlen, "%s: out of memory", layer_entry_path(e));
	return -1;
}

static int apply_hardlink(struct layer_ctx *c, struct archive_entry *e,
			  struct lt_dentry *dir, const char *last)
{
	struct lt_path hp;
	struct lt_dentry *hdir, *target;
	enum lt_err r = lt_path_parse(entry_hardlink(e), &hp);

	if (r == LT_ENOMEM)
		return layer_oom(c, e);
	if (r != LT_OK)
		return layer_neutralise(c);
	if (hp.rewritten || hp.n == 0 ||
	    lt_walk(&c->tree, &hp, hp.n - 1, false, NULL, NULL, &hdir) != LT_OK ||
	    !(target = lt_lookup(&c->tree, hdir, hp.comp[hp.n - 1])) ||
	    lt_is_dir(target->inode)) {
		lt_path_free(&hp);
		return layer_neutralise(c);
	}
	lt_path_free(&hp);
	if (lt_bind(&c->tree, dir, last, target->inode) != LT_OK)
		return layer_oom(c, e);
	return 0;
}

static int check_size(struct layer_ctx *c, struct archive_entry *e,
		      uint64_t size)
{
	if (size > c->lim.max_file_size) {
		snprintf(c->err, c->errlen,
			 "%s: size %llu exceeds the %llu byte file limit",
			 layer_entry_path(e), (unsigned long long)size,
			 (unsigned long long)c->lim.max_file_size);
		return -1;
	}
	c->total_size += size;
	if (c->total_size > c->lim.max_total_size) {
		snprintf(c->err, c->errlen,
			 "%s: layer content exceeds the %llu byte limit",
			 layer_entry_path(e), (unsigned long long)c->lim.max_total_size);
		return -1;
	}
	return 0;
}

static int stream_file(struct layer_ctx *c, struct archive_entry *e,
		       struct lt_inode *ino)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	if (ew_place_file(&c->w, ino, c->err, c->errlen) < 0)
		return -1;
	while ((r = archive_read_data_block(c->a, &buf, &len, &off)) == ARCHIVE_OK) {
		if (off < 0 || ew_write_file_data(&c->w, ino, (uint64_t)off, buf,
						  len, c->err, c->errlen) < 0) {
			char why[256];

			snprintf(why, sizeof(why), "%s", off < 0 ? "bad offset" : c->err);
			snprintf(c->err, c->errlen, "%s: %s", layer_entry_path(e), why);
			return -1;
		}
	}
	if (r != ARCHIVE_EOF) {
		snprintf(c->err, c->errlen, "%s: reading data: %s", layer_entry_path(e),
			 archive_error_string(c->a) ? archive_error_string(c->a)
						    : "archive error");
		return -1;
	}
	return 0;
}

/* Fill a new inode for a non-directory entry; 1 means neutralise. */
static int fill_node(struct layer_ctx *c, struct archive_entry *e,
		     struct lt_inode *ino)
{
	const char *target;

	switch (ino->mode & 0170000) {
	case 0100000: {
		uint64_t size = archive_entry_size_is_set(e) && archive_entry_size(e) > 0
			? (uint64_t)archive_entry_size(e) : 0;

		if (check_size(c, e, size) < 0)
			return -1;
		ino->size = size;
		return stream_file(c, e, ino);
	}
	case 0120000:
		target = entry_symlink(e);
		if (!target || !*target || strlen(target) > SYMLINK_MAX)
			return 1;
		ino->symlink = strdup(target);
		ino->size = strlen(target);
		return ino->symlink ? 0 : layer_oom(c, e);
	case 0020000:
	case 0060000:
		ino->rdev_major = (uint32_t)archive_entry_rdevmajor(e);
		ino->rdev_minor = (uint32_t)archive_entry_rdevminor(e);
		if (ino->rdev_major > 0xfff || ino->rdev_minor > 0xfffff)
			return 1;
		return 0;
	case 0010000:
	case 0140000:
		return 0;
	}
	return 1;
}

/* A directory entry over an existing directory keeps its children and
 * its opaque marker and takes the entry's metadata. */
static int merge_dir(struct layer_ctx *c, struct archive_entry *e,
		     struct lt_inode *dir)
{
	bool opaque = false;

	for (size_t i = 0; i < dir->nxattrs; i++)
		opaque |= dir->xattrs[i].index == EROFS_XATTR_INDEX_TRUSTED &&
			  strcmp(dir->xattrs[i].name, "overlay.opaque") == 0;
	while (dir->nxattrs)
		lt_inode_del_xattr(dir, dir->xattrs[0].index, dir->xattrs[0].name);
	layer_set_meta(c, dir, e);
	if (layer_entry_xattrs(c, dir, e) < 0)
		return -1;
	if (opaque && lt_inode_add_xattr(dir, EROFS_XATTR_INDEX_TRUSTED,
					 "overlay.opaque", "y", 1) < 0)
		return layer_oom(c, e);
	return 0;
}

static int apply_node(struct layer_ctx *c, struct archive_entry *e,
		      struct lt_dentry *dir, const char *last)
{
	uint32_t type = archive_entry_filetype(e);
	struct lt_dentry *old = lt_lookup(&c->tree, dir, last);
	struct lt_inode *ino;
	int r;

	if (type == AE_IFDIR && old && lt_is_dir(old->inode))
		return merge_dir(c, e, old->inode);
	ino = lt_inode_new(type);
	if (!ino)
		return layer_oom(c, e);
	layer_set_meta(c, ino, e);
	if (layer_entry_xattrs(c, ino, e) < 0) {
		lt_inode_put(&c->tree, ino);
		return -1;
	}
	if (type == AE_IFDIR)
		r = old && layer_is_whiteout(old->inode) ? layer_mark_opaque(c, e, ino) : 0;
	else
		r = fill_node(c, e, ino);
	if (r == 0 && lt_bind(&c->tree, dir, last, ino) != LT_OK)
		r = layer_oom(c, e);
	if (r != 0)
		lt_inode_put(&c->tree, ino);
	return r < 0 ? -1 : r > 0 ? layer_neutralise(c) : 0;
}

static int apply_path(struct layer_ctx *c, struct archive_entry *e,
		      struct lt_path *p)
{
	const char *last = p->comp[p->n - 1];
	struct lt_dentry *dir;
	enum lt_err r = lt_walk(&c->tree, p, p->n - 1, true, layer_dir_for_whiteout,
				c, &dir);

	if (r == LT_ENOMEM)
		return layer_oom(c, e);
	if (r != LT_OK)
		return layer_neutralise(c);   /* through a symlink or a file */
	if (strncmp(last, LAYER_WH_PREFIX, strlen(LAYER_WH_PREFIX)) == 0)
		return layer_apply_whiteout(c, e, dir, last);
	if (entry_hardlink(e))
		return apply_hardlink(c, e, dir, last);
	return apply_node(c, e, dir, last);
}

int layer_apply_entry(struct layer_ctx *c, struct archive_entry *e)
{
	const char *raw = entry_pathname(e);
	struct lt_path p;
	enum lt_err r;
	int rc;

	if (!c->saw_entry) {
		c->saw_entry = true;
		c->tree.default_mtime = archive_entry_mtime(e);
		c->tree.root->inode->mtime = c->tree.default_mtime;
	}
	if (!raw)
		return layer_neutralise(c);
	r = lt_path_parse(raw, &p);
	if (r == LT_ENOMEM)
		return layer_oom(c, e);
	if (r != LT_OK)
		return layer_neutralise(c);
	if (p.rewritten)
		c->st->neutralised++;
	if (p.n == 0) {                 /* the root itself */
		rc = archive_entry_filetype(e) == AE_IFDIR && !entry_hardlink(e)
			? merge_dir(c, e, c->tree.root->inode) : layer_neutralise(c);
	} else {
		rc = apply_path(c, e, &p);
	}
	lt_path_free(&p);
	return rc;
}

/* layer_xattr.c - an entry's xattrs and ACLs on its inode.
 *
 * Names are stored as an erofs prefix index plus suffix (user., trusted.,
 * security., system.posix_acl_*); other namespaces cannot be represented
 * and are dropped. trusted.overlay.* from the archive is dropped too, so a
 * layer cannot forge overlayfs metadata (only layer_whiteout.c sets it).
 * Values over 64 KiB, and xattrs past 64 KiB per inode, are dropped; any
 * drop counts the entry once in stats.neutralised. ACL records follow
 * (layer_acl.c).
 */
#include "layer_xattr.h"
#include "layer_acl.h"
#include "erofs_format.h"
#include "erofs_writer.h"

#include <stdio.h>
#include <string.h>

#define XATTR_AREA_MAX  65536           /* inline xattr bytes per inode */

/* Map a full xattr name to an erofs prefix index and suffix. */
static int xattr_prefix(const char *name, uint8_t *index, const char **suffix)
{
	static const struct { const char *pfx; uint8_t index; } map[] = {
		{ "user.", EROFS_XATTR_INDEX_USER },
		{ "system.posix_acl_access", EROFS_XATTR_INDEX_ACL_ACCESS },
		{ "system.posix_acl_default", EROFS_XATTR_INDEX_ACL_DEFAULT },
		{ "trusted.", EROFS_XATTR_INDEX_TRUSTED },
		{ "security.", EROFS_XATTR_INDEX_SECURITY },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t n = strlen(map[i].pfx);

		if (strncmp(name, map[i].pfx, n) != 0)
			continue;
		*index = map[i].index;
		*suffix = name + n;
		/* the ACL names are whole names, not prefixes */
		return map[i].pfx[n - 1] == '.' || !**suffix ? 0 : -1;
	}
	return -1;
}

int layer_entry_xattrs(struct layer_ctx *c, struct lt_inode *ino,
		       struct archive_entry *e)
{
	const char *name;
	const void *value;
	size_t size;
	bool dropped = false;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		uint8_t index;
		const char *suffix;

		if (!name || xattr_prefix(name, &index, &suffix) < 0 ||
		    (index == EROFS_XATTR_INDEX_TRUSTED &&
		     strncmp(suffix, "overlay.", 8) == 0) ||
		    strlen(suffix) > 255 || size > UINT16_MAX ||
		    ew_xattr_isize(ino) + 16 + strlen(suffix) + size > XATTR_AREA_MAX) {
			dropped = true;
			continue;
		}
		if (lt_inode_add_xattr(ino, index, suffix, value, size) < 0) {
			snprintf(c->err, c->errlen, "out of memory for xattrs");
			return -1;
		}
	}
	if (layer_acl_to_xattrs(ino, e, &dropped) < 0) {
		snprintf(c->err, c->errlen, "out of memory for ACLs");
		return -1;
	}
	c->st->neutralised += dropped;  /* once per entry */
	return 0;
}

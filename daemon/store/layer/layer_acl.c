/* layer_acl.c - POSIX ACL records of a tar entry as erofs xattrs.
 *
 * GNU tar --acls and bsdtar store ACLs as SCHILY.acl.* records, which
 * libarchive hands over as ACL entries rather than xattrs. They become the
 * system.posix_acl_access / system.posix_acl_default xattrs in the kernel's
 * format (version 2, then tag/perm/id entries sorted by tag and id), which
 * erofs serves as the file's ACL. Layers built by docker carry ACLs as
 * SCHILY.xattr.system.posix_acl_* instead; those arrive as plain xattrs
 * and win over the records here.
 */
#include "layer_acl.h"
#include "erofs_format.h"

#include <stdlib.h>
#include <string.h>

#define ACL_VERSION     2
#define ACL_UNDEFINED   0xffffffffu
#define ACL_MAX         256

enum { T_USER_OBJ = 0x01, T_USER = 0x02, T_GROUP_OBJ = 0x04, T_GROUP = 0x08,
       T_MASK = 0x10, T_OTHER = 0x20 };

struct acl_ent { uint16_t tag, perm; uint32_t id; };

static int acl_tag(int tag)
{
	switch (tag) {
	case ARCHIVE_ENTRY_ACL_USER_OBJ: return T_USER_OBJ;
	case ARCHIVE_ENTRY_ACL_USER: return T_USER;
	case ARCHIVE_ENTRY_ACL_GROUP_OBJ: return T_GROUP_OBJ;
	case ARCHIVE_ENTRY_ACL_GROUP: return T_GROUP;
	case ARCHIVE_ENTRY_ACL_MASK: return T_MASK;
	case ARCHIVE_ENTRY_ACL_OTHER: return T_OTHER;
	}
	return 0;
}

static int acl_cmp(const void *a, const void *b)
{
	const struct acl_ent *x = a, *y = b;

	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static bool has_xattr(const struct lt_inode *ino, uint8_t index)
{
	for (size_t i = 0; i < ino->nxattrs; i++)
		if (ino->xattrs[i].index == index && !ino->xattrs[i].name[0])
			return true;
	return false;
}

/* Collect one ACL type; 0 entries when there is none, -1 if malformed. */
static int acl_collect(struct archive_entry *e, int type, struct acl_ent *out)
{
	int n = 0, t, permset, tag, qual;
	const char *name;

	if (archive_entry_acl_reset(e, type) <= 0)
		return 0;
	while (archive_entry_acl_next(e, type, &t, &permset, &tag, &qual,
				      &name) == ARCHIVE_OK) {
		int etag = acl_tag(tag);

		if (!etag || n == ACL_MAX || qual < -1)
			return -1;
		out[n].tag = (uint16_t)etag;
		out[n].perm = (uint16_t)(permset & 07);
		out[n].id = (etag == T_USER || etag == T_GROUP) ? (uint32_t)qual
							       : ACL_UNDEFINED;
		n++;
	}
	qsort(out, (size_t)n, sizeof(*out), acl_cmp);
	return n;
}

static int acl_store(struct lt_inode *ino, uint8_t index,
		     const struct acl_ent *ent, int n)
{
	uint8_t buf[4 + ACL_MAX * 8];

	put_le32(buf, ACL_VERSION);
	for (int i = 0; i < n; i++) {
		put_le16(buf + 4 + 8 * i, ent[i].tag);
		put_le16(buf + 6 + 8 * i, ent[i].perm);
		put_le32(buf + 8 + 8 * i, ent[i].id);
	}
	return lt_inode_add_xattr(ino, index, "", buf, 4 + 8 * (size_t)n);
}

int layer_acl_to_xattrs(struct lt_inode *ino, struct archive_entry *e,
			bool *dropped)
{
	static const struct { int type; uint8_t index; } kinds[] = {
		{ ARCHIVE_ENTRY_ACL_TYPE_ACCESS, EROFS_XATTR_INDEX_ACL_ACCESS },
		{ ARCHIVE_ENTRY_ACL_TYPE_DEFAULT, EROFS_XATTR_INDEX_ACL_DEFAULT },
	};
	struct acl_ent ent[ACL_MAX];

	for (size_t k = 0; k < 2; k++) {
		int n;

		if (has_xattr(ino, kinds[k].index))
			continue;
		n = acl_collect(e, kinds[k].type, ent);
		if (n < 0) {
			*dropped = true;
			continue;
		}
		if (n && acl_store(ino, kinds[k].index, ent, n) < 0)
			return -1;
	}
	return 0;
}

/* layer_acl.h - tar ACL records -> system.posix_acl_* xattrs (internal).
 *
 * Used by layer_entry.c after an entry's own xattrs are set.
 */
#ifndef SM_LAYER_ACL_H
#define SM_LAYER_ACL_H

#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>

#include "layer_tree.h"

/* Add the entry's access and default ACLs to ino unless it already has
 * them as xattrs. Malformed ACLs are skipped and set *dropped.
 * 0, or -1 when out of memory. */
int layer_acl_to_xattrs(struct lt_inode *ino, struct archive_entry *e,
			bool *dropped);

#endif

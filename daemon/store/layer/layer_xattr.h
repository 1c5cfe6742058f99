/* layer_xattr.h - an entry's xattrs and ACLs onto an inode (internal). */
#ifndef SM_LAYER_XATTR_H
#define SM_LAYER_XATTR_H

#include "layer_entry.h"

/* 0, or -1 when out of memory (err set). */
int layer_entry_xattrs(struct layer_ctx *c, struct lt_inode *ino,
		       struct archive_entry *e);

#endif

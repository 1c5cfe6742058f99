/* layer_tree.c - in-memory tree of one layer: paths, dentries, inodes.
 *
 * See layer_tree.h. Lookups never follow symlinks; path cleaning is purely
 * lexical and clamps ".." at the root, so no entry can name anything
 * outside the layer's own tree.
 */
#include "layer_tree.h"

#include <stdlib.h>
#include <string.h>

#define LT_MIN_BUCKETS 1024

static uint64_t lt_hash(const struct lt_dentry *parent, const char *name)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)parent;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static struct lt_dentry **lt_bucket(struct lt_tree *t,
				    const struct lt_dentry *parent,
				    const char *name)
{
	return &t->buckets[lt_hash(parent, name) & (t->nbuckets - 1)];
}

static int lt_rehash(struct lt_tree *t)
{
	size_t n = t->nbuckets * 2;
	struct lt_dentry **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return -1;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct lt_dentry *d = t->buckets[i], *next;

		for (; d; d = next) {
			uint64_t h = lt_hash(d->parent, d->name) & (n - 1);

			next = d->hash_next;
			d->hash_next = nb[h];
			nb[h] = d;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
	return 0;
}

struct lt_inode *lt_inode_new(uint32_t mode)
{
	struct lt_inode *ino = calloc(1, sizeof(*ino));

	if (ino)
		ino->mode = mode;
	return ino;
}

static void lt_inode_free(struct lt_inode *ino)
{
	for (size_t i = 0; i < ino->nxattrs; i++) {
		free(ino->xattrs[i].name);
		free(ino->xattrs[i].value);
	}
	free(ino->xattrs);
	free(ino->symlink);
	free(ino);
}

static void lt_dentry_free_subtree(struct lt_tree *t, struct lt_dentry *d);

void lt_inode_put(struct lt_tree *t, struct lt_inode *ino)
{
	if (!ino)
		return;
	if (ino->refs > 1) {
		ino->refs--;
		return;
	}
	if (lt_is_dir(ino) && ino->dir) {
		struct lt_dentry *d = ino->dir;

		for (size_t i = 0; i < d->nchildren; i++)
			lt_dentry_free_subtree(t, d->children[i]);
		free(d->children);
		d->children = NULL;
		d->nchildren = d->cap = 0;
	}
	lt_inode_free(ino);
}

static void lt_hash_remove(struct lt_tree *t, struct lt_dentry *d)
{
	struct lt_dentry **pp = lt_bucket(t, d->parent, d->name);

	for (; *pp; pp = &(*pp)->hash_next) {
		if (*pp == d) {
			*pp = d->hash_next;
			t->ndentries--;
			return;
		}
	}
}

/* Unhash and free d and everything below it. */
static void lt_dentry_free_subtree(struct lt_tree *t, struct lt_dentry *d)
{
	lt_hash_remove(t, d);
	lt_inode_put(t, d->inode);
	free(d->children);
	free(d->name);
	free(d);
}

int lt_tree_init(struct lt_tree *t, int64_t mtime)
{
	memset(t, 0, sizeof(*t));
	t->default_mtime = mtime;
	t->nbuckets = LT_MIN_BUCKETS;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->root = calloc(1, sizeof(*t->root));
	if (t->root)
		t->root->name = strdup("");
	if (t->root && t->root->name)
		t->root->inode = lt_inode_new(0040755);
	if (!t->buckets || !t->root || !t->root->name || !t->root->inode) {
		lt_tree_free(t);
		return -1;
	}
	t->root->inode->refs = 1;
	t->root->inode->dir = t->root;
	t->root->inode->mtime = mtime;
	return 0;
}

void lt_tree_free(struct lt_tree *t)
{
	if (t->root) {
		lt_inode_put(t, t->root->inode);
		free(t->root->children);
		free(t->root->name);
		free(t->root);
	}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

void lt_path_free(struct lt_path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->comp[i]);
	free(p->comp);
	memset(p, 0, sizeof(*p));
}

static enum lt_err lt_path_push(struct lt_path *p, const char *s, size_t len)
{
	char **nc = realloc(p->comp, (p->n + 1) * sizeof(*nc));

	if (!nc)
		return LT_ENOMEM;
	p->comp = nc;
	p->comp[p->n] = strndup(s, len);
	if (!p->comp[p->n])
		return LT_ENOMEM;
	p->n++;
	return LT_OK;
}

enum lt_err lt_path_parse(const char *raw, struct lt_path *p)
{
	const char *s = raw;

	memset(p, 0, sizeof(*p));
	if (strlen(raw) >= LT_PATH_MAX)
		return LT_EBADNAME;     /* also bounds the tree's depth */
	if (*s == '/')
		p->rewritten = true;
	if (strstr(raw, "//"))
		p->rewritten = true;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		enum lt_err err = LT_OK;

		if (len == 2 && s[0] == '.' && s[1] == '.') {
			p->rewritten = true;
			if (p->n)
				free(p->comp[--p->n]);
		} else if (len > 255) {
			err = LT_EBADNAME;
		} else if (len == 1 && s[0] == '.') {
			p->rewritten |= s != raw;       /* only a leading ./ is usual */
		} else if (len) {
			err = lt_path_push(p, s, len);
		}
		if (err) {
			lt_path_free(p);
			return err;
		}
		s += len;
		if (*s == '/')
			s++;
	}
	return LT_OK;
}

struct lt_dentry *lt_lookup(struct lt_tree *t, struct lt_dentry *dir,
			    const char *name)
{
	struct lt_dentry *d = *lt_bucket(t, dir, name);

	for (; d; d = d->hash_next)
		if (d->parent == dir && strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static struct lt_dentry *lt_dentry_new(struct lt_tree *t,
				       struct lt_dentry *dir, const char *name)
{
	struct lt_dentry *d;

	if (dir->nchildren == dir->cap) {
		size_t cap = dir->cap ? dir->cap * 2 : 8;
		struct lt_dentry **nc = realloc(dir->children, cap * sizeof(*nc));

		if (!nc)
			return NULL;
		dir->children = nc;
		dir->cap = cap;
	}
	if (t->ndentries >= t->nbuckets && lt_rehash(t) < 0)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d || !(d->name = strdup(name))) {
		free(d);
		return NULL;
	}
	d->name_len = (uint16_t)strlen(name);
	d->parent = dir;
	dir->children[dir->nchildren++] = d;
	struct lt_dentry **b = lt_bucket(t, dir, name);
	d->hash_next = *b;
	*b = d;
	t->ndentries++;
	return d;
}

static struct lt_dentry *lt_mkdir_implicit(struct lt_tree *t,
					   struct lt_dentry *dir,
					   const char *name)
{
	struct lt_inode *ino = lt_inode_new(0040755);

	if (!ino)
		return NULL;
	ino->mtime = t->default_mtime;
	if (lt_bind(t, dir, name, ino) != LT_OK) {
		lt_inode_free(ino);
		return NULL;
	}
	return ino->dir;
}

/* Put the directory blocked() offers in place of a non-directory. */
static enum lt_err lt_unblock(struct lt_tree *t, struct lt_dentry *dir,
			      struct lt_dentry **d, lt_blocked_fn blocked,
			      void *ctx)
{
	struct lt_inode *ino = blocked ? blocked(ctx, (*d)->inode) : NULL;
	const char *name = (*d)->name;

	if (!ino)
		return LT_ENOTDIR;
	if (!lt_is_dir(ino) || lt_bind(t, dir, name, ino) != LT_OK) {
		lt_inode_put(t, ino);
		return LT_ENOMEM;
	}
	*d = ino->dir;
	return LT_OK;
}

enum lt_err lt_walk(struct lt_tree *t, const struct lt_path *p, size_t n,
		    bool create, lt_blocked_fn blocked, void *ctx,
		    struct lt_dentry **out)
{
	struct lt_dentry *dir = t->root;

	for (size_t i = 0; i < n; i++) {
		struct lt_dentry *d = lt_lookup(t, dir, p->comp[i]);
		enum lt_err r;

		if (!d && !create)
			return LT_ENOENT;
		if (!d) {
			d = lt_mkdir_implicit(t, dir, p->comp[i]);
			if (!d)
				return LT_ENOMEM;
		}
		if (!lt_is_dir(d->inode)) {
			r = create ? lt_unblock(t, dir, &d, blocked, ctx) : LT_ENOTDIR;
			if (r != LT_OK)
				return r;
		}
		dir = d;
	}
	*out = dir;
	return LT_OK;
}

enum lt_err lt_bind(struct lt_tree *t, struct lt_dentry *dir, const char *name,
		    struct lt_inode *ino)
{
	struct lt_dentry *d = lt_lookup(t, dir, name);

	if (d && d->inode == ino)
		return LT_OK;
	if (lt_is_dir(ino) && ino->dir)
		return LT_ENOTDIR;      /* a directory has exactly one name */
	if (!d) {
		d = lt_dentry_new(t, dir, name);
		if (!d)
			return LT_ENOMEM;
	} else {
		lt_inode_put(t, d->inode);
	}
	d->inode = ino;
	ino->refs++;
	if (lt_is_dir(ino))
		ino->dir = d;
	return LT_OK;
}

int lt_inode_add_xattr(struct lt_inode *ino, uint8_t index, const char *suffix,
		       const void *value, size_t value_len)
{
	size_t nl = strlen(suffix);
	struct lt_xattr *nx, *x;

	if (nl > 255 || value_len > UINT16_MAX)
		return -1;
	lt_inode_del_xattr(ino, index, suffix);
	nx = realloc(ino->xattrs, (ino->nxattrs + 1) * sizeof(*nx));
	if (!nx)
		return -1;
	ino->xattrs = nx;
	x = &nx[ino->nxattrs];
	x->index = index;
	x->name_len = (uint8_t)nl;
	x->value_len = (uint16_t)value_len;
	x->name = strdup(suffix);
	x->value = malloc(value_len ? value_len : 1);
	if (!x->name || !x->value) {
		free(x->name);
		free(x->value);
		return -1;
	}
	if (value_len)
		memcpy(x->value, value, value_len);
	ino->nxattrs++;
	return 0;
}

void lt_inode_del_xattr(struct lt_inode *ino, uint8_t index, const char *suffix)
{
	for (size_t i = 0; i < ino->nxattrs; i++) {
		struct lt_xattr *x = &ino->xattrs[i];

		if (x->index != index || strcmp(x->name, suffix) != 0)
			continue;
		free(x->name);
		free(x->value);
		memmove(x, x + 1, (ino->nxattrs - i - 1) * sizeof(*x));
		ino->nxattrs--;
		return;
	}
}

/* fuse_nodes.c - the node table: FUSE node IDs to pinned host O_PATH fds,
 * deduplicated by inode, bounded, freed on FORGET (see fuse_nodes.h).
 */
#include "daemon/fs/fuse/fuse_nodes.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct fs_node {
	int fd;
	bool used;
	mode_t type;
	dev_t dev;
	ino_t ino;
	uint32_t gen;
	uint32_t pins;     /* requests using the node now */
	uint64_t nlookup;  /* the guest's lookup count */
	uint32_t next;     /* hash chain or free list: slot + 1, 0 ends */
};

#define FIRST_SLOTS 64u

static uint32_t hash_of(const struct fs_nodes *t, dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)dev * 0x9e3779b97f4a7c15ull ^ (uint64_t)ino * 0xc2b2ae3d27d4eb4full;
	h ^= h >> 29;
	return (uint32_t)h & (t->nbuckets - 1);
}

static uint64_t nodeid_of(const struct fs_nodes *t, uint32_t idx)
{
	return ((uint64_t)t->slot[idx].gen << 32) | (idx + 1);
}

static void hash_insert(struct fs_nodes *t, uint32_t idx)
{
	uint32_t h = hash_of(t, t->slot[idx].dev, t->slot[idx].ino);
	t->slot[idx].next = t->bucket[h];
	t->bucket[h] = idx + 1;
}

static void hash_remove(struct fs_nodes *t, uint32_t idx)
{
	uint32_t *p = &t->bucket[hash_of(t, t->slot[idx].dev, t->slot[idx].ino)];
	while (*p && *p != idx + 1)
		p = &t->slot[*p - 1].next;
	if (*p)
		*p = t->slot[idx].next;
}

static int64_t hash_find(const struct fs_nodes *t, dev_t dev, ino_t ino)
{
	for (uint32_t k = t->bucket[hash_of(t, dev, ino)]; k; k = t->slot[k - 1].next)
		if (t->slot[k - 1].dev == dev && t->slot[k - 1].ino == ino)
			return k - 1;
	return -1;
}

/* Grow the slot array (and rehash into as many buckets). Lock held. */
static int grow(struct fs_nodes *t)
{
	if (t->nslots >= t->max)
		return -ENFILE;
	uint32_t n = t->nslots ? t->nslots * 2 : FIRST_SLOTS;
	if (n > t->max || n < t->nslots)
		n = t->max;
	uint32_t nb = 1;
	while (nb < n && nb < (1u << 30))
		nb <<= 1;
	struct fs_node *s = realloc(t->slot, (size_t)n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	t->slot = s;
	uint32_t *b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	free(t->bucket);
	t->bucket = b;
	t->nbuckets = nb;
	for (uint32_t i = t->nslots; i < n; i++)
		s[i] = (struct fs_node){ .fd = -1, .gen = 1, .next = i + 2 < n + 1 ? i + 2 : 0 };
	s[n - 1].next = t->free_head;
	t->free_head = t->nslots + 1;
	t->nslots = n;
	for (uint32_t i = 0; i < n; i++)
		if (s[i].used)
			hash_insert(t, i);
	return 0;
}

/* A free slot index, growing the table if needed. Lock held. */
static int64_t alloc_slot(struct fs_nodes *t)
{
	if (!t->free_head) {
		int r = grow(t);
		if (r < 0)
			return r;
	}
	uint32_t idx = t->free_head - 1;
	t->free_head = t->slot[idx].next;
	return idx;
}

/* Free a node nobody looks up or uses; returns its fd to close. */
static int release_slot(struct fs_nodes *t, uint32_t idx)
{
	struct fs_node *n = &t->slot[idx];
	int fd = n->fd;
	hash_remove(t, idx);
	n->used = false;
	n->fd = -1;
	n->gen = n->gen + 1 ? n->gen + 1 : 1;
	n->next = t->free_head;
	t->free_head = idx + 1;
	t->live--;
	return fd;
}

/* The fd to close if node idx is now unused, else -1. Lock held. */
static int maybe_release(struct fs_nodes *t, uint32_t idx)
{
	struct fs_node *n = &t->slot[idx];
	if (idx == 0 || !n->used || n->nlookup || n->pins)
		return -1;
	return release_slot(t, idx);
}

int fs_nodes_init(struct fs_nodes *t, uint32_t max, int root_fd, const struct stat *st)
{
	*t = (struct fs_nodes){ .max = max < 2 ? 2 : max };
	int r = pthread_mutex_init(&t->mu, NULL);
	if (r)
		return -r;
	r = grow(t);
	if (r < 0) {
		fs_nodes_fini(t);
		return r;
	}
	uint32_t idx = (uint32_t)alloc_slot(t); /* slot 0: the free list starts there */
	t->slot[idx] = (struct fs_node){ .fd = root_fd, .used = true, .type = st->st_mode & S_IFMT,
					 .dev = st->st_dev, .ino = st->st_ino, .gen = 0, .nlookup = 1 };
	hash_insert(t, idx);
	t->live = 1;
	return 0;
}

void fs_nodes_fini(struct fs_nodes *t)
{
	for (uint32_t i = 0; i < t->nslots; i++)
		if (t->slot[i].used && t->slot[i].fd >= 0)
			close(t->slot[i].fd);
	free(t->slot);
	free(t->bucket);
	pthread_mutex_destroy(&t->mu);
	t->slot = NULL;
	t->bucket = NULL;
	t->nslots = t->live = 0;
}

/* The slot nodeid names, or -1. Lock held. */
static int64_t lookup_id(const struct fs_nodes *t, uint64_t nodeid)
{
	uint64_t low = nodeid & 0xffffffffu;
	if (low == 0 || low > t->nslots)
		return -1;
	uint32_t idx = (uint32_t)(low - 1);
	const struct fs_node *n = &t->slot[idx];
	if (!n->used || n->gen != (uint32_t)(nodeid >> 32) || (idx != 0 && n->nlookup == 0))
		return -1;
	return idx;
}

int fs_nodes_pin(struct fs_nodes *t, uint64_t nodeid, struct fs_node_ref *ref)
{
	pthread_mutex_lock(&t->mu);
	int64_t idx = lookup_id(t, nodeid);
	if (idx < 0) {
		pthread_mutex_unlock(&t->mu);
		return -ENOENT;
	}
	struct fs_node *n = &t->slot[idx];
	n->pins++;
	*ref = (struct fs_node_ref){ .idx = (uint32_t)idx, .fd = n->fd, .type = n->type,
				     .root = idx == 0 };
	pthread_mutex_unlock(&t->mu);
	return 0;
}

void fs_nodes_unpin(struct fs_nodes *t, const struct fs_node_ref *ref)
{
	pthread_mutex_lock(&t->mu);
	t->slot[ref->idx].pins--;
	int fd = maybe_release(t, ref->idx);
	pthread_mutex_unlock(&t->mu);
	if (fd >= 0)
		close(fd);
}

int fs_nodes_add(struct fs_nodes *t, int fd, const struct stat *st,
		 uint64_t *nodeid, uint64_t *generation)
{
	pthread_mutex_lock(&t->mu);
	int64_t idx = hash_find(t, st->st_dev, st->st_ino);
	int r = 0;
	if (idx >= 0) {
		t->slot[idx].nlookup++;
		if (idx == 0)
			t->slot[idx].nlookup = 1; /* the root is never forgotten */
	} else {
		idx = alloc_slot(t);
		if (idx < 0) {
			r = (int)idx;
		} else {
			t->slot[idx] = (struct fs_node){ .fd = fd, .used = true,
				.type = st->st_mode & S_IFMT, .dev = st->st_dev, .ino = st->st_ino,
				.gen = t->slot[idx].gen, .nlookup = 1 };
			hash_insert(t, (uint32_t)idx);
			t->live++;
			fd = -1; /* kept */
		}
	}
	if (r == 0) {
		*nodeid = nodeid_of(t, (uint32_t)idx);
		*generation = t->slot[idx].gen;
	}
	pthread_mutex_unlock(&t->mu);
	if (fd >= 0)
		close(fd);
	return r;
}

void fs_nodes_forget(struct fs_nodes *t, uint64_t nodeid, uint64_t n)
{
	pthread_mutex_lock(&t->mu);
	int64_t idx = lookup_id(t, nodeid);
	int fd = -1;
	if (idx > 0) {
		struct fs_node *node = &t->slot[idx];
		node->nlookup -= n < node->nlookup ? n : node->nlookup;
		fd = maybe_release(t, (uint32_t)idx);
	}
	pthread_mutex_unlock(&t->mu);
	if (fd >= 0)
		close(fd);
}

void fs_nodes_forget_all(struct fs_nodes *t)
{
	pthread_mutex_lock(&t->mu);
	for (uint32_t i = 1; i < t->nslots; i++) {
		if (!t->slot[i].used)
			continue;
		t->slot[i].nlookup = 0;
		int fd = maybe_release(t, i);
		if (fd >= 0)
			close(fd);
	}
	pthread_mutex_unlock(&t->mu);
}

void fs_nodes_count(struct fs_nodes *t, uint32_t *live, uint32_t *slots)
{
	pthread_mutex_lock(&t->mu);
	*live = t->live;
	*slots = t->nslots;
	pthread_mutex_unlock(&t->mu);
}

/* fuse_nodes.h - the node table (fuse_nodes.c): what a FUSE node ID means.
 *
 * A node is one host inode the guest has looked up: an O_PATH|O_NOFOLLOW
 * fd of it, its (st_dev, st_ino) for deduplication (one node per inode
 * however many names or lookups lead to it), its file type, and the
 * guest's lookup count. Node ID = (slot generation << 32) | (slot + 1), so
 * the root (slot 0, generation 0) is FUSE_ROOT_ID and a forgotten ID never
 * names the slot's next occupant. FORGET drops lookups; a node whose count
 * reaches zero is freed (its fd closed) as soon as no request is using it:
 * requests pin the nodes they use, so an fd is never closed under them.
 * The table grows on demand up to a fixed cap. Thread-safe (own mutex).
 */
#ifndef SM_FS_FUSE_NODES_H
#define SM_FS_FUSE_NODES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

struct fs_node;

struct fs_nodes {
	pthread_mutex_t mu;
	struct fs_node *slot;  /* [nslots] */
	uint32_t *bucket;      /* hash of (dev, ino) -> slot + 1, chained */
	uint32_t nslots, nbuckets, max, live, free_head;
};

/* A pinned node: valid until fs_nodes_unpin. */
struct fs_node_ref {
	uint32_t idx;
	int fd;        /* O_PATH|O_NOFOLLOW */
	mode_t type;   /* st_mode & S_IFMT */
	bool root;
};

#define FS_ROOT_NODEID 1u

/* Set up the table with the root (fd is taken over). 0 or -errno. */
int fs_nodes_init(struct fs_nodes *t, uint32_t max, int root_fd, const struct stat *st);
void fs_nodes_fini(struct fs_nodes *t);

/* Pin the node `nodeid` names; -ENOENT for 0, unknown or forgotten IDs. */
int fs_nodes_pin(struct fs_nodes *t, uint64_t nodeid, struct fs_node_ref *ref);
void fs_nodes_unpin(struct fs_nodes *t, const struct fs_node_ref *ref);

/* One more guest lookup of the inode open at fd (O_PATH, stat in st): the
 * existing node of that inode, or a new one. fd is taken over either way
 * (kept or closed). -ENFILE when the table is full. */
int fs_nodes_add(struct fs_nodes *t, int fd, const struct stat *st,
		 uint64_t *nodeid, uint64_t *generation);

/* Drop n lookups of nodeid (unknown IDs and the root are ignored). */
void fs_nodes_forget(struct fs_nodes *t, uint64_t nodeid, uint64_t n);
/* Drop every lookup but the root's (DESTROY). */
void fs_nodes_forget_all(struct fs_nodes *t);

void fs_nodes_count(struct fs_nodes *t, uint32_t *live, uint32_t *slots);

#endif

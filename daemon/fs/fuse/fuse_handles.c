/* fuse_handles.c - the handle table: FUSE fh to host fds, bounded, with
 * pins so RELEASE never closes an fd a concurrent request is using (see
 * fuse_handles.h).
 */
#include "daemon/fs/fuse/fuse_handles.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct fs_handle {
	int fd;
	bool used;     /* listed: the guest may use it */
	bool busy;     /* slot taken (listed, or released but still pinned) */
	uint32_t gen;
	uint32_t pins;
	uint32_t next; /* free list: slot + 1, 0 ends */
	struct fs_dir *dir;
};

#define FIRST_SLOTS 32u

static int grow(struct fs_handles *t)
{
	if (t->nslots >= t->max)
		return -ENFILE;
	uint32_t n = t->nslots ? t->nslots * 2 : FIRST_SLOTS;
	if (n > t->max || n < t->nslots)
		n = t->max;
	struct fs_handle *s = realloc(t->slot, (size_t)n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	t->slot = s;
	for (uint32_t i = t->nslots; i < n; i++)
		s[i] = (struct fs_handle){ .fd = -1, .gen = 1, .next = i + 1 < n ? i + 2 : 0 };
	t->free_head = t->nslots + 1;
	t->nslots = n;
	return 0;
}

int fs_handles_init(struct fs_handles *t, uint32_t max)
{
	*t = (struct fs_handles){ .max = max ? max : 1 };
	int r = pthread_mutex_init(&t->mu, NULL);
	return r ? -r : 0;
}

static void dir_free(struct fs_dir *d)
{
	if (d) {
		pthread_mutex_destroy(&d->mu);
		free(d);
	}
}

void fs_handles_fini(struct fs_handles *t)
{
	for (uint32_t i = 0; i < t->nslots; i++) {
		if (t->slot[i].busy) {
			close(t->slot[i].fd);
			dir_free(t->slot[i].dir);
		}
	}
	free(t->slot);
	t->slot = NULL;
	t->nslots = t->live = 0;
	pthread_mutex_destroy(&t->mu);
}

static struct fs_dir *dir_new(bool root)
{
	struct fs_dir *d = calloc(1, sizeof(*d));
	if (d && pthread_mutex_init(&d->mu, NULL) != 0) {
		free(d);
		return NULL;
	}
	if (d)
		d->root = root;
	return d;
}

int fs_handles_add(struct fs_handles *t, int fd, bool dir, bool root, uint64_t *fh)
{
	struct fs_dir *d = NULL;
	if (dir && !(d = dir_new(root))) {
		close(fd);
		return -ENOMEM;
	}
	pthread_mutex_lock(&t->mu);
	int r = t->free_head ? 0 : grow(t);
	if (r == 0) {
		uint32_t idx = t->free_head - 1;
		struct fs_handle *h = &t->slot[idx];
		t->free_head = h->next;
		*h = (struct fs_handle){ .fd = fd, .used = true, .busy = true, .gen = h->gen, .dir = d };
		t->live++;
		*fh = ((uint64_t)h->gen << 32) | idx;
	}
	pthread_mutex_unlock(&t->mu);
	if (r < 0) {
		close(fd);
		dir_free(d);
	}
	return r;
}

/* The listed slot fh names with the kind asked for, or NULL. Lock held. */
static struct fs_handle *find(struct fs_handles *t, uint64_t fh, bool dir)
{
	uint64_t idx = fh & 0xffffffffu;
	if (idx >= t->nslots)
		return NULL;
	struct fs_handle *h = &t->slot[idx];
	if (!h->used || h->gen != (uint32_t)(fh >> 32) || (h->dir != NULL) != dir)
		return NULL;
	return h;
}

int fs_handles_pin(struct fs_handles *t, uint64_t fh, bool dir, struct fs_handle_ref *ref)
{
	pthread_mutex_lock(&t->mu);
	struct fs_handle *h = find(t, fh, dir);
	if (h) {
		h->pins++;
		*ref = (struct fs_handle_ref){ .idx = (uint32_t)(h - t->slot), .fd = h->fd, .dir = h->dir };
	}
	pthread_mutex_unlock(&t->mu);
	return h ? 0 : -EBADF;
}

/* Free slot idx if unlisted and unpinned. Lock held; *fd, *d to close. */
static void maybe_free(struct fs_handles *t, uint32_t idx, int *fd, struct fs_dir **d)
{
	struct fs_handle *h = &t->slot[idx];
	*fd = -1;
	*d = NULL;
	if (h->used || h->pins || !h->busy)
		return;
	*fd = h->fd;
	*d = h->dir;
	h->busy = false;
	h->fd = -1;
	h->dir = NULL;
	h->gen = h->gen + 1 ? h->gen + 1 : 1;
	h->next = t->free_head;
	t->free_head = idx + 1;
}

void fs_handles_unpin(struct fs_handles *t, const struct fs_handle_ref *ref)
{
	int fd;
	struct fs_dir *d;
	pthread_mutex_lock(&t->mu);
	t->slot[ref->idx].pins--;
	maybe_free(t, ref->idx, &fd, &d);
	pthread_mutex_unlock(&t->mu);
	if (fd >= 0)
		close(fd);
	dir_free(d);
}

/* Unlist slot idx. Lock held. */
static void unlist(struct fs_handles *t, uint32_t idx, int *fd, struct fs_dir **d)
{
	t->slot[idx].used = false;
	t->live--;
	maybe_free(t, idx, fd, d);
}

int fs_handles_release(struct fs_handles *t, uint64_t fh, bool dir)
{
	int fd = -1;
	struct fs_dir *d = NULL;
	pthread_mutex_lock(&t->mu);
	struct fs_handle *h = find(t, fh, dir);
	if (h)
		unlist(t, (uint32_t)(h - t->slot), &fd, &d);
	pthread_mutex_unlock(&t->mu);
	if (fd >= 0)
		close(fd);
	dir_free(d);
	return h ? 0 : -EBADF;
}

void fs_handles_release_all(struct fs_handles *t)
{
	pthread_mutex_lock(&t->mu);
	for (uint32_t i = 0; i < t->nslots; i++) {
		if (!t->slot[i].used)
			continue;
		int fd;
		struct fs_dir *d;
		unlist(t, i, &fd, &d);
		if (fd >= 0)
			close(fd);
		dir_free(d);
	}
	pthread_mutex_unlock(&t->mu);
}

void fs_handles_count(struct fs_handles *t, uint32_t *live, uint32_t *slots)
{
	pthread_mutex_lock(&t->mu);
	*live = t->live;
	*slots = t->nslots;
	pthread_mutex_unlock(&t->mu);
}

/* fs.c - virtio-fs: hand each request chain to the FUSE server (fs.h).
 *
 * The chain's readable and writable parts become two iovec arrays over
 * guest memory; the server copies what it reads out of them before use and
 * returns how many reply bytes it wrote, which go back on the used ring.
 * Without a server (an unbound slot) the device writes the FUSE error reply
 * itself: a 16-byte fuse_out_header with -ENODEV, except for the requests
 * that have no reply (FORGET, BATCH_FORGET, INTERRUPT).
 */
#include "daemon/vm/virtio/fs.h"

#include <errno.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <string.h>

#include "daemon/fs/fuse/fuse_server.h"

struct fs_config { /* virtio_fs_config, without the notification field */
	uint8_t tag[FS_TAG_MAX];
	uint32_t num_request_queues;
} __attribute__((packed));

static void fs_config_read(void *opaque, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_fs *f = opaque;
	struct fs_config c;
	memset(&c, 0, sizeof c);
	memcpy(c.tag, f->tag, sizeof c.tag);
	c.num_request_queues = FS_NUM_QUEUES - 1; /* little-endian host */
	memcpy(data, (const uint8_t *)&c + off, len); /* mmio.c bounds off+len */
}

static bool has_no_reply(uint32_t opcode)
{
	return opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET || opcode == FUSE_INTERRUPT;
}

/* The reply of an unbound slot; bytes written. */
static uint32_t answer_unbound(const struct vq_chain *c)
{
	struct fuse_in_header in;
	if (vq_chain_read(c, 0, &in, sizeof in) < sizeof in || has_no_reply(in.opcode))
		return 0;
	struct fuse_out_header out = { .len = sizeof out, .error = -ENODEV, .unique = in.unique };
	return vq_chain_write(c, 0, &out, sizeof out) == sizeof out ? sizeof out : 0;
}

static uint32_t serve(struct virtio_fs *f)
{
	const struct vq_chain *c = &f->chain;
	f->session = true;
	if (!f->srv) {
		f->unbound++;
		return answer_unbound(c);
	}
	int nin = vq_chain_iov(c, false, 0, c->read_len, f->in_iov, VQ_MAX_SIZE);
	int nout = vq_chain_iov(c, true, 0, c->write_len, f->out_iov, VQ_MAX_SIZE);
	f->requests++;
	return (uint32_t)fs_server_handle(f->srv, f->in_iov, nin, f->out_iov, nout);
}

static void fs_notify(void *opaque, uint16_t q)
{
	struct virtio_fs *f = opaque;
	struct virtio_mmio *t = &f->t;

	for (int budget = t->vq[q].size; budget > 0; budget--) {
		if (virtio_mmio_pop(t, q, &f->chain) <= 0)
			return;
		virtio_mmio_push(t, q, f->chain.head, serve(f));
	}
	virtio_mmio_rekick(t, q);
}

static void fs_reset(void *opaque)
{
	struct virtio_fs *f = opaque;
	f->session = false;
}

static void fs_dump(void *opaque)
{
	struct virtio_fs *f = opaque;
	fprintf(stderr, "  fs tag %.*s: %s, %llu requests served, %llu unbound\n",
		FS_TAG_MAX, f->tag, f->srv ? "bound" : "no folder",
		(unsigned long long)f->requests, (unsigned long long)f->unbound);
}

const struct virtio_dev_ops virtio_fs_ops = {
	.name = "fs",
	.device_id = VIRTIO_ID_FS,
	.num_queues = FS_NUM_QUEUES,
	.queue_max = FS_QUEUE_SIZE,
	.config_size = sizeof(struct fs_config),
	.config_read = fs_config_read,
	.reset = fs_reset,
	.notify = fs_notify,
	.dump = fs_dump,
};

int virtio_fs_init(struct virtio_fs *dev, const struct guest_mem *mem, const char *tag)
{
	size_t n = strlen(tag);
	if (n == 0 || n > FS_TAG_MAX)
		return -1;
	memset(dev, 0, sizeof(*dev));
	memcpy(dev->tag, tag, n);
	virtio_mmio_init(&dev->t, &virtio_fs_ops, dev, mem, 0);
	return 0;
}

void virtio_fs_bind(struct virtio_fs *dev, struct fs_server *srv)
{
	pthread_mutex_lock(&dev->t.lock);
	struct fs_server *old = dev->srv;
	dev->srv = srv;
	pthread_mutex_unlock(&dev->t.lock);
	if (old)
		fs_server_free(old);
}

void virtio_fs_fini(struct virtio_fs *dev)
{
	if (dev->srv)
		fs_server_free(dev->srv);
	dev->srv = NULL;
}

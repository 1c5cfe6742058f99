/* net.c - the virtio-net device: config space, features, device ops and
 * the API the VMM calls (net.h). The queues' work is in net_tx.c and
 * net_rx.c, the backend socket in net_backend.c.
 *
 * A queue kick runs tx first (frames the guest sent, and the replies the
 * policy owes it), then rx (new rx buffers, or those replies), then sets
 * the socket's epoll interest from what is left to do. A device reset
 * forgets what was owed to the old driver (replies, a stalled tx) but
 * keeps the backend and its streams: they are the host's, not the guest's.
 */
#include "daemon/vm/virtio/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NET_FEATURES ((1ULL << VIRTIO_NET_F_MTU) | (1ULL << VIRTIO_NET_F_MAC) | \
		      (1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_NET_F_STATUS))

static void net_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_net *n = dev;
	struct virtio_net_config c = {
		.status = n->link_up ? VIRTIO_NET_S_LINK_UP : 0,
		.max_virtqueue_pairs = 1,
		.mtu = NET_MTU,
	};
	memcpy(c.mac, n->mac, sizeof(c.mac));
	memcpy(data, (const uint8_t *)&c + off, len); /* the transport checked the range */
}

static void net_notify(void *dev, uint16_t q)
{
	struct virtio_net *n = dev;
	if (q == NET_QUEUE_TX)
		net_tx_process(n);
	bool was_up = n->link_up;
	net_rx_pump(n); /* may read passt's EOF */
	if (was_up && !n->link_up)
		net_tx_process(n); /* chains a full socket held: dropped now */
	net_update_events(n);
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;
	net_rx_forget(n);
	net_update_events(n);
}

const struct virtio_dev_ops virtio_net_ops = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.num_queues = 2,
	.queue_max = NET_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_net_config),
	.config_read = net_config_read,
	.reset = net_reset,
	.notify = net_notify,
	.dump = virtio_net_dump,
};

static bool mac_usable(const uint8_t mac[6])
{
	static const uint8_t zero[6];
	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0; /* unicast, set */
}

int virtio_net_init(struct virtio_net *n, const struct guest_mem *mem, const uint8_t mac[6],
		    struct event_loop *loop, struct vm_err *err)
{
	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (!mac_usable(mac))
		return vm_errf(err, "virtio-net: MAC %02x:%02x:%02x:%02x:%02x:%02x is not a "
			       "unicast address", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	n->tx_buf = malloc(NET_BUF_SIZE);
	n->rx_buf = malloc(NET_BUF_SIZE);
	if (!n->tx_buf || !n->rx_buf) {
		free(n->tx_buf);
		free(n->rx_buf);
		n->tx_buf = n->rx_buf = NULL;
		return vm_errno(err, "virtio-net: stream buffers");
	}
	virtio_mmio_init(&n->t, &virtio_net_ops, n, mem, NET_FEATURES);
	memcpy(n->mac, mac, 6);
	n->loop = loop;
	n->reply_tokens_milli = NET_REPLY_BURST * 1000LL;
	snprintf(n->down_reason, sizeof(n->down_reason), "no backend attached yet");
	return 0;
}

void virtio_net_destroy(struct virtio_net *n)
{
	n->link_up = false; /* nobody to tell: close quietly */
	net_link_down(n, "device destroyed");
	free(n->tx_buf);
	free(n->rx_buf);
	free(n->policy);
	n->tx_buf = n->rx_buf = NULL;
	n->policy = NULL;
	virtio_mmio_destroy(&n->t);
}

void virtio_net_detach(struct virtio_net *n)
{
	pthread_mutex_lock(&n->t.lock);
	if (n->fd >= 0)
		net_link_down(n, "detached by the VMM");
	net_tx_process(n); /* tx chains held for a full socket: dropped now */
	pthread_mutex_unlock(&n->t.lock);
}

int virtio_net_set_policy(struct virtio_net *n, const struct egress_policy *p,
			  struct vm_err *err)
{
	struct egress_policy *copy = NULL;
	if (p) {
		copy = malloc(sizeof(*copy));
		if (!copy)
			return vm_errno(err, "virtio-net: egress policy");
		memcpy(copy, p, sizeof(*copy));
	}
	pthread_mutex_lock(&n->t.lock);
	free(n->policy);
	n->policy = copy;
	pthread_mutex_unlock(&n->t.lock);
	return 0;
}

bool virtio_net_link(struct virtio_net *n)
{
	pthread_mutex_lock(&n->t.lock);
	bool up = n->link_up;
	pthread_mutex_unlock(&n->t.lock);
	return up;
}

void virtio_net_stats(struct virtio_net *n, struct virtio_net_stats *s)
{
	pthread_mutex_lock(&n->t.lock);
	*s = n->stats;
	s->notifications = n->t.n_notify;
	s->interrupts = n->t.n_irq;
	pthread_mutex_unlock(&n->t.lock);
}

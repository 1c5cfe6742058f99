/* net_attach.h - NET_ATTACH (worker_proto.h): supermachined gives a
 * running VM's virtio-net card its backend and its egress policy.
 *
 * The daemon starts passt with one end of a socketpair (passt -F) and
 * sends the other end, with a file holding the VM's policy as text
 * (daemon/net/egress_text.h: a memfd or a regular file, read from offset
 * 0 with pread, at most EGRESS_TEXT_MAX bytes). The worker channel's
 * thread reads and parses the policy, checks the socket, and only then
 * hands socket, policy and MAC to the device at once
 * (virtio_net_connect: under the transport lock, which orders it against
 * the device thread as FS_BIND's bind is). A refused request changes
 * nothing: the old backend (if any) and policy stay. A later NET_ATTACH
 * replaces both (passt restarted). The policy's `mac` becomes the card's
 * MAC when it differs (a clone of a shared snapshot gets its own): the
 * config space shows it and a config change interrupt tells the guest;
 * Linux's driver does not re-read it, so the guest must set its
 * interface's address itself (net.h, net_persist.c).
 *
 * Only calls the jail allows: pread, recv (MSG_PEEK), fcntl, malloc.
 */
#ifndef SM_NET_ATTACH_H
#define SM_NET_ATTACH_H

#include <stddef.h>

#include "daemon/vm/virtio/net.h"

/* n: the VM's card, NULL if it has none. sock_fd is taken (the device's
 * on success, closed otherwise; -1: none came); policy_fd stays the
 * caller's (-1: none came). 0 with a summary in msg, or -1 with why not
 * in msg and nothing changed. */
int net_attach_serve(struct virtio_net *n, int sock_fd, int policy_fd, char *msg, size_t len);

#endif

/* worker_channel.h - the VMM's side of the daemon's control channel
 * (worker_proto.h): `supermachine-vmm --control-fd N`.
 *
 * worker_channel_start() sends READY and starts a thread that waits for
 * STOP or the daemon's end of the socket, either of which stops the VM,
 * and serves SNAPSHOT requests through the snapshot callback (run on that
 * thread while the VM keeps running on its own), FS_BIND / FS_SEAL
 * through the binder (fs_bind.h) and NET_ATTACH on the VM's virtio-net
 * card (net_attach.h).
 * worker_channel_finish() reports the outcome (EXITED), wakes and joins
 * that thread; call it before the vm is destroyed.
 */
#ifndef SM_WORKER_CHANNEL_H
#define SM_WORKER_CHANNEL_H

#include "fs_bind.h"
#include "vm.h"
#include "daemon/vm/virtio/net.h"

struct worker_channel;

/* Save the VM into state_fd and mem_fd, and its read-write disk into
 * disk_fd unless it is -1 (the callback closes none of them); 0 with a
 * summary in msg, or -1 with the reason in msg. */
typedef int (*worker_snapshot_fn)(void *ctx, int state_fd, int mem_fd, int disk_fd, char *msg,
				  size_t len);

/* NULL with err filled when the READY message cannot be sent. snapshot
 * may be NULL: SNAPSHOT requests are then refused; binder likewise, for
 * FS_BIND and FS_SEAL; net (the --net card) likewise, for NET_ATTACH. */
struct worker_channel *worker_channel_start(int fd, struct vm *vm, worker_snapshot_fn snapshot,
					    void *ctx, struct fs_binder *binder,
					    struct virtio_net *net, struct vm_err *err);

/* Sends EXITED (outcome, why) on fd; usable without a started channel
 * (setup failed before the VM ran). */
void worker_channel_report(int fd, enum vm_outcome outcome, const char *why);

/* Stops the thread and frees ch (NULL is fine); the fd stays open. */
void worker_channel_finish(struct worker_channel *ch);

#endif

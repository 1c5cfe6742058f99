/* worker_request.h - the daemon's side of the worker channel in the
 * VMM's unit tests (FS_BIND, FS_SEAL, NET_ATTACH): a channel on a fresh
 * socketpair, and one request - a worker_msg with up to
 * WORKER_REQUEST_MAX_FDS descriptors - and its answer. */
#ifndef SM_TESTS_UNIT_WORKER_REQUEST_H
#define SM_TESTS_UNIT_WORKER_REQUEST_H

#include "daemon/vm/worker_channel.h"

#include <stddef.h>
#include <stdint.h>

#define WORKER_REQUEST_MAX_FDS 3

/* Sends type/value with fds on sock and waits (10 s) for an answer of
 * type want (a check failure otherwise): its value, its text in msg. */
int worker_request(int sock, uint32_t type, int32_t value, const int *fds, int nfds,
		   uint32_t want, char *msg, size_t len);

/* A channel serving vm (with binder and net, either may be NULL) on one
 * end of a fresh socketpair, its READY read: *ours is the daemon's end,
 * *theirs the VMM's. */
struct worker_channel *worker_test_channel(struct vm *vm, struct fs_binder *binder,
					   struct virtio_net *net, int *ours, int *theirs);

/* Closes ours (EOF: the channel's thread stops the VM), joins, closes theirs. */
void worker_test_channel_stop(struct worker_channel *c, int ours, int theirs);

#endif

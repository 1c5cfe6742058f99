/* worker_request.h - the daemon's side of one worker-channel request in
 * the VMM's unit tests (FS_BIND, FS_SEAL, NET_ATTACH): a worker_msg with
 * up to WORKER_REQUEST_MAX_FDS descriptors, then its answer. */
#ifndef SM_TESTS_UNIT_WORKER_REQUEST_H
#define SM_TESTS_UNIT_WORKER_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define WORKER_REQUEST_MAX_FDS 3

/* Sends type/value with fds on sock and waits (10 s) for an answer of
 * type want (a check failure otherwise): its value, its text in msg. */
int worker_request(int sock, uint32_t type, int32_t value, const int *fds, int nfds,
		   uint32_t want, char *msg, size_t len);

#endif

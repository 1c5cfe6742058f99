/* worker_proto.h - the control channel between supermachined and one
 * supermachine-vmm worker (`--control-fd N`).
 *
 * The daemon creates an AF_UNIX SOCK_SEQPACKET socketpair and hands one end
 * to the worker as fd N. Every message is one packet holding one struct
 * worker_msg (a packet of another size is a protocol error):
 *   worker -> daemon  READY   the VM is built and its vCPUs are starting
 *                             (value: the worker's pid)
 *                     EXITED  the VM ended (value: enum vm_outcome; text:
 *                             what happened); the worker exits right after
 *                     FORBIDDEN  the jail refused a system call (value: its
 *                             number; text: its name); the worker dies by
 *                             SIGSYS right after (jail_report.c)
 *                     SNAPSHOT_DONE  answer to SNAPSHOT (value: 0 saved,
 *                             -1 failed; text: what was written, or why not)
 *   daemon -> worker  STOP    end the VM now (a hard stop; a clean one goes
 *                             through the guest agent first)
 *                     SNAPSHOT  save the VM into the two files whose fds
 *                             come with the packet (SCM_RIGHTS: state file,
 *                             then memory file; both new and empty); the
 *                             VM pauses for the save and keeps running
 * End of file on either side means the peer is gone: a worker whose daemon
 * has gone stops its VM (PR_SET_PDEATHSIG also kills it), and a daemon
 * that sees EOF without EXITED knows the worker crashed.
 */
#ifndef SM_WORKER_PROTO_H
#define SM_WORKER_PROTO_H

#include <stdint.h>

#define WORKER_PROTO_VERSION 3

enum worker_msg_type {
	WORKER_READY = 1,
	WORKER_EXITED = 2,
	WORKER_STOP = 3,
	WORKER_FORBIDDEN = 4,
	WORKER_SNAPSHOT = 5,
	WORKER_SNAPSHOT_DONE = 6,
};

struct worker_msg {
	uint32_t type;
	int32_t value;
	char text[248];   /* NUL-terminated */
};

#endif

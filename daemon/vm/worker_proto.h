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
 *                     FS_BIND_DONE, FS_SEAL_DONE  answers to FS_BIND and
 *                             FS_SEAL (value: 0 done, -1 not; text: what,
 *                             or why not)
 *                     NET_ATTACH_DONE  answer to NET_ATTACH (value: 0
 *                             attached, -1 refused and nothing changed;
 *                             text: what, or why not)
 *   daemon -> worker  STOP    end the VM now (a hard stop; a clean one goes
 *                             through the guest agent first)
 *                     SNAPSHOT  save the VM into the two files whose fds
 *                             come with the packet (SCM_RIGHTS: state file,
 *                             then memory file; both new and empty), and
 *                             when a third fd comes, a copy of the VM's
 *                             one read-write disk into it (a reflink, else
 *                             its data extents), made during the same
 *                             pause; the VM pauses for the save and keeps
 *                             running
 *                     FS_BIND  serve the folder whose directory fd comes
 *                             with the packet (SCM_RIGHTS, one fd) on idle
 *                             virtio-fs slot (value & WORKER_FS_SLOT_MASK)
 *                             - the VMM's N-th --fs device -, read-only
 *                             with WORKER_FS_READONLY; other bits must be 0
 *                     FS_SEAL  confine the VMM's file access (Landlock, on
 *                             every thread) to exactly the folders bound so
 *                             far; no FS_BIND after it (daemon/vm/fs_bind.h)
 *                     NET_ATTACH  give the virtio-net card (--net) its
 *                             backend and egress policy: two fds come with
 *                             the packet (SCM_RIGHTS): passt's connected
 *                             stream socket (the other end of passt -F),
 *                             then a file (memfd or regular, read with
 *                             pread from offset 0, at most 64 KiB) holding
 *                             the policy as text (daemon/net/egress_text.h,
 *                             whose `mac` the card takes); value 0. A
 *                             later one replaces socket and policy
 *                             (daemon/vm/net_attach.h)
 * End of file on either side means the peer is gone: a worker whose daemon
 * has gone stops its VM (PR_SET_PDEATHSIG also kills it), and a daemon
 * that sees EOF without EXITED knows the worker crashed.
 */
#ifndef SM_WORKER_PROTO_H
#define SM_WORKER_PROTO_H

#include <stdint.h>

#define WORKER_PROTO_VERSION 6

enum worker_msg_type {
	WORKER_READY = 1,
	WORKER_EXITED = 2,
	WORKER_STOP = 3,
	WORKER_FORBIDDEN = 4,
	WORKER_SNAPSHOT = 5,
	WORKER_SNAPSHOT_DONE = 6,
	WORKER_FS_BIND = 7,
	WORKER_FS_BIND_DONE = 8,
	WORKER_FS_SEAL = 9,
	WORKER_FS_SEAL_DONE = 10,
	WORKER_NET_ATTACH = 11,
	WORKER_NET_ATTACH_DONE = 12,
};

#define WORKER_FS_SLOT_MASK 0xff
#define WORKER_FS_READONLY  0x100

struct worker_msg {
	uint32_t type;
	int32_t value;
	char text[248];   /* NUL-terminated */
};

#endif

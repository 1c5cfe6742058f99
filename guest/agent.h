/* agent.h - the guest agent's entry point.
 *
 * The agent serves the protocol of agent_proto.h on an already listening
 * stream socket: AF_VSOCK in the guest (init.c), AF_UNIX in host tests
 * (tests/unit/guest/agent_unix.c), so process semantics are testable
 * without a VM. It is one single-threaded epoll loop that also reaps every
 * child of the process (it may be PID 1).
 */
#ifndef SM_AGENT_H
#define SM_AGENT_H

#include <stddef.h>
#include <stdint.h>

struct sm_sync_req;
struct sm_mount_req;
struct sm_fsev_req;
struct sm_net_req;

struct agent_hooks {
	/* Called once a SHUTDOWN was acknowledged and flushed; how is
	 * SM_SHUTDOWN_*. If it returns, agent_serve() returns 0. */
	void (*shutdown)(void *opaque, uint32_t how);
	/* Applies a SYNC (entropy, clock, hostname): 0, or an errno value
	 * with a message in err. NULL: SYNC is answered ENOSYS. The guest's
	 * init applies it to the system (init_sync.c); host tests fake it. */
	int (*sync)(void *opaque, const struct sm_sync_req *req, char *err, size_t errlen);
	/* Mounts a shared folder (MOUNT_FS, already validated): 0, or an
	 * errno value with a message naming the path in err. NULL: MOUNT_FS
	 * is answered ENOSYS. The guest's init mounts it (init_mount.c). */
	int (*mount_fs)(void *opaque, const struct sm_mount_req *req, char *err, size_t errlen);
	/* Applies host changes in a shared folder (FS_EVENTS, validated): 0,
	 * or an errno value with a message. NULL: answered ENOSYS. The
	 * guest's init hands them to our kernel (init_fsev.c). */
	int (*fs_events)(void *opaque, const struct sm_fsev_req *req, char *err, size_t errlen);
	/* Sets the network interface (NET_CONFIG, validated): 0, or an errno
	 * value with a message naming the step. NULL: answered ENOSYS. The
	 * guest's init sets it with rtnetlink (init_net.c). */
	int (*net_config)(void *opaque, const struct sm_net_req *req, char *err, size_t errlen);
	void *opaque;
	uint32_t cpus;    /* reported in HELLO */
	uint64_t mem_kib; /* reported in HELLO */
};

/* Serve until a SHUTDOWN; -1 with a message on stderr if the loop itself
 * cannot run (epoll/signalfd setup). Takes ownership of listen_fd. */
int agent_serve(int listen_fd, const struct agent_hooks *hooks);

#endif

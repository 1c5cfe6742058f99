/* worker.h - one supermachine-vmm process per VM, supervised by the daemon.
 *
 * worker_start() starts a thread that forks the VMM with one end of a
 * SOCK_SEQPACKET socketpair as --control-fd 3 (daemon/vm/worker_proto.h)
 * and then waits on that channel for the rest of the worker's life. The
 * child asks for SIGKILL when that thread dies (PR_SET_PDEATHSIG is tied
 * to the forking thread, which is why it is a thread of its own) and
 * checks right after that its parent is still the daemon, so a dead
 * daemon never leaves a worker behind. When the worker exits - EXITED
 * message or not (a crash, SIGKILL) - the thread reaps it and calls
 * on_exit once; nothing else in the daemon is disturbed.
 */
#ifndef SM_VMS_WORKER_H
#define SM_VMS_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct worker;

struct worker_exit {
	int outcome;        /* enum vm_outcome from EXITED, or -1 when none came */
	char why[248];      /* the VMM's message, or how the process ended */
	int wait_status;    /* from waitpid */
};

struct worker_hooks {
	void (*on_ready)(void *ud);
	/* Called from the worker's thread after the process is reaped. */
	void (*on_exit)(void *ud, const struct worker_exit *ex);
	void *ud;
};

/* argv: the VMM's arguments after argv[0] (NULL-terminated), to which
 * --control-fd 3 is appended; stderr_path receives its stdout/stderr.
 * Returns once the process runs (0, *out set) or could not (-1, err). */
int worker_start(const char *vmm, const char *const *argv, const char *stderr_path,
		 const struct worker_hooks *hooks, struct worker **out, char *err, size_t errlen);

pid_t worker_pid(const struct worker *w);

/* Asks the VMM to stop the VM (STOP message). */
int worker_stop(struct worker *w);

/* Asks the VMM to save its VM into state_fd and mem_fd (new, empty files;
 * daemon/vm/snapshot/snapshot.h) and, when disk_fd >= 0, a copy of its
 * read-write disk into disk_fd (made while the VM is paused), and waits up
 * to timeout_ms for the answer. The VM keeps running. 0 with the VMM's
 * summary in msg, or -1 with why. */
int worker_snapshot(struct worker *w, int state_fd, int mem_fd, int disk_fd, int timeout_ms,
		    char *msg, size_t len);

/* Asks the VMM to serve the folder open at dirfd on its idle virtio-fs
 * slot `slot` (FS_BIND, daemon/vm/fs_bind.h; dirfd stays the caller's)
 * and waits up to timeout_ms. 0, or -1 with the VMM's reason in msg. */
int worker_bind_fs(struct worker *w, int slot, int dirfd, bool readonly, int timeout_ms,
		   char *msg, size_t len);
/* FS_SEAL: the VMM confines every thread to the folders bound so far. */
int worker_seal_fs(struct worker *w, int timeout_ms, char *msg, size_t len);

/* NET_ATTACH: the VMM's virtio-net card (--net) takes the passt link
 * sock_fd and the policy text in policy_fd (daemon/net/egress_text.h;
 * both stay the caller's), replacing what it had. 0, or -1 with the
 * VMM's reason in msg. */
int worker_net_attach(struct worker *w, int sock_fd, int policy_fd, int timeout_ms, char *msg,
		      size_t len);

/* SIGKILL; the exit is still reported through on_exit. */
void worker_kill(struct worker *w);

/* Waits up to timeout_ms for the worker to have exited; true if it has. */
bool worker_wait(struct worker *w, int timeout_ms);

/* Joins the thread (the worker must have exited: kill it first) and frees;
 * called from on_exit itself, the thread frees w when it returns. */
void worker_free(struct worker *w);

#endif

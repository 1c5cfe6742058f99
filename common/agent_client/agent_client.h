/* agent_client.h - host side of the guest agent protocol (guest/agent_proto.h).
 *
 * One `struct agent_client` is one connection to the agent. It is reached
 * through the VMM's hybrid vsock Unix socket ("CONNECT <port>\n" ->
 * "OK <n>\n"), or over any connected stream fd (tests use AF_UNIX). Calls
 * are blocking with a timeout, except that agent_client_signal() and
 * agent_client_resize() may be called from another thread while
 * agent_client_exec() runs. Use one connection per concurrent exec.
 *
 * Errors: functions return -1 (or NULL) and leave a message with context
 * in agent_client_error() (or err for the constructors).
 */
#ifndef SM_AGENT_CLIENT_H
#define SM_AGENT_CLIENT_H

#include "agent_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_client;

/* The oldest agent version the host still talks to (connect falls back
 * to it); agent_client_hello(c)->version is the one agreed. */
#define SM_AGENT_HOST_MIN_VERSION 2

/* Connects through the hybrid vsock socket at uds_path to the guest's
 * port, retrying until timeout_ms passes (the guest may still be booting
 * or restoring), then does the HELLO handshake, offering SM_AGENT_VERSION
 * and, if an older agent refuses it, each version down to
 * SM_AGENT_HOST_MIN_VERSION on a new connection. */
struct agent_client *agent_client_connect(const char *uds_path, uint32_t port,
					  int timeout_ms, char *err, size_t errlen);
/* Handshake over an already connected stream socket (takes ownership),
 * offering SM_AGENT_VERSION only. */
struct agent_client *agent_client_attach(int fd, int timeout_ms, char *err, size_t errlen);
void agent_client_close(struct agent_client *c);
const char *agent_client_error(const struct agent_client *c);
/* What the agent said in its HELLO (cpus, mem_kib, name). */
const struct sm_hello *agent_client_hello(const struct agent_client *c);

int agent_client_ping(struct agent_client *c, int timeout_ms);

struct agent_exec_spec {
	const char *const *argv;   /* required, argv[0] searched in PATH */
	const char *const *env;    /* NULL = empty environment */
	const char *cwd;           /* NULL = "/" */
	uint32_t uid, gid;
	const uint32_t *groups;    /* supplementary groups (agents of protocol
				      5 on; older ones run with none) */
	uint32_t ngroups;          /* at most SM_EXEC_MAX_GROUPS */
	bool mkcwd;                /* create cwd if missing (protocol 5 on) */
	uint32_t timeout_ms;       /* 0 = none; enforced by the agent */
	bool pty;
	uint16_t rows, cols;       /* pty window size */
	int stdin_fd;              /* forwarded until EOF; -1 = /dev/null */
};

struct agent_exec_io {
	void (*on_stdout)(void *opaque, const void *p, size_t n);
	void (*on_stderr)(void *opaque, const void *p, size_t n);
	void (*on_started)(void *opaque, uint32_t pid); /* optional */
	void *opaque;
};

struct agent_exec_result {
	int exit_code;  /* -1 if killed by a signal */
	int signal;     /* 0 if it exited */
	bool timed_out;
};

/* Runs a command to completion, streaming output to io. Returns 0 with
 * *res filled, or -1 (the command could not start, or the connection
 * failed). */
int agent_client_exec(struct agent_client *c, const struct agent_exec_spec *spec,
		      const struct agent_exec_io *io, struct agent_exec_result *res);
/* After agent_client_exec returned -1: SM_EXEC_NOT_FOUND or
 * SM_EXEC_NOT_EXECUTABLE when the agent said the command itself could not
 * be found or run (agent_client_error() is then docker's message alone),
 * else 0. An agent before protocol 5 always gives 0. */
uint32_t agent_client_exec_failure(const struct agent_client *c);
/* While agent_client_exec runs (any thread): signal the process
 * (signo | SM_SIGNAL_GROUP for its group) or resize its pty. */
int agent_client_signal(struct agent_client *c, uint32_t signo);
int agent_client_resize(struct agent_client *c, uint16_t rows, uint16_t cols);

int agent_client_write_file(struct agent_client *c, const char *path, uint32_t mode,
			    const void *data, size_t len, int timeout_ms);
/* *data is malloc'ed (caller frees); *mode may be NULL. Files above
 * max_len are refused. */
int agent_client_read_file(struct agent_client *c, const char *path, size_t max_len,
			   void **data, size_t *len, uint32_t *mode, int timeout_ms);
/* Asks the guest to power off (or reboot); returns once acknowledged. */
int agent_client_shutdown(struct agent_client *c, uint32_t how, int timeout_ms);

/* The first call after a snapshot restore: sends SYNC with 64 fresh bytes
 * of getrandom and the host's CLOCK_REALTIME (and hostname unless NULL or
 * ""); returns once the guest has credited the bytes and reseeded its RNG,
 * set its clock and hostname, or -1 with every step that failed named. */
int agent_client_sync(struct agent_client *c, const char *hostname, int timeout_ms);
/* Its two halves: fill req (0, or -1 with errno: EINVAL for a hostname
 * sm_hostname_valid refuses), and send a given req (tests send other
 * times). */
int agent_sync_req_fresh(struct sm_sync_req *req, const char *hostname);
int agent_client_sync_req(struct agent_client *c, const struct sm_sync_req *req, int timeout_ms);

/* Mounts the virtio-fs device `tag` (supermachine-vmm --fs TAG=FOLDER) at
 * guest_path (absolute; created with its parents, 0755), read-only if
 * asked, nosuid and nodev. Returns 0 once mounted, or -1 with the reason
 * in agent_client_error() and errno set: the agent's errno (EBUSY: that
 * tag is already mounted there; EINVAL: no device with that tag, as the
 * kernel says), EINVAL for a tag or path the protocol refuses
 * (sm_mount_tag_check, sm_mount_path_check), EPROTONOSUPPORT when the
 * agent speaks a version before 3 (an older guest image). */
int agent_client_mount_fs(struct agent_client *c, const char *tag, const char *guest_path,
			  bool readonly, int timeout_ms);

/* Hands host changes in a mounted share to the guest (FS_EVENTS): the
 * guest drops what it cached of each path and raises the inotify events a
 * local change would. 0 once applied, or -1 with errno: EINVAL for a
 * request the protocol refuses (agent_proto.h), EPROTONOSUPPORT for an
 * agent before version 4, the agent's errno otherwise (ENOTSUP: the guest
 * kernel is not ours and cannot raise them). */
int agent_client_fs_events(struct agent_client *c, const struct sm_fsev_req *req, int timeout_ms);

/* Gives the guest's network interface its whole setting (NET_CONFIG): 0
 * once set, or -1 with errno: EINVAL for a request the protocol refuses
 * (sm_net_req_check), EPROTONOSUPPORT for an agent before version 6, the
 * agent's errno otherwise (ENODEV: no such interface in the guest). */
int agent_client_net_config(struct agent_client *c, const struct sm_net_req *req, int timeout_ms);

#endif

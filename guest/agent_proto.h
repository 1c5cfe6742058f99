/* agent_proto.h - the wire protocol between the host and the guest agent.
 *
 * This one header is shared by guest/init (the agent, static, in the guest)
 * and daemon/vm/agent_client.c (the host side). agent_proto.c holds the pure
 * encode/decode functions both use; nothing here does I/O.
 *
 * Transport: a vsock stream. The agent listens on SM_AGENT_PORT; the host
 * connects (through the VMM's hybrid vsock Unix socket: "CONNECT <port>\n",
 * answered "OK <n>\n"). One connection may carry several requests at once;
 * the host's client library opens one connection per exec so a slow reader
 * of one exec never stalls another.
 *
 * Versions: the host's HELLO names the version it speaks; the agent takes
 * SM_AGENT_MIN_VERSION..SM_AGENT_VERSION and answers with the same one.
 * Version 2 added SYNC, version 3 MOUNT_FS, version 4 FS_EVENTS, version 5
 * EXEC_FAILED and EXEC's flags SM_EXEC_MKCWD and SM_EXEC_GROUPS, version 6
 * NET_CONFIG;
 * everything else is as in version 1. The host offers its newest version; an agent refusing it
 * (ERROR EPROTONOSUPPORT, id 0) is older, and agent_client_connect then
 * connects again offering the one before.
 *
 * Framing: every message is a 12-byte header followed by `len` payload
 * bytes. All integers are little-endian.
 *
 *     u32 len    payload bytes, at most SM_AGENT_MAX_PAYLOAD
 *     u16 type   enum sm_msg_type
 *     u16 flags  0 (reserved; non-zero is a protocol error)
 *     u32 id     request id chosen by the host (non-zero), 0 = connection
 *
 * Payload fields are u16/u32/i32/u64 integers and strings encoded as
 * u32 length + bytes (no NUL terminator, NUL bytes inside are refused).
 *
 * Conversation:
 *   HELLO    h->g  u32 version, u32 max_payload          (must come first)
 *   HELLO    g->h  u32 version, u32 max_payload, u32 cpus, u64 mem_kib,
 *                  str agent name
 *   PING     h->g  -                     -> PONG
 *   EXEC     h->g  u32 flags, u32 uid, u32 gid, u32 timeout_ms (0 = none),
 *                  u16 rows, u16 cols, str cwd ("" = /), u32 argc,
 *                  str argv[argc], u32 envc, str env[envc]  ("K=V")
 *                  [u32 ngroups, u32 gid[ngroups]: only with SM_EXEC_GROUPS]
 *                  -> STARTED (u32 pid) or ERROR (exec failed; no EXIT),
 *                  or (version 5) EXEC_FAILED when the command itself
 *                  could not be found or run. argv[0] is looked up in
 *                  the env's PATH as docker does (agent_lookup.h).
 *                  SM_EXEC_MKCWD: cwd is created (0755, root) when missing,
 *                  as docker creates WORKDIR. SM_EXEC_GROUPS: the
 *                  supplementary groups (at most SM_EXEC_MAX_GROUPS;
 *                  without it the process has none). Both version 5.
 *   EXEC_FAILED g->h u32 kind (SM_EXEC_NOT_FOUND, SM_EXEC_NOT_EXECUTABLE),
 *                  str message (docker's words: 'exec: "x": executable
 *                  file not found in $PATH'); no EXIT follows. Version 5;
 *                  older connections get ERROR with the same message.
 *   STDIN    h->g  bytes; an empty STDIN closes the process's stdin
 *   STDOUT   g->h  bytes as produced (with a pty: all terminal output)
 *   STDERR   g->h  bytes as produced
 *   SIGNAL   h->g  u32 signo, sent to the process; signo | SM_SIGNAL_GROUP
 *                  sends it to the process group instead
 *   RESIZE   h->g  u32 rows, u32 cols (pty only)
 *   EXIT     g->h  i32 exit_code (-1 if killed), i32 signal (0 if exited),
 *                  u32 flags (SM_EXIT_TIMED_OUT); sent after all output.
 *                  The id is then free for reuse.
 *   WRITE    h->g  u32 mode, str path; then DATA frames with the same id,
 *                  an empty DATA ends the file -> OK or ERROR
 *   READ     h->g  str path -> INFO (u32 mode, u64 size), DATA frames,
 *                  an empty DATA ends it; or ERROR
 *   SHUTDOWN h->g  u32 how (SM_SHUTDOWN_*) -> OK, then the VM powers off
 *   SYNC     h->g  u64 realtime_sec, u32 realtime_nsec, 64 bytes of entropy,
 *                  str hostname ("" = keep)  -> OK, or ERROR naming every
 *                  step that failed. The host's first request to a VM
 *                  restored from a snapshot: the agent credits the bytes to
 *                  the kernel's pool and forces a reseed of its RNG, sets
 *                  CLOCK_REALTIME, and sets the hostname. Version 2 on.
 *   MOUNT_FS h->g  str tag, str guest_path, u32 flags (SM_MOUNT_READONLY)
 *                  -> OK, or ERROR (errno, message naming the path). The
 *                  agent mounts the virtio-fs device with that tag (1-36
 *                  bytes, printable, no space) at guest_path (absolute, no
 *                  "." or ".." components, < SM_MOUNT_PATH_MAX bytes,
 *                  components <= 255), creating it and its parents (0755)
 *                  like mkdir -p; nosuid, nodev, read-only with the flag.
 *                  Unknown flags are EINVAL; guest_path already a mount
 *                  point of the same tag is EBUSY. Version 3 only.
 *   FS_EVENTS h->g str root (a shared folder's guest mount path), u32 n
 *                  (1..SM_FSEV_MAX), n x {u32 kind (SM_FSEV_*), u32 flags
 *                  (SM_FSEV_DIR), str path, str path2} -> OK, or ERROR
 *                  (ENOTSUP: the guest kernel cannot raise them). Host
 *                  changes in the folder, paths relative to root ("" is
 *                  root itself; path2 only for RENAME, from path to
 *                  path2). The agent hands each record to our guest
 *                  kernel (guest/kernel/sm_fsnotify.c), which drops what
 *                  the guest cached about the path and raises the inotify
 *                  events a local change would; records whose path is
 *                  gone again are skipped. Version 4 only.
 *   NET_CONFIG h->g str ifname, u32 mtu (0 = keep), u32 flags
 *                  (SM_NET_V4|GW4|V6|GW6), 4 bytes addr4, u32 prefix4,
 *                  4 bytes gw4, 16 bytes addr6, u32 prefix6, 16 bytes gw6,
 *                  u32 ndns (<= SM_NET_DNS_MAX), ndns x {u32 family (4|6),
 *                  16 bytes address (IPv4 in the first 4)}, str search
 *                  (space-separated domains) -> OK, or ERROR naming the
 *                  step that failed. The interface's whole setting: it
 *                  comes up with that MTU, the address of each family set
 *                  replaces the one the agent set before, and the default
 *                  route goes through the gateway; /etc/resolv.conf lists
 *                  the name servers unless the image brought its own.
 *                  Version 6 only.
 *   ERROR    g->h  i32 errno, str message. With id 0 it is about the
 *                  connection (bad version, garbage, truncated or
 *                  oversized frame) and the agent closes the connection.
 *
 * STDIN, SIGNAL, RESIZE and DATA for an id that is not (or no longer) live
 * are ignored: they may cross an EXIT or ERROR in flight. A host that is
 * done sending may shut down its write side; the agent then finishes the
 * live requests, flushes and closes.
 *
 * An exec lives while its process runs; if the connection closes first,
 * the agent kills the process group.
 */
#ifndef SM_AGENT_PROTO_H
#define SM_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SM_AGENT_VERSION      6
#define SM_AGENT_MIN_VERSION  1
#define SM_AGENT_PORT         1024u
#define SM_AGENT_HDR_SIZE     12u
#define SM_AGENT_MAX_PAYLOAD  (1u << 20)  /* 1 MiB */
#define SM_AGENT_DATA_CHUNK   (64u << 10) /* output/file data per frame */
#define SM_AGENT_MAX_ARGS     4096u

enum sm_msg_type {
	SM_MSG_HELLO = 1,
	SM_MSG_ERROR = 2,
	SM_MSG_OK = 3,
	SM_MSG_PING = 4,
	SM_MSG_PONG = 5,
	SM_MSG_EXEC = 10,
	SM_MSG_STARTED = 11,
	SM_MSG_STDIN = 12,
	SM_MSG_STDOUT = 13,
	SM_MSG_STDERR = 14,
	SM_MSG_SIGNAL = 15,
	SM_MSG_RESIZE = 16,
	SM_MSG_EXIT = 17,
	SM_MSG_EXEC_FAILED = 18,
	SM_MSG_WRITE = 20,
	SM_MSG_READ = 21,
	SM_MSG_INFO = 22,
	SM_MSG_DATA = 23,
	SM_MSG_SHUTDOWN = 30,
	SM_MSG_SYNC = 40,
	SM_MSG_MOUNT_FS = 50,
	SM_MSG_FS_EVENTS = 51,
	SM_MSG_NET_CONFIG = 60,
};

/* EXEC flags */
#define SM_EXEC_STDIN  0x1u /* stdin is a pipe fed by STDIN frames (else /dev/null) */
#define SM_EXEC_PTY    0x2u /* run on a new pty; stdin/stdout are the terminal */
#define SM_EXEC_MKCWD  0x4u /* create cwd when missing (version 5) */
#define SM_EXEC_GROUPS 0x8u /* supplementary groups follow env (version 5) */
#define SM_EXEC_FLAGS  (SM_EXEC_STDIN | SM_EXEC_PTY | SM_EXEC_MKCWD | SM_EXEC_GROUPS)
#define SM_EXEC_MAX_GROUPS 64

/* EXEC_FAILED kinds, and the exit statuses docker gives them */
#define SM_EXEC_NOT_FOUND      1u /* 127 */
#define SM_EXEC_NOT_EXECUTABLE 2u /* 126 */

/* EXIT flags */
#define SM_EXIT_TIMED_OUT 0x1u

/* SIGNAL: signo may be or'ed with this to signal the whole process group */
#define SM_SIGNAL_GROUP 0x10000u

/* SHUTDOWN how */
#define SM_SHUTDOWN_POWEROFF 0u
#define SM_SHUTDOWN_REBOOT   1u

/* SYNC */
#define SM_SYNC_ENTROPY      64 /* bytes, credited in full */
#define SM_SYNC_HOSTNAME_MAX 64 /* the kernel's limit (HOST_NAME_MAX) */

/* MOUNT_FS */
#define SM_MOUNT_READONLY 0x1u
#define SM_MOUNT_FLAGS    SM_MOUNT_READONLY
#define SM_MOUNT_TAG_MAX  36   /* virtio-fs config tag field */
#define SM_MOUNT_PATH_MAX 4096 /* guest_path bytes, exclusive (PATH_MAX) */
#define SM_MOUNT_NAME_MAX 255  /* one component */

struct sm_hdr {
	uint32_t len;
	uint16_t type;
	uint16_t flags;
	uint32_t id;
};

/* Header coding. sm_hdr_decode returns 0, or -1 with *why set to a static
 * message when the header is invalid (oversized, reserved flags, unknown
 * type): the connection must then be answered with ERROR and closed. */
void sm_hdr_encode(uint8_t out[SM_AGENT_HDR_SIZE], const struct sm_hdr *h);
int sm_hdr_decode(const uint8_t in[SM_AGENT_HDR_SIZE], struct sm_hdr *h,
		  const char **why);
bool sm_msg_type_known(uint16_t type);
const char *sm_msg_type_name(uint16_t type);

/* Growable output buffer for building frames. On allocation failure `err`
 * sticks and every later put is ignored; check it once at the end. */
struct sm_wbuf {
	uint8_t *data;
	size_t len, cap;
	bool err;
};

void sm_wbuf_free(struct sm_wbuf *b);
void sm_put_u16(struct sm_wbuf *b, uint16_t v);
void sm_put_u32(struct sm_wbuf *b, uint32_t v);
void sm_put_u64(struct sm_wbuf *b, uint64_t v);
void sm_put_bytes(struct sm_wbuf *b, const void *p, size_t n);
void sm_put_str(struct sm_wbuf *b, const char *s);
/* Start a frame: reserves the header; returns its offset for sm_frame_end. */
size_t sm_frame_begin(struct sm_wbuf *b, uint16_t type, uint32_t id);
/* Fill in the header's len; -1 if the payload grew past the maximum or an
 * allocation failed (the frame is then removed from the buffer). */
int sm_frame_end(struct sm_wbuf *b, size_t start);

/* Cursor over one payload. Getters return 0, or -1 once the payload is
 * short or malformed (the error sticks). Strings are returned as
 * NUL-terminated copies the caller frees. */
struct sm_rbuf {
	const uint8_t *p;
	size_t len, off;
	bool err;
};

void sm_rbuf_init(struct sm_rbuf *r, const void *p, size_t len);
int sm_get_u16(struct sm_rbuf *r, uint16_t *v);
int sm_get_u32(struct sm_rbuf *r, uint32_t *v);
int sm_get_i32(struct sm_rbuf *r, int32_t *v);
int sm_get_u64(struct sm_rbuf *r, uint64_t *v);
int sm_get_str(struct sm_rbuf *r, char **s);
int sm_get_bytes(struct sm_rbuf *r, void *out, size_t n);
/* 0 if every byte was consumed and nothing failed, else -1. */
int sm_rbuf_done(const struct sm_rbuf *r);

/* EXEC request, decoded. Strings are owned by the struct. */
struct sm_exec_req {
	uint32_t flags, uid, gid, timeout_ms;
	uint16_t rows, cols;
	char *cwd;
	uint32_t argc, envc;
	char **argv; /* argc entries + NULL */
	char **env;  /* envc entries + NULL */
	uint32_t ngroups;  /* with SM_EXEC_GROUPS */
	uint32_t *groups;
};

int sm_exec_req_encode(struct sm_wbuf *b, uint32_t id, const struct sm_exec_req *req);
/* 0, or -1 with *why set (the request is then released). */
int sm_exec_req_decode(const void *payload, size_t len, struct sm_exec_req *req,
		       const char **why);
void sm_exec_req_free(struct sm_exec_req *req);

/* SYNC request: plain data, nothing to free. */
struct sm_sync_req {
	uint64_t sec;  /* CLOCK_REALTIME to set */
	uint32_t nsec; /* < 1e9 */
	uint8_t entropy[SM_SYNC_ENTROPY];
	char hostname[SM_SYNC_HOSTNAME_MAX + 1]; /* "" = keep the guest's */
};

/* A hostname SYNC may carry: 1..64 letters, digits, '-' and '.', not
 * starting with '-' or '.'. */
bool sm_hostname_valid(const char *s);
/* -1 (nothing queued) for an invalid hostname or nsec. */
int sm_sync_req_encode(struct sm_wbuf *b, uint32_t id, const struct sm_sync_req *req);
/* 0, or -1 with *why set. */
int sm_sync_req_decode(const void *p, size_t len, struct sm_sync_req *req, const char **why);

/* MOUNT_FS request. Strings are owned by the struct once decoded; the
 * encoder only reads them. */
struct sm_mount_req {
	char *tag;
	char *path;
	uint32_t flags;
};

/* NULL if valid, else a static reason ("tag ...", "path ..."). */
const char *sm_mount_tag_check(const char *tag);
const char *sm_mount_path_check(const char *path);
/* -1 (nothing queued) for what the decoder would refuse. */
int sm_mount_req_encode(struct sm_wbuf *b, uint32_t id, const struct sm_mount_req *req);
/* 0, or -1 with *why set. Either way req is then the caller's to
 * sm_mount_req_free: on -1 the fields decoded so far stay (NULL if not),
 * so an error can name the path. */
int sm_mount_req_decode(const void *p, size_t len, struct sm_mount_req *req, const char **why);
void sm_mount_req_free(struct sm_mount_req *req);

/* NET_CONFIG */
#define SM_NET_V4  0x1u /* addr4/prefix4 set */
#define SM_NET_GW4 0x2u /* gw4 set (needs SM_NET_V4) */
#define SM_NET_V6  0x4u
#define SM_NET_GW6 0x8u
#define SM_NET_MAC 0x10u /* mac set: the interface takes it (a VM restored
			    from a shared snapshot gets its own) */
#define SM_NET_NONE 0x20u /* the VM has no network: the interface goes (its
			     driver lets go of the device); nothing else set */
#define SM_NET_FLAGS 0x3fu
#define SM_NET_IFNAME_MAX 15  /* IFNAMSIZ - 1 */
#define SM_NET_DNS_MAX 3      /* what the C library's resolver reads */
#define SM_NET_SEARCH_MAX 255

struct sm_net_dns {
	uint32_t family; /* 4 or 6 */
	uint8_t addr[16];
};

struct sm_net_req {
	char ifname[SM_NET_IFNAME_MAX + 1];
	uint32_t mtu, flags;
	uint8_t mac[6];
	uint8_t addr4[4], gw4[4];
	uint32_t prefix4;
	uint8_t addr6[16], gw6[16];
	uint32_t prefix6;
	uint32_t ndns;
	struct sm_net_dns dns[SM_NET_DNS_MAX];
	char search[SM_NET_SEARCH_MAX + 1];
};

/* NULL if the decoder would take req, else a static reason. */
const char *sm_net_req_check(const struct sm_net_req *req);
/* -1 (nothing queued) for what sm_net_req_check refuses. */
int sm_net_req_encode(struct sm_wbuf *b, uint32_t id, const struct sm_net_req *req);
/* 0, or -1 with *why set. */
int sm_net_req_decode(const void *p, size_t len, struct sm_net_req *req, const char **why);

/* FS_EVENTS */
#define SM_FSEV_MAX 256     /* records per message */
#define SM_FSEV_DIR 0x1u    /* the entry is a folder */
#define SM_FSEV_FLAGS SM_FSEV_DIR
enum sm_fsev_kind {
	SM_FSEV_CREATE = 1,
	SM_FSEV_MODIFY,
	SM_FSEV_ATTRIB,
	SM_FSEV_DELETE,
	SM_FSEV_RENAME,
	SM_FSEV_RESCAN,
};

struct sm_fsev {
	uint32_t kind, flags;
	char *path, *path2;   /* relative to the root; path2 "" unless RENAME */
};

/* FS_EVENTS request; strings and ev owned once decoded. */
struct sm_fsev_req {
	char *root;
	uint32_t n;
	struct sm_fsev *ev;
};

/* NULL if rel is a valid path relative to root ("" is root), else why. */
const char *sm_fsev_relpath_check(const char *root, const char *rel);
/* -1 (nothing queued) for what the decoder would refuse. */
int sm_fsev_req_encode(struct sm_wbuf *b, uint32_t id, const struct sm_fsev_req *req);
/* 0, or -1 with *why set; either way req is the caller's to free. */
int sm_fsev_req_decode(const void *p, size_t len, struct sm_fsev_req *req, const char **why);
void sm_fsev_req_free(struct sm_fsev_req *req);

/* Small fixed messages. */
struct sm_exit_msg {
	int32_t code, signal;
	uint32_t flags;
};

struct sm_hello {
	uint32_t version, max_payload, cpus;
	uint64_t mem_kib;
	char *name; /* decoded only; NULL when encoding from the host */
};

int sm_hello_encode(struct sm_wbuf *b, const struct sm_hello *h, bool from_guest);
int sm_hello_decode(const void *p, size_t len, struct sm_hello *h, bool from_guest);
int sm_exit_encode(struct sm_wbuf *b, uint32_t id, const struct sm_exit_msg *e);
int sm_exec_failed_encode(struct sm_wbuf *b, uint32_t id, uint32_t kind, const char *msg);
/* *msg is a malloc'ed copy; the kind must be one of SM_EXEC_NOT_*. */
int sm_exec_failed_decode(const void *p, size_t len, uint32_t *kind, char **msg);
int sm_exit_decode(const void *p, size_t len, struct sm_exit_msg *e);
int sm_error_encode(struct sm_wbuf *b, uint32_t id, int32_t err, const char *msg);
/* *msg is a malloc'ed copy. */
int sm_error_decode(const void *p, size_t len, int32_t *err, char **msg);
/* Frames whose payload is only 0..2 u32 values or raw bytes. */
int sm_u32_frame(struct sm_wbuf *b, uint16_t type, uint32_t id, int n, uint32_t a, uint32_t c);
int sm_data_frame(struct sm_wbuf *b, uint16_t type, uint32_t id, const void *p, size_t n);

#endif

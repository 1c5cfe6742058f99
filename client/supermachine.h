/* supermachine.h - libsupermachine, the C client for supermachined.
 *
 * One handle talks to one daemon over its Unix socket (HTTP/1.1 + JSON,
 * see docs/api.md). Use a handle from one thread at a time; make one per
 * thread for parallel calls. Every options struct may be NULL, and a
 * zeroed struct means the defaults.
 *
 * Every call returns SM_OK (0) or a negative enum sm_status. After a
 * failure, sm_errmsg() is the daemon's message (or a local description)
 * and sm_errcode() the daemon's error code ("not_found", ...), valid
 * until the next call on the handle.
 *
 *     sm_client *c;
 *     struct sm_image img;
 *     if (sm_client_new(NULL, &c) == SM_OK &&
 *         sm_image_pull(c, "busybox", NULL, &img) == SM_OK)
 *             printf("%s\n", img.id);
 *     else
 *             fprintf(stderr, "%s\n", sm_errmsg(c));
 *
 * Results are plain structs owned by the caller and freed with the
 * matching *_free function; each also carries the daemon's JSON text
 * (json) for fields this header does not name.
 */
#ifndef SUPERMACHINE_H
#define SUPERMACHINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; what this header declares
 * is its whole exported interface. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define SM_CLIENT_VERSION "0.1.0"

enum sm_status {
	SM_OK = 0,
	SM_E_CONNECT = -1,       /* the daemon is not reachable on the socket */
	SM_E_PROTOCOL = -2,      /* an answer the library does not understand */
	SM_E_BAD_REQUEST = -3,   /* 400: see sm_errmsg for the field */
	SM_E_NOT_FOUND = -4,     /* 404 */
	SM_E_CONFLICT = -5,      /* 409 */
	SM_E_TOO_LARGE = -6,     /* 413 */
	SM_E_UNPROCESSABLE = -7, /* 422 */
	SM_E_UNAVAILABLE = -8,   /* 503: KVM not usable */
	SM_E_SERVER = -9,        /* 500 and other statuses */
	SM_E_FAILED = -10,       /* a pull or import ran and failed */
	SM_E_INVALID = -11,      /* a bad argument to this library */
	SM_E_NOMEM = -12,
	SM_E_STOPPED = -13,      /* a callback returned non-zero */
	SM_E_FORBIDDEN = -14,    /* 403: the daemon's config does not allow it */
};

typedef struct sm_client sm_client;

struct sm_client_opts {
	/* NULL: $SUPERMACHINE_SOCKET, else /run/supermachine/supermachined.sock
	 * for root, else $XDG_RUNTIME_DIR/supermachine/supermachined.sock (or the
	 * system socket when only that one exists). */
	const char *socket_path;
	long connect_timeout_ms; /* 0: 5000 */
	long timeout_ms;         /* whole request, streams excluded; 0: none */
};

int sm_client_new(const struct sm_client_opts *opts, sm_client **out);
void sm_client_free(sm_client *c);
const char *sm_client_socket(const sm_client *c);

const char *sm_errmsg(const sm_client *c);
const char *sm_errcode(const sm_client *c);   /* "" when not from the daemon */
const char *sm_strerror(int status);

/* --- the daemon ------------------------------------------------------- */

struct sm_version {
	char *version, *api_version, *os, *arch;
	char *json;
};
int sm_version(sm_client *c, struct sm_version *out);
void sm_version_free(struct sm_version *v);

struct sm_info {
	char *version, *socket, *data_dir;
	int kvm_usable;
	char *kvm_reason;        /* why not, "" when usable */
	long images;             /* -1: unknown */
	int default_vcpus;
	unsigned default_memory_mib;
	char *json;
};
int sm_info(sm_client *c, struct sm_info *out);
void sm_info_free(struct sm_info *i);

/* --- images ----------------------------------------------------------- */

struct sm_image {
	char *id;                /* "sha256:…" (manifest digest) */
	char *config_digest;
	char **tags; size_t n_tags;          /* arrays are NULL-terminated */
	uint64_t size;
	char *created;           /* RFC 3339 */
	/* filled by inspect, pull and import (NULL / 0 from list): */
	char *os, *arch, *workdir, *user;
	char **entrypoint; size_t n_entrypoint;
	char **cmd; size_t n_cmd;
	char **env; size_t n_env;
	char **exposed_ports; size_t n_exposed_ports;
	char **layers; size_t n_layers;
	char *json;
};
void sm_image_free(struct sm_image *img);

int sm_image_list(sm_client *c, struct sm_image **out, size_t *n);
void sm_image_list_free(struct sm_image *list, size_t n);

/* name: a reference, an id or a unique id prefix (12+ hex digits). */
int sm_image_inspect(sm_client *c, const char *name, struct sm_image *out);

struct sm_image_remove_opts {
	int force;               /* remove even while a VM uses it */
};
int sm_image_remove(sm_client *c, const char *name, const struct sm_image_remove_opts *opts);

struct sm_progress_event {
	const char *digest;
	const char *phase;       /* "download", "exists", "convert", "done" */
	uint64_t done, total;
};
/* Return non-zero to stop waiting (the daemon carries on regardless). */
typedef int (*sm_progress_fn)(const struct sm_progress_event *ev, void *ud);

struct sm_image_pull_opts {
	const char *platform;    /* "os/arch[/variant]"; NULL: linux/amd64 */
	const char *username, *password; /* both or neither */
	sm_progress_fn progress;
	void *progress_ud;
};
/* out may be NULL. */
int sm_image_pull(sm_client *c, const char *ref, const struct sm_image_pull_opts *opts,
		  struct sm_image *out);

struct sm_image_import_opts {
	const char *tag;         /* NULL: the names inside the archive */
	int upload;              /* 1: send the file (a tar) over the socket;
				    0: the daemon reads path itself */
	sm_progress_fn progress;
	void *progress_ud;
	const char *ref;         /* OCI layout: the image with this ref
				    (org.opencontainers.image.ref.name);
				    NULL: the REF of tag NAME:REF narrows */
	const char *platform;    /* "os/arch[/variant]"; NULL: linux/amd64
				    when a layout holds several images */
};
/* path: an OCI layout directory, a tar of one, or a `docker save` tar. */
int sm_image_import(sm_client *c, const char *path, const struct sm_image_import_opts *opts,
		    struct sm_image *out);

/* --- events ----------------------------------------------------------- */

/* type: "image.pulled", ...; json: the whole event. Non-zero stops. */
typedef int (*sm_event_fn)(const char *type, const char *json, void *ud);

struct sm_events_opts {
	const char *type_prefix; /* e.g. "image."; NULL: all */
};
/* Blocks, calling fn per event, until fn returns non-zero (SM_E_STOPPED)
 * or the daemon ends the stream (SM_OK). */
int sm_events(sm_client *c, const struct sm_events_opts *opts, sm_event_fn fn, void *ud);

/* --- VMs ---------------------------------------------------------------- */

struct sm_vm {
	char *id;
	char *image, *image_id;
	char *state;             /* "starting", "running", "stopping", "exited", "gone" */
	int vcpus;
	unsigned memory_mib;
	char *created;           /* RFC 3339 */
	char *exit_reason;       /* NULL while it runs */
	int worker_pid;          /* 0 when none */
	char *json;
};
void sm_vm_free(struct sm_vm *vm);
void sm_vm_list_free(struct sm_vm *list, size_t n);

/* A host folder shared into the VM (virtio-fs): host_path must be absolute
 * and beneath one of the daemon's "shared_folders"; guest_path absolute. */
struct sm_mount {
	const char *host_path;
	const char *guest_path;
	int readonly;
	int no_watch;                /* 0: watched (the default) */
};

/* A named volume (sm_volume_create) mounted at guest_path: read-write in
 * one running VM at a time, read-only in any number. */
struct sm_volume_mount {
	const char *name;
	const char *guest_path;
	int readonly;
};

/* A host port published to the VM (docker's -p): connections to
 * host_ip:host_port on the daemon's host reach guest_port in the VM. */
struct sm_port {
	const char *host_ip;         /* NULL: 127.0.0.1 (the daemon's default) */
	unsigned host_port, guest_port; /* 1-65535 */
	int udp;                     /* 0: TCP */
};

struct sm_vm_create_opts {
	const char *const *env;      /* NULL-terminated "K=V", over the image's */
	const char *workdir, *user;  /* NULL: the image's */
	const char *const *cmd;      /* replaces the image's cmd; NULL: keep it */
	const char *const *labels;   /* NULL-terminated "K=V" */
	int vcpus;                   /* 0: the daemon's default */
	unsigned memory_mib;         /* 0: the daemon's default */
	int auto_remove;             /* remove the VM once it exits */
	/* Added later (zero-initialised callers are unaffected): shared host
	 * folders, at most 4, bound to the VM however it starts (bake, pool,
	 * boot); such a VM cannot be snapshotted or forked. */
	const struct sm_mount *mounts;
	size_t n_mounts;
	/* Named volumes, at most 4; such a VM boots (no bake, no pool). */
	const struct sm_volume_mount *volumes;
	size_t n_volumes;
	/* Added later: the writable layer's size in MiB (a sparse disk of its
	 * own); 0: the daemon's default (a snapshot's VMs: the snapshot's). */
	unsigned storage_mib;
	const char *hostname;        /* NULL: the VM's short id */
	/* Added later: replaces the image's entrypoint and drops its cmd
	 * (only cmd above follows it), as docker's --entrypoint does; an
	 * empty array ({NULL}) clears it, so cmd alone is the command. NULL:
	 * keep the image's (a snapshot's VMs: the snapshot's). */
	const char *const *entrypoint;
	/* Added later: the network. "outbound" or "none"; NULL: the daemon's
	 * default (GET /v1/info "network"). */
	const char *network;
	const struct sm_port *ports; /* published ports (at most 32) */
	size_t n_ports;
	/* Egress rules (ADDRESS[/LEN][:PORT[-PORT]][/PROTO], docs/api.md),
	 * NULL-terminated or NULL, and the default ("allow"/"deny"; NULL:
	 * the daemon's). The daemon applies its own config's denies first
	 * and may refuse a loosening (SM_E_FORBIDDEN; see docs/api.md). A
	 * published host port already in use is SM_E_CONFLICT. */
	const char *const *egress_allow, *const *egress_deny;
	const char *egress_default;
};
/* Boots a VM of an image in the store; returns once its guest is up. */
int sm_vm_create(sm_client *c, const char *image, const struct sm_vm_create_opts *opts,
		 struct sm_vm *out);
/* all: exited and gone VMs too. label: "K" or "K=V" filter, or NULL. */
int sm_vm_list(sm_client *c, int all, const char *label, struct sm_vm **out, size_t *n);
int sm_vm_inspect(sm_client *c, const char *id, struct sm_vm *out);
int sm_vm_stop(sm_client *c, const char *id);
/* force: stop it first when it runs (else a running VM is SM_E_CONFLICT). */
int sm_vm_remove(sm_client *c, const char *id, int force);

/* Restores a VM from a snapshot (see the snapshots below); returns once its
 * guest is up. opts: vcpus and memory_mib must be 0 or the snapshot's;
 * env is laid over the snapshot's, and cmd, entrypoint, workdir and user
 * replace its own when given (an entrypoint drops its cmd); labels and auto_remove as for sm_vm_create. */
int sm_vm_restore(sm_client *c, const char *snapshot, const struct sm_vm_create_opts *opts,
		  struct sm_vm *out);
/* Snapshots a running VM (in a temporary snapshot, removed with the last
 * of them) and restores count (1-16) VMs from it; *out gets them (free
 * with sm_vm_list_free). */
int sm_vm_fork(sm_client *c, const char *vm, int count, struct sm_vm **out, size_t *n);

/* What a running VM uses now (GET /v1/vms/{id}/stats); -1: not known. */
struct sm_vm_stats {
	double cpu_seconds;          /* its VMM's user + system time */
	int64_t memory_bytes;        /* its VMM's resident set */
	int64_t disk_bytes;          /* its directory (writable layer, logs) */
	int64_t disk_read_bytes, disk_write_bytes;   /* its VMM's storage I/O */
	char *json;                  /* free() it */
};
int sm_vm_stats(sm_client *c, const char *id, struct sm_vm_stats *out);

/* Raw bytes of a body (console logs, files); non-zero stops. */
typedef int (*sm_bytes_fn)(const char *buf, size_t n, void *ud);
/* The VM's console; follow: keep going until the VM exits. */
int sm_vm_logs(sm_client *c, const char *id, int follow, sm_bytes_fn fn, void *ud);

/* --- snapshots ----------------------------------------------------------- */

/* A saved running VM: its memory (the writable layer included), vCPU and
 * device state, in files on the daemon's host from which VMs are restored
 * copy-on-write (sm_vm_restore). */
struct sm_snapshot {
	char *name;
	char *vm;                /* the VM it was taken of */
	char *image, *image_id;
	int vcpus;
	unsigned memory_mib;
	char *created;           /* RFC 3339 */
	char *path;              /* its folder on the daemon's host */
	uint64_t state_bytes;    /* vm.state */
	uint64_t memory_bytes;   /* vm.mem's size (the guest's RAM) */
	uint64_t memory_disk_bytes; /* what vm.mem takes on disk (sparse) */
	int temporary;           /* a fork's, removed with its last VM */
	char *kind;              /* "user", "fork", or "bake" (an image's, the daemon's) */
	char *json;
};
void sm_snapshot_free(struct sm_snapshot *s);
void sm_snapshot_list_free(struct sm_snapshot *list, size_t n);

/* Snapshots a running VM under name ([a-zA-Z0-9][a-zA-Z0-9_.-]{0,63});
 * the VM pauses for the save and keeps running. out may be NULL. */
int sm_vm_snapshot(sm_client *c, const char *vm, const char *name, struct sm_snapshot *out);
int sm_snapshot_list(sm_client *c, struct sm_snapshot **out, size_t *n);
int sm_snapshot_inspect(sm_client *c, const char *name, struct sm_snapshot *out);
int sm_snapshot_remove(sm_client *c, const char *name);

/* --- warm pools ------------------------------------------------------------ */

/* Restored VMs of an image kept ready: POST /v1/vms (sm_vm_create, sm_run)
 * of that image and size takes one when there is one. */
struct sm_pool {
	char *image;             /* canonical name, or an image id */
	char *image_id;          /* what the name is now; NULL: not in the store */
	unsigned min, max, idle_timeout_s;
	int vcpus;
	unsigned memory_mib;
	unsigned ready, in_use, restoring;
	unsigned peak;           /* most VMs alive at once */
	uint64_t hits, misses, restores, evictions, failures;
	double acquire_ms_avg;
	char *source;            /* "api" or "config" */
	char *error;             /* the last failure, or NULL */
	char *json;
};
void sm_pool_free(struct sm_pool *p);
void sm_pool_list_free(struct sm_pool *list, size_t n);

struct sm_pool_opts {
	unsigned min, max;       /* 0 <= min <= max, 1 <= max <= 64 */
	int idle_timeout_s;      /* 0: the daemon's default (300); < 0: none (surplus
				    ready VMs leave as soon as nobody asks) */
	int vcpus;               /* 0: the daemon's default */
	unsigned memory_mib;     /* 0: the daemon's default */
};
/* Creates or changes the pool of image; out may be NULL. */
int sm_pool_set(sm_client *c, const char *image, const struct sm_pool_opts *opts,
		struct sm_pool *out);
int sm_pool_list(sm_client *c, struct sm_pool **out, size_t *n);
int sm_pool_inspect(sm_client *c, const char *image, struct sm_pool *out);
/* Its ready VMs are discarded; VMs handed out live on. */
int sm_pool_remove(sm_client *c, const char *image);

/* --- volumes: named persistent disks ------------------------------------ */

struct sm_volume_info {
	char *name;
	char *path;              /* the disk image on the daemon's host */
	uint64_t size_mib;
	uint64_t used_bytes;     /* what the sparse file takes on the host */
	int64_t created;         /* unix time */
	char *used_by;           /* the VM holding it (inspect only), or NULL */
	char *json;
};
void sm_volume_free(struct sm_volume_info *v);
void sm_volume_list_free(struct sm_volume_info *list, size_t n);
/* size_mib 0: the daemon's default (1024). out may be NULL. */
int sm_volume_create(sm_client *c, const char *name, uint64_t size_mib,
		     struct sm_volume_info *out);
int sm_volume_list(sm_client *c, struct sm_volume_info **out, size_t *n);
int sm_volume_inspect(sm_client *c, const char *name, struct sm_volume_info *out);
/* SM_E_CONFLICT (code "in_use") while a VM holds it. */
int sm_volume_remove(sm_client *c, const char *name);

/* The store's garbage collection (blobs and layers no image uses) and the
 * bakes of gone images or of another kernel, initramfs or VMM. */
struct sm_gc_result {
	uint64_t blobs_removed, layers_removed, files_removed, bytes_freed, bakes_removed;
};
int sm_system_gc(sm_client *c, struct sm_gc_result *out);

/* --- exec ---------------------------------------------------------------- */

struct sm_exec_opts {
	const char *const *env;      /* "K=V" over the VM's */
	const char *cwd, *user;      /* NULL: the VM's */
	unsigned timeout_s;          /* 0: none */
	const void *stdin_data;      /* sent whole, then EOF */
	size_t stdin_len;
	/* fd 1 or 2; NULL: collected into the result */
	void (*on_output)(int fd, const char *buf, size_t n, void *ud);
	/* the daemon's exec id (for sm_exec_signal) and the guest pid */
	void (*on_start)(const char *exec_id, int pid, void *ud);
	void *ud;
};
struct sm_exec_result {
	int exit_code;               /* -1 when killed by a signal */
	int signal, timed_out;
	uint64_t duration_ms;
	char *stdout_buf; size_t stdout_len;   /* when on_output is NULL */
	char *stderr_buf; size_t stderr_len;
};
void sm_exec_result_free(struct sm_exec_result *r);
/* The shell's view of a result: the code, 128+signal, or 124 on timeout. */
int sm_exec_status(const struct sm_exec_result *r);

/* Runs argv (NULL: the VM's own command, entrypoint + cmd) in a running
 * VM and waits for it. A non-zero exit is SM_OK with the code in result. */
int sm_exec(sm_client *c, const char *vm, const char *const *argv,
	    const struct sm_exec_opts *opts, struct sm_exec_result *result);
/* Sends signo to a running exec's process group (use another handle than
 * the one blocked in sm_exec). */
int sm_exec_signal(sm_client *c, const char *vm, const char *exec_id, int signo);

/* Runs argv (NULL: the VM's command) on a guest pty of rows x cols (0:
 * 24x80): bytes read from in_fd are its input (EOF hangs it up), its
 * output goes to out_fd, until it exits. opts: env, cwd, user, timeout_s
 * and on_start apply. The raw-terminal setup of in_fd is the caller's. */
int sm_exec_tty(sm_client *c, const char *vm, const char *const *argv,
		const struct sm_exec_opts *opts, unsigned short rows, unsigned short cols,
		int in_fd, int out_fd, struct sm_exec_result *result);
/* A VM's main process (`run -d`): its command (entrypoint + cmd) started
 * detached, its output kept by the daemon; the VM stops when it ends.
 * *exec_id (may be NULL; free it) is for sm_exec_signal. */
int sm_vm_main_start(sm_client *c, const char *vm, char **exec_id);
/* Blocks until the main process ends: its exit_code and signal. */
int sm_vm_wait(sm_client *c, const char *vm, struct sm_exec_result *result);
/* Its kept output through opts->on_output (NULL: into result); follow:
 * until it ends. *ended (may be NULL): it has ended (result has how). */
int sm_vm_main_logs(sm_client *c, const char *vm, int follow, const struct sm_exec_opts *opts,
		    struct sm_exec_result *result, int *ended);

/* A running pty exec's new window size (another handle than sm_exec_tty's). */
int sm_exec_resize(sm_client *c, const char *vm, const char *exec_id, unsigned short rows,
		   unsigned short cols);

/* --- files -------------------------------------------------------------- */

int sm_file_write(sm_client *c, const char *vm, const char *path, const void *data,
		  size_t len, unsigned mode);
/* *data is malloc'ed (caller frees). A folder's bytes are a tar of it. */
int sm_file_read(sm_client *c, const char *vm, const char *path, void **data, size_t *len);

/* Copies a host file or folder into a running VM. A file becomes vm_path
 * (its mode kept). A folder lands inside the folder vm_path (created if
 * missing) under its own name - `sm_copy_to_vm(c, vm, "src/app", "/srv")`
 * makes /srv/app - with modes and symlinks kept, files owned by root;
 * sockets, fifos and devices are left out. Folders need tar and sh in the
 * guest (SM_E_UNPROCESSABLE "no_tar" otherwise). */
int sm_copy_to_vm(sm_client *c, const char *vm, const char *host_path, const char *vm_path);
/* Copies a file or folder out of a running VM. A file becomes host_path
 * (or host_path/NAME when host_path is a folder). A folder lands inside
 * the folder host_path (created if missing) under its own name, modes kept
 * (without set-id bits) and owned by the caller. The guest's tar is
 * checked whole first: an entry that would land outside host_path, or a
 * device node, refuses the copy (SM_E_PROTOCOL) before anything is
 * written. */
int sm_copy_from_vm(sm_client *c, const char *vm, const char *vm_path, const char *host_path);

/* --- the common case --------------------------------------------------- */

struct sm_run_opts {
	struct sm_vm_create_opts vm; /* image settings and resources */
	struct sm_exec_opts exec;    /* env/cwd/user here are per command */
	int keep;                    /* leave the VM running afterwards */
};
/* Creates a VM of image, runs argv in it (NULL: the image's command),
 * removes the VM (unless keep) and returns SM_OK with the guest's exit
 * code, output and duration in result. vm_id_out (may be NULL, 40 bytes)
 * gets the VM's id. */
int sm_run(sm_client *c, const char *image, const char *const *argv,
	   const struct sm_run_opts *opts, struct sm_exec_result *result, char *vm_id_out);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif

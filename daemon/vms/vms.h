/* vms.h - the daemon's VMs: one record per VM, one worker per running VM.
 *
 * A VM is created from an image already in the store: its layers (erofs
 * files, 1 to 127) become the partitions of one read-only virtio-blk disk
 * that the guest stacks under an overlay (sm.layers=N), and a
 * supermachine-vmm worker (worker.h) runs it.
 * vms_create() returns once the guest agent answers on the VM's vsock
 * socket (state "running"), or with the reason it never did. A VM may
 * instead be restored from a snapshot (snapshots.h): the VMM starts with
 * --restore, and the agent is given fresh entropy, the time and the VM's
 * own hostname (its first 12 id digits) before the VM counts as running.
 *
 * States: starting -> running -> exited; a VM of a previous daemon run
 * (whose worker died with that daemon) is "gone". Records are reference
 * counted: vms_get()/vms_create() hand out a reference that vm_put()
 * drops; a removed VM is freed when its last user lets go.
 *
 * Each VM has a directory DATA/vms/ID holding console.log (the guest's
 * serial console), vmm.log (the worker's own output), vsock.sock (the
 * hybrid vsock socket of the guest agent) and upper.img, the sparse disk
 * of its writable layer (upper_disk.h: storage_mib MiB, the guest's
 * overlay upper; gone with the VM). Rows of a small SQLite table
 * (DATA/vms.db) let a restarted daemon find the previous run's VMs: they
 * are marked gone and their directories removed.
 *
 * Lifecycle events (vm.created, vm.started, vm.exited, vm.removed) go to
 * the on_event hook with the VM's JSON; snapshot.created and
 * snapshot.removed with the snapshot's.
 *
 * With baking on (vms_config.bake), a VM of an image is not booted: it is
 * restored from that image's bake (bakes.h), a snapshot made once by a
 * cold boot. Not every VM is the user's: a bake's VM (VM_KIND_BAKE) and a
 * warm pool's ready VMs (VM_KIND_POOL) are hidden - not listed, counted,
 * found by id, saved in vms.db or announced - until vms_adopt() hands a
 * pool VM to a user.
 */
#ifndef SM_VMS_H
#define SM_VMS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct vms;
struct vm_rec;
struct vm_net;
struct sm_image_config;

struct vms_config {
	const char *data_dir;
	const char *vmm_path;
	const char *kernel;           /* bzImage for the guests */
	const char *initrd;           /* our initramfs */
	unsigned boot_timeout_s;      /* until the agent answers */
	bool bake;                    /* restore image VMs from bakes (bakes.h) */
	/* The writable layer's size when a spec gives none (upper_disk.h):
	 * MiB of a sparse disk file per VM. */
	unsigned default_storage_mib;
	/* The folders mounts may share (NULL-terminated, or NULL): a warm
	 * pool's VMs may bind folders beneath them when handed out. */
	const char *const *shared_folders;
	/* VMs' network defaults (vm_net.h), for the name servers they get */
	const struct vm_net_defaults *net;
	/* type "vm.created"...; takes the reference to fields */
	void (*on_event)(void *ud, const char *type, json_t *fields);
	void *ud;
};

enum vm_kind {
	VM_KIND_USER,                 /* the API's */
	VM_KIND_BAKE,                 /* boots cold to be snapshotted as a bake */
	VM_KIND_POOL,                 /* ready in a warm pool (daemon/pool) */
};

/* A host folder shared into the VM over virtio-fs: every VM has
 * VM_MAX_MOUNTS idle slots (supermachine-vmm --fs smN, N = 0..3), and
 * once the guest agent answers the daemon binds the folder to slot N
 * through the worker channel and the agent mounts tag smN at guest_path
 * (vms_mounts.c). The API checked both paths (h_vms.c): host_path is the
 * realpath of a folder beneath a configured shared folder, guest_path
 * absolute and normalized. */
#define VM_MAX_MOUNTS 4
struct vm_mount {
	const char *host_path;
	const char *guest_path;
	bool readonly;
	bool watch;                   /* for the host-folder watcher (later) */
};

/* A named volume (daemon/store/volumes.h) attached as a virtio-blk disk
 * that the guest mounts at guest_path (vms_volumes.c). The API checked the
 * name, that the volume exists (disk: its file) and guest_path (absolute,
 * normalized). Read-write to one live VM at a time; a VM holds its volumes
 * until it is removed (`volume rm` is refused until then). */
#define VM_MAX_VOLUMES 4
struct vm_volume {
	const char *name;
	const char *disk;
	const char *guest_path;
	bool readonly;
};

struct vm_spec {
	const char *image;            /* the name the client gave */
	const struct sm_image_config *image_cfg; /* from the store (copied) */
	int vcpus;
	unsigned memory_mib;
	/* The writable layer's size in MiB (a sparse ext4 disk of its own,
	 * upper_disk.h); 0: the daemon's default. A restore from a snapshot
	 * takes the snapshot's (0 or that). */
	unsigned storage_mib;
	const char *const *env;       /* "K=V" overrides, NULL-terminated or NULL */
	const char *workdir, *user;   /* NULL: the image's */
	const char *const *cmd;       /* replaces the image's cmd; NULL: keep */
	/* Replaces the image's entrypoint, and drops the image's cmd (only
	 * cmd above follows it), as docker's --entrypoint does; empty (or
	 * [""]): none, so cmd alone is the command. NULL: keep (vms_command.c). */
	const char *const *entrypoint;
	json_t *labels;               /* object of strings or NULL (borrowed) */
	bool auto_remove;
	/* Restore this snapshot (snapshots.h) instead of booting: vcpus and
	 * memory_mib must be the snapshot's, image_cfg its image's. NULL: the
	 * image's bake when baking is on (made first if need be), else boot. */
	const char *from_snapshot;
	enum vm_kind kind;            /* anything but USER is hidden */
	/* Shared host folders (at most VM_MAX_MOUNTS), bound to the idle
	 * slots of a booted, restored (bake, snapshot) or pool VM alike. A
	 * VM with mounts cannot be snapshotted or forked (vms_snapshot fails
	 * with ENOTSUP). */
	const struct vm_mount *mounts;
	size_t n_mounts;
	/* Volumes (at most VM_MAX_VOLUMES): such a VM boots cold (a bake or
	 * pool VM has no disk for them), and vms_create fails when one is
	 * attached read-write to another live VM, or read-only to one and
	 * read-write here. */
	const struct vm_volume *volumes;
	size_t n_volumes;
	/* The guest's hostname (an RFC 1123 name the API checked, at most 64
	 * bytes); NULL: its short id, the first 12 digits of its id. */
	const char *hostname;
	/* Its network, published ports and egress policy, effective (the
	 * API merged the request with the daemon's defaults: vm_net.h);
	 * NULL: network none. vms_create fails with -3 when a published host
	 * port overlaps one of another live VM's or cannot be bound. */
	const struct vm_net *net;
};

enum vm_state { VM_STARTING, VM_RUNNING, VM_STOPPING, VM_EXITED, VM_GONE };

const char *vm_state_name(enum vm_state s);

/* Opens DATA/vms.db, marks the previous run's VMs gone and removes their
 * files. */
int vms_open(const struct vms_config *cfg, struct vms **out, char *err, size_t errlen);
/* Kills every worker (SIGKILL) and waits for them to be reaped; VMs
 * created from then on fail at once (the daemon is stopping). */
void vms_kill_all(struct vms *v);
/* vms_kill_all, then frees. */
void vms_close(struct vms *v);

/* Creates and boots (or restores) a VM; see the top of this file. On
 * failure the VM is left exited (its id in id_out when one was made; a
 * pool VM is removed instead) and -1 returned; -2 (and no VM) when one of
 * spec's volumes is held by another VM in a way that excludes this use;
 * -3 (and no VM) when one of its published ports is taken
 * (vms_ports_check). */
int vms_create(struct vms *v, const struct vm_spec *spec, struct vm_rec **out,
	       char *id_out, size_t idlen, char *err, size_t errlen);

/* A running pool VM (VM_KIND_POOL) becomes the user's, as if created by
 * spec: its image name, env, cmd, entrypoint, workdir, user, labels,
 * auto_remove, network settings with published ports (net) and mounts
 * (spec's image_cfg, vcpus and memory_mib must be what it runs): the
 * folders are bound to its idle slots, its file access sealed to them
 * (none without mounts) and the agent mounts them; its network comes up
 * (vm_link_up: its own passt, ports, address). It is listed from now on,
 * saved, and announced (vm.created, vm.started). -1 with err when it is
 * not a running pool VM (it exited meanwhile: try another); -2 with err
 * when its folders or network could not be set up (the caller discards
 * it; another would fail alike); -3 with err when a port of net is
 * published by another live VM or held on the host (vms_ports_check). */
int vms_adopt(struct vms *v, struct vm_rec *r, const struct vm_spec *spec, char *err,
	      size_t errlen);

/* Ends a hidden VM at once (SIGKILL: nothing in it is anyone's) and
 * removes it. */
void vms_discard(struct vms *v, struct vm_rec *r);

/* By id or unique id prefix (4+ characters); hidden VMs are not found.
 * NULL: not found (err says whether it is ambiguous). */
struct vm_rec *vms_get(struct vms *v, const char *id, char *err, size_t errlen);
/* Another reference to r; vm_put drops one. */
struct vm_rec *vm_ref(struct vm_rec *r);
void vm_put(struct vm_rec *r);

/* Every VM but hidden ones (references), for listing; vms_list_free
 * drops them. */
size_t vms_list(struct vms *v, struct vm_rec ***out);
void vms_list_free(struct vm_rec **list, size_t n);

json_t *vm_json(struct vm_rec *r);
/* The same as compact JSON text (malloc'd, *len bytes), made once per
 * change of the VM rather than per request; NULL when out of memory. */
char *vm_json_text(struct vm_rec *r, size_t *len);
enum vm_state vm_state(struct vm_rec *r);
const char *vm_id(const struct vm_rec *r);
bool vm_has_label(struct vm_rec *r, const char *key, const char *value);

/* Its network settings (vm_net.h): fixed once it is created (a pool VM's
 * when vms_adopt hands it out, before anyone else sees it). */
const struct vm_net *vm_net_settings(const struct vm_rec *r);
/* Whether n's published host ports are free: none overlaps a port of a
 * live (starting, running or stopping) VM of this daemon other than self
 * (which may be NULL), and each can be bound on the host now
 * (passt_ports_free). 0, or -1 with err naming the port
 * ("127.0.0.1:8080/tcp is published by VM 3f9c0a1b2c3d4e5f"). vms_create
 * checks it again as the VM joins the list. */
int vms_ports_check(struct vms *v, const struct vm_net *n, const struct vm_rec *self,
		    char *err, size_t errlen);

/* Paths inside the VM's directory. */
const char *vm_vsock_path(const struct vm_rec *r);
const char *vm_console_path(const struct vm_rec *r);
/* A VM restored from a bake: the bake's boot console (DATA/vms/ID/boot.log),
 * which its own console log continues; NULL for others. */
const char *vm_boot_log_path(const struct vm_rec *r);

/* The image's settings merged with the VM's overrides, for exec. */
const struct sm_image_config *vm_image_config(const struct vm_rec *r);
const char *vm_workdir(const struct vm_rec *r);  /* "" when unset */
const char *vm_user(const struct vm_rec *r);     /* "" when unset */
/* Its hostname: the one it was given, else its short id. */
const char *vm_hostname(const struct vm_rec *r);
/* The VM's default command, docker's merge of its entrypoint and cmd
 * with the image's (vms_command.c); NULL-terminated, caller frees the
 * array only. NULL when empty (or out of memory). */
const char **vm_command(const struct vm_rec *r);
/* Whether a VM made from spec (its image_cfg) would have a command. */
bool vm_spec_has_command(const struct vm_spec *spec);
/* Image env, then VM env (later keys win); NULL-terminated, caller frees
 * the array only (strings belong to the record). */
const char **vm_env(const struct vm_rec *r);

/* Stops a VM: the guest powers off through its agent, else the worker is
 * told to stop, else killed. Returns once it has exited. */
int vms_stop(struct vms *v, struct vm_rec *r, char *err, size_t errlen);

/* Removes an exited or gone VM (force: stops a live one first, without
 * the clean poweroff: the VMM is told to stop, else killed; a VM with
 * volumes gets the clean poweroff, so its guest writes them back). -1 with errno
 * EBUSY when it is running and !force. */
int vms_remove(struct vms *v, struct vm_rec *r, bool force, char *err, size_t errlen);

/* Kills the worker with SIGKILL (for tests of crash handling, via the
 * worker pid in vm_json). */
int vm_worker_pid(struct vm_rec *r);

/* The user's VMs (not exited or gone) created from image id. */
size_t vms_using_image(struct vms *v, const char *image_id);

/* Whether a VM (not removed yet, running or not) holds volume name: true
 * with its id in id (len bytes). */
bool vms_volume_user(struct vms *v, const char *name, char *id, size_t len);
/* spec's storage_mib, or the daemon's default for 0. */
unsigned vms_storage_mib(struct vms *v, const struct vm_spec *spec);

/* Counts per state of the user's VMs, for /metrics. */
void vms_count(struct vms *v, size_t counts[VM_GONE + 1]);

#endif

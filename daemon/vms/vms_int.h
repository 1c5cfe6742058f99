/* vms_int.h - what daemon/vms's files share: the registry and a record. */
#ifndef SM_VMS_INT_H
#define SM_VMS_INT_H

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/un.h>

#include "daemon/store/digest.h"
#include "daemon/store/store.h"
#include "daemon/vms/bakes.h"
#include "daemon/vms/snapshots.h"
#include "daemon/vms/upper_disk.h"
#include "daemon/vms/vm_net.h"
#include "daemon/vms/vms.h"
#include "daemon/vms/worker.h"

struct agent_client;

#define VM_ID_LEN 16

struct vms {
	struct vms_config cfg;     /* strings copied */
	char *data_dir, *vmm_path, *kernel, *initrd;
	pthread_mutex_t mu;        /* the list and every record's state */
	struct vm_rec **recs;
	size_t n, cap;
	sqlite3 *db;               /* under mu */
	struct vm_snap **snaps;    /* snapshots (vms_snap.c), under mu */
	size_t n_snaps, cap_snaps;
	char snaps_dir[PATH_MAX - 128]; /* DATA/snapshots (room for NAME and more) */
	char bakes_dir[PATH_MAX - 128]; /* DATA/bakes: the bakes' files */
	char templates_dir[PATH_MAX - 128]; /* DATA/upper-templates (upper_disk.h) */
	/* What a bake's key holds besides the image and size (vms_bake.c):
	 * digests of the kernel, initramfs and VMM, hashed at vms_open. */
	char kernel_digest[SM_DIGEST_LEN], initrd_digest[SM_DIGEST_LEN];
	char vmm_digest[SM_DIGEST_LEN];
	struct bake_job *bakes;    /* bakes under way (under mu) */
	pthread_cond_t bake_cv;    /* a bake finished */
	bool closing;              /* vms_kill_all ran: no new workers */
};

/* One snapshot (snapshots.h). Under vms->mu; freed once unlinked from the
 * list, which never happens while restoring > 0 or while being taken. */
struct vm_snap {
	char name[SNAP_NAME_MAX + 1];
	char *source_vm, *image, *image_id;
	int vcpus;
	unsigned memory_mib;
	unsigned storage_mib;      /* its upper.img's size; 0: none (older snapshots) */
	uint64_t upper_disk_bytes; /* what upper.img takes on disk */
	char **env;                /* the source VM's overrides, NULL-terminated */
	char **cmd;                /* NULL: the image's */
	char **entrypoint;         /* NULL: the image's */
	char *workdir, *user;
	time_t created;
	uint64_t state_bytes, memory_bytes, memory_disk_bytes;
	bool temporary;            /* a fork's: removed with its last VM */
	int fs_slots;              /* the saved VM's idle virtio-fs slots */
	bool ready;                /* false while being taken (the name is held) */
	int restoring;             /* VMs starting from it (and fork's hold) */
	char dir[PATH_MAX];        /* DATA/snapshots/NAME */
};

struct vm_rec {
	int refs;                  /* under vms->mu */
	struct vms *v;
	char id[VM_ID_LEN + 1];
	char *image, *image_id;
	int vcpus;
	unsigned memory_mib;
	unsigned storage_mib;      /* upper.img's size; 0: no disk (tmpfs upper) */
	json_t *labels;            /* object */
	char **env;                /* overrides, NULL-terminated */
	char **cmd;                /* NULL: the image's */
	char **entrypoint;         /* NULL: the image's (vms_command.c) */
	char *workdir, *user;      /* "" when not overridden */
	char hostname[65];         /* the guest's (given, else the short id) */
	struct vm_net net;         /* network, ports, egress (vm_net.h) */
	struct passt *passt;       /* its running passt, or NULL (vms_link.c) */
	char net_status[256];      /* "up", "none", "down: why"... ("" before) */
	char addr4[16];            /* its guest address while its link is up, or "" */
	bool auto_remove;
	enum vm_kind kind;         /* not VM_KIND_USER: hidden (vms.h) */
	bool boot_log;             /* DATA/vms/ID/boot.log: its bake's boot */
	char *from_snapshot;       /* the snapshot it was restored from, or NULL */
	struct vm_mount mounts[VM_MAX_MOUNTS]; /* strings owned */
	size_t n_mounts;
	struct vm_volume volumes[VM_MAX_VOLUMES]; /* strings owned */
	size_t n_volumes;
	char *restore_dir;         /* while starting: that snapshot's directory */
	int fs_slots;              /* virtio-fs slots sm0.. (vms_mounts.c) */
	struct sm_image_config *cfg;  /* copy of the image's (NULL when gone) */
	enum vm_state state;
	time_t created, started, exited;
	int outcome;               /* enum vm_outcome, -1 none */
	char why[256];
	char dir[PATH_MAX];
	char vsock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char console[PATH_MAX + 16];
	char upper[PATH_MAX + 16]; /* DATA/vms/ID/upper.img */
	char boot_log_path[PATH_MAX + 16];
	struct worker *w;
	int pid;
	struct vm_watcher *watcher; /* host changes to the guest, or NULL */
	bool removed;
	char *text;                /* the JSON as compact text, NULL: not made
				      since the last change (rec_changed) */
	size_t text_len;
};

/* vms_rec.c */
struct vm_rec *rec_new(struct vms *v, const struct vm_spec *spec, char *err, size_t errlen);
void rec_free(struct vm_rec *r);
json_t *rec_json_locked(struct vm_rec *r);
/* r's JSON as compact text (cached until rec_changed), or NULL. */
const char *rec_text_locked(struct vm_rec *r, size_t *len);
/* Any field rec_json_locked shows changed: drop the cached text. */
void rec_changed(struct vm_rec *r);
struct vm_rec *rec_from_json(struct vms *v, json_t *j);
int rec_paths(struct vm_rec *r, char *err, size_t errlen);
void rmtree(const char *dir);
/* NULL-terminated string arrays: length (0 for NULL), copy (NULL src: an
 * empty one; NULL on out of memory), free, as JSON (NULL v: []). */
size_t strv_len(const char *const *v);
char **strv_dup(const char *const *src);
void strv_free(char **v);
json_t *strv_to_json(char *const *v);
/* RFC 3339 UTC, or null for 0; and back (0 when absent or malformed). */
json_t *time_to_json(time_t t);
time_t time_from_json(json_t *obj, const char *key);

/* vms_link.c: a running VM's network (see there). Every VM's card has
 * the MAC vm_link_mac gives; on its own passt link its guest address is
 * one of VM_LINK_NET4/VM_LINK_PREFIX4 no other live VM has (r->addr4,
 * vms_link_addr.c), the first VM's VM_LINK_FIRST4. */
#define VM_LINK_NET4 "10.0.0.0"
#define VM_LINK_PREFIX4 16
#define VM_LINK_FIRST4 "10.0.2.15"
#define VM_LINK_GW4 "10.0.2.2"
#define VM_LINK_DNS4 "10.0.2.3"   /* passt forwards it to the host's resolver */
#define VM_LINK_MTU 65520
void vm_link_mac(const struct vm_rec *r, uint8_t mac[6]);
void vm_link_mac_text(const struct vm_rec *r, char out[18]);
/* vms_link_addr.c: gives r (no address yet) the first guest address no
 * other record holds: 0, or -1 with err when every one is taken. */
int link_addr_take_locked(struct vms *v, struct vm_rec *r, char *err, size_t errlen);
/* Gives the running VM (its agent answering; c, or NULL to connect) the
 * network its settings ask for. 0 (a passt that could not start leaves
 * the network down and says so in net_status), or -1 with err. Not with
 * vms->mu held. */
int vm_link_up(struct vms *v, struct vm_rec *r, struct agent_client *c, char *err,
	       size_t errlen);
/* Stops its passt, if any. Not with vms->mu held. */
void vm_link_down(struct vm_rec *r);

/* vms_db.c (callers hold vms->mu) */
int db_open(struct vms *v, char *err, size_t errlen);
void db_save(struct vms *v, struct vm_rec *r);
void db_delete(struct vms *v, const char *id);
/* Loads the previous run's rows as gone records (their files removed). */
int db_load_previous(struct vms *v, char *err, size_t errlen);
int vms_add_rec(struct vms *v, struct vm_rec *r);

/* vms_volumes.c */
/* Copies spec's volumes into r (0, or -1 out of memory); frees them. */
int volumes_copy(struct vm_rec *r, const struct vm_volume *vols, size_t n);
void volumes_free(struct vm_rec *r);
json_t *volumes_json(const struct vm_rec *r);
void volumes_from_json(struct vm_rec *r, json_t *arr);
/* Under mu, before r joins the list: 0, or -1 with err when one of r's
 * volumes is held in a way r's use conflicts with. */
int volumes_check_locked(struct vms *v, const struct vm_rec *r, char *err, size_t errlen);
/* The VMM's --disk arguments for r's volumes (bufs: VM_MAX_VOLUMES), and
 * the kernel command line's "sm.vol=" words telling the guest where to
 * mount them, first_disk being the index of the first volume's disk
 * (0 = vda). */
void volumes_vmm_args(const struct vm_rec *r, char bufs[][PATH_MAX + 4], const char **argv,
		      size_t *a);
void volumes_cmdline(const struct vm_rec *r, unsigned first_disk, char *buf, size_t len);

/* vms_ports.c: vms_ports_check under mu. */
int ports_check_locked(struct vms *v, const struct vm_net *n, const struct vm_rec *self,
		       char *err, size_t errlen);

/* vms_mounts.c */
/* The VMM's --fs and --fs-allow arguments for r into argv at *a (bufs:
 * room for them, VM_MAX_MOUNTS + MOUNTS_MAX_ALLOW strings). */
#define MOUNTS_MAX_ALLOW 4
void mounts_vmm_args(struct vms *v, const struct vm_rec *r,
		     char bufs[][PATH_MAX + 8], const char **argv, size_t *a);
/* Binds r's mounts to its slots, seals, and has the agent mount them
 * (c: a connected agent, or NULL to connect). 0, or -1 with err. */
int mounts_attach(struct vm_rec *r, struct agent_client *c, char *err, size_t errlen);
/* The snapshot's fs_slots (0 when unknown); takes mu. */
int snap_fs_slots(struct vms *v, const char *name);

/* vms_upper.c: r's upper.img, from the template or from its snapshot
 * (restore_dir); nothing when r->storage_mib is 0. 0, or -1 with err. */
int upper_prepare(struct vms *v, struct vm_rec *r, char *err, size_t errlen);
/* The snapshot's storage_mib (0: none, or no such snapshot); takes mu. */
unsigned snap_storage_mib(struct vms *v, const char *name);

/* vms_boot.c */
int boot_start(struct vms *v, struct vm_rec *r, char *err, size_t errlen);
int boot_wait_agent(struct vms *v, struct vm_rec *r, char *err, size_t errlen);

/* vms_watch.c: the watcher thread of a running VM's watched mounts (NULL
 * in *out when none is watched). 0, or -1 with err. Stop it with the
 * lock released (it joins the thread). */
struct vm_watcher;
int vm_watch_start(const struct vm_rec *r, struct vm_watcher **out, char *err, size_t errlen);
void vm_watch_stop(struct vm_watcher *vw);

/* vms_bake.c (see bakes.h) */
/* The bake spec's VMs restore from (made first when missing), held as a
 * restore holds its snapshot (vms_snapshot_release): its name in name, its
 * directory in dir. 0, or -1 with err. */
int bake_acquire(struct vms *v, const struct vm_spec *spec, char name[SNAP_NAME_MAX + 1],
		 char *dir, size_t dirlen, char *err, size_t errlen);
/* The digests of the bake key (vms_open); 0, or -1 with err. */
int bake_digests(struct vms *v, char *err, size_t errlen);
/* Whether bake s's key is this daemon's (under mu). */
bool bake_current_locked(struct vms *v, const struct vm_snap *s);

/* vms_snap.c (see snapshots.h) */
/* DATA/snapshots/NAME, or DATA/bakes/NAME for a bake. */
void snap_dir_for(struct vms *v, const char *name, char *dir, size_t len);
int snaps_open(struct vms *v, char *err, size_t errlen);
void snaps_free(struct vms *v);
/* The ready snapshot called name, or NULL (under mu). */
struct vm_snap *snap_find_locked(struct vms *v, const char *name);
/* Restoring from name begins (under mu): restoring++, its directory in
 * dir. -1 when there is no such ready snapshot. */
int snap_restore_begin_locked(struct vms *v, const char *name, char *dir, size_t len);
/* A VM restored from name was removed or no longer needs its files:
 * removes the snapshot if it is temporary and nothing uses it. Takes mu. */
void snap_maybe_drop(struct vms *v, const char *name);
/* For vms_snap_take.c: a new record from the VM's settings (under mu),
 * its place in the list, its removal after a failed take, its JSON, and
 * the snapshot.created event (takes no reference). */
struct vm_snap *snap_new_locked(struct vm_rec *r, const char *name, bool temporary);
int snap_list_add_locked(struct vms *v, struct vm_snap *s);
void snap_discard_locked(struct vms *v, struct vm_snap *s);
json_t *snap_json_locked(struct vms *v, const struct vm_snap *s);
void snap_publish_created(struct vms *v, json_t *j);

/* vms_snap_db.c (callers hold vms->mu) */
int snap_db_open(struct vms *v, char *err, size_t errlen);
int snap_db_insert(struct vms *v, const struct vm_snap *s, char *err, size_t errlen);
void snap_db_delete(struct vms *v, const char *name);
/* Calls add for each row (a new record, ready). */
int snap_db_load(struct vms *v, int (*add)(struct vms *v, struct vm_snap *s), char *err,
		 size_t errlen);

/* vms.c */
void vms_publish(struct vms *v, struct vm_rec *r, const char *type);
/* Any VM, hidden ones too, by its whole id (under mu); no reference. */
struct vm_rec *rec_find_locked(struct vms *v, const char *id);
void vms_on_exit(struct vm_rec *r, const struct worker_exit *ex);

#endif

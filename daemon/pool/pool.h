/* pool.h - warm pools: restored VMs of an image kept ready before anyone
 * asks for one.
 *
 * A pool belongs to an image name (a reference, kept in its canonical
 * form "docker.io/library/busybox:latest", or an image id) and a VM size
 * (vCPUs, memory). It keeps `min` VMs ready and never has more than `max`
 * alive: ready + restoring + handed out and still running. Its ready VMs
 * are hidden VMs of daemon/vms (VM_KIND_POOL: not listed, not found by
 * id, no events), restored from the image's bake like any VM of it.
 *
 * Acquiring (pools_acquire, from POST /v1/vms) takes the newest ready VM
 * and hands it over with the request's settings and shared folders
 * (vms_adopt: bound to its idle virtio-fs slots, its file access sealed
 * to them; a failure there fails the acquire with its reason): a hit. When
 * none is ready it is a miss: the request gets a plain restore of its own,
 * which is not the pool's, and the pool's target rises by one (up to
 * max). A VM is taken out of the ready list under the pools' mutex, so it
 * is never handed out twice; releasing it is removing it (DELETE
 * /v1/vms/{id}), which the pool sees at its next look (or at once, from
 * pools_kick), and it refills.
 *
 * Each pool has one thread. It resolves the image name in the store
 * (again every 10 s: a tag may move; a pool whose image is missing
 * waits), drops ready VMs that stopped running or no longer fit (another
 * image id or size), restores one VM at a time while ready + restoring is
 * below the target and the pool is below max, and, once nothing was
 * acquired for idle_timeout seconds, sets the target back to min and
 * evicts the ready VMs beyond it that have been ready that long (oldest
 * first; acquiring takes the newest). A failed restore is counted,
 * its error shown, and retried after a backoff (1 s doubling to 60 s).
 * Restores and discards run without the pools' mutex.
 *
 * Pools come from the config file (not saved; they come back at every
 * start) and from the API (saved in DATA/vms.db, table pools, and set up
 * again at start; the config file's win over a saved one of the same
 * image). Removing a pool discards its ready VMs; VMs handed out live on.
 */
#ifndef SM_POOL_H
#define SM_POOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct pools;
struct sm_store;
struct sm_image_config;
struct vms;
struct vm_rec;
struct vm_spec;

#define POOL_MAX_VMS 64
#define POOL_MAX_IDLE_S 86400
#define POOL_DEFAULT_IDLE_S 300

struct pool_settings {
	unsigned min, max;
	unsigned idle_timeout_s;
	int vcpus;                 /* 0 in a config file's: the daemon's default */
	unsigned memory_mib;       /* 0 likewise */
};

/* {"min", "max", "idle_timeout", "vcpus", "memory"} (min and max
 * required; idle_timeout defaults to POOL_DEFAULT_IDLE_S, vcpus and memory
 * to 0) into out, strictly: an unknown key, a wrong type or a value out of
 * range (0 <= min <= max, 1 <= max <= 64, idle_timeout <= 86400, vcpus
 * 1-64, memory 64-1048576 MiB) is an error naming it. */
int pool_settings_parse(json_t *obj, struct pool_settings *out, char *err, size_t errlen);

struct pools_config {
	struct vms *vms;
	struct sm_store *store;
	const char *data_dir;      /* DATA/vms.db keeps the API's pools */
	int default_vcpus;
	unsigned default_memory_mib;
	json_t *config_pools;      /* the config file's {"IMAGE": {settings}}, or NULL */
};

/* Opens the pools' table, starts the saved pools and the config file's. */
int pools_open(const struct pools_config *cfg, struct pools **out, char *err, size_t errlen);

/* The pool key of an image name: a reference's canonical form, or the
 * full id of an image id (prefix), looked up in the store. -1 with err
 * when name is neither (or no image has that id). */
int pools_key(struct pools *p, const char *name, char *key, size_t len, char *err,
	      size_t errlen);

/* Creates or changes the pool of key (pools_key) and saves it; cfg is the
 * image as the store has it now (NULL: looked up by the pool's thread).
 * Returns 1 when created, 0 when changed, -1 with err; *out the pool. */
int pools_set(struct pools *p, const char *key, const struct pool_settings *s,
	      const struct sm_image_config *cfg, json_t **out, char *err, size_t errlen);

/* Every pool: a JSON array; one pool (key), or NULL. */
json_t *pools_json(struct pools *p);
json_t *pool_json(struct pools *p, const char *key);

/* Removes the pool of key: its ready VMs are discarded before it returns.
 * -1 when there is none. *out is the pool as it was. */
int pools_remove(struct pools *p, const char *key, json_t **out);

/* POST /v1/vms of an image: when a pool has spec's image id, vCPUs and
 * memory, a VM from it (hit) or a restore of its own (miss): 0 with *vm,
 * or -1 with err (and the failed VM's id in id_out, if one was made); -2
 * or -3 with err as vms_create and vms_adopt (a name or a published port
 * in use). 1 when no pool matches: the caller creates the VM itself. */
int pools_acquire(struct pools *p, const struct vm_spec *spec, struct vm_rec **vm,
		  char *id_out, size_t idlen, char *err, size_t errlen);

/* image_id left the store: pools of it discard their ready VMs and wait
 * for the image to come back. */
void pools_image_removed(struct pools *p, const char *image_id);

/* A VM changed state (an event): pools look again at once. */
void pools_kick(struct pools *p);

/* No more restores (the daemon is stopping): pools_stop before
 * vms_kill_all, pools_close after it (joins the threads, frees). */
void pools_stop(struct pools *p);
void pools_close(struct pools *p);

#endif

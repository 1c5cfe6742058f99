/* config.h - supermachined's settings and where they come from.
 *
 * Precedence, lowest first: built-in defaults (which depend on whether the
 * daemon runs as root), the JSON config file, the environment
 * (SUPERMACHINE_SOCKET), then command-line flags. The file is strict:
 * an unknown key or a value of the wrong type is an error naming the key,
 * so a typo never silently falls back to a default.
 *
 * Every string in struct sm_config is owned by it (config_free).
 */
#ifndef SM_DAEMON_CONFIG_H
#define SM_DAEMON_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/vms/vm_net.h"

#define CONFIG_DEFAULT_STORAGE_MIB 8192u      /* 8 GiB, sparse */
#define CONFIG_MAX_STORAGE_MIB (1u << 20)     /* 1 TiB */
#define CONFIG_MIN_STORAGE_MIB 64u            /* upper_disk.h's least */
#define CONFIG_STORAGE_LIMIT_MIB (1u << 24)   /* 16 TiB: what the file may say */

struct sm_config {
	char *socket_path;        /* where the API listens */
	char *data_dir;           /* the image store and VM state */
	char *vmm_path;           /* supermachine-vmm, for the KVM probe and VMs */
	char *kernel;             /* the guests' kernel (bzImage) */
	char *initrd;             /* the guests' initramfs (guest/) */
	char *config_file;        /* the file that was read, or NULL */
	int default_vcpus;
	unsigned default_memory_mib;
	/* A VM's writable layer (a sparse ext4 disk file of its own): its size
	 * when a request gives none, and the most a request may ask for. */
	unsigned default_storage_mib, max_storage_mib;
	char **insecure_registries; /* NULL-terminated "host[:port]" list */
	size_t n_insecure;
	size_t max_body_bytes;    /* JSON request bodies */
	size_t max_upload_bytes;  /* image tar uploads */
	unsigned max_connections;
	unsigned connection_timeout_s; /* idle keep-alive connections */
	bool bake;                /* image VMs restore from bakes (default on) */
	struct json_t *pools;     /* "pools": {"IMAGE": {settings}}, checked; or NULL */
	/* "shared_folders": host folders that POST /v1/vms "mounts" may share
	 * (each and everything beneath it), NULL-terminated, absolute.
	 * Default: the home directory of the user the daemon runs as (root:
	 * /root); [] shares nothing. */
	char **shared_folders;
	size_t n_shared;
	/* "network" and "egress": what a VM gets when POST /v1/vms says
	 * nothing, and how far a request may loosen it (config_net.c). */
	struct vm_net_defaults net;
};

/* Fills c with the defaults for this user. argv0_dir is the directory
 * holding the supermachined binary (the VMM is looked for beside it). */
int config_defaults(struct sm_config *c, const char *argv0_dir, char *err, size_t errlen);

/* The config file used when --config is not given, or NULL (caller frees). */
char *config_default_file(void);

/* Merges a JSON config file into c. */
int config_load_file(struct sm_config *c, const char *path, char *err, size_t errlen);

/* Appends an insecure registry (from a flag). */
int config_add_insecure(struct sm_config *c, const char *host, char *err, size_t errlen);

/* Replaces *slot with a copy of value. */
int config_set_str(char **slot, const char *value, char *err, size_t errlen);

/* config_net.c: the file's "network" and "egress" values into c->net. */
int config_load_network(struct sm_config *c, json_t *v, char *err, size_t errlen);
int config_load_egress(struct sm_config *c, json_t *v, char *err, size_t errlen);
int config_load_dns(struct sm_config *c, json_t *v, char *err, size_t errlen);

void config_free(struct sm_config *c);

#endif

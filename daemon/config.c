/* config.c - defaults and the strict JSON config file (see config.h).
 *
 * File format (every key optional):
 *   { "socket": "/run/supermachine/supermachined.sock",
 *     "data_dir": "/var/lib/supermachine",
 *     "vmm": "/usr/libexec/supermachine/supermachine-vmm",
 *     "kernel": "/usr/share/supermachine/vmlinuz",
 *     "initrd": "/usr/share/supermachine/initramfs.cpio",
 *     "default_vcpus": 1, "default_memory_mib": 512,
 *     "default_storage_mib": 8192, "max_storage_mib": 1048576,
 *     "insecure_registries": ["registry.lan:5000"],
 *     "limits": { "max_body_bytes": 1048576, "max_upload_bytes": 8589934592,
 *                 "max_connections": 256, "connection_timeout_s": 300 },
 *     "bake": true,
 *     "shared_folders": ["/home/me", "/srv/projects"],
 *     "network": "outbound",
 *     "egress": { "default": "allow", "deny": ["10.0.0.0/8"], "allow": [],
 *                 "allow_override": true },
 *     "dns": ["192.168.1.1"],
 *     "pools": { "busybox": { "min": 1, "max": 4, "idle_timeout": 300,
 *                             "vcpus": 1, "memory": 512 } } }
 *
 * "default_storage_mib" is the size of a VM's writable layer when POST
 * /v1/vms gives no "storage_mib" (a sparse file: only what the guest
 * writes takes host disk space), "max_storage_mib" the most it may ask
 * for; both 64 to 16777216 (16 TiB), the default at most the maximum.
 * "bake": false boots every VM of an image instead of restoring it from
 * the image's bake (daemon/vms/bakes.h). "pools" are warm pools
 * (daemon/pool/pool.h), checked here as PUT /v1/pools/{image} checks its
 * body; vcpus and memory default to the daemon's defaults.
 * "shared_folders" lists the host folders (each with everything beneath
 * it) that VMs may mount (POST /v1/vms "mounts"); absolute paths. The
 * default is the home directory of the user the daemon runs as (from
 * the passwd database, else $HOME; root's is /root); [] shares nothing.
 * "network" and "egress" are VMs' network defaults (config_net.c).
 */
#include "daemon/config.h"
#include "daemon/pool/pool.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

static int cfg_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int cfg_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int config_set_str(char **slot, const char *value, char *err, size_t errlen)
{
	char *copy = strdup(value);
	if (!copy)
		return cfg_err(err, errlen, "out of memory");
	free(*slot);
	*slot = copy;
	return 0;
}

static char *join_path(const char *a, const char *b)
{
	char *out;
	if (asprintf(&out, "%s/%s", a, b) < 0)
		return NULL;
	return out;
}

/* $XDG_<name> if set and absolute, else $HOME/<fallback>. */
static char *xdg_dir(const char *env, const char *home_rel)
{
	const char *v = getenv(env);
	if (v && v[0] == '/')
		return strdup(v);
	const char *home = getenv("HOME");
	if (!home || home[0] != '/')
		return NULL;
	return join_path(home, home_rel);
}

static char *default_socket(char *err, size_t errlen)
{
	if (geteuid() == 0)
		return strdup("/run/supermachine/supermachined.sock");
	const char *run = getenv("XDG_RUNTIME_DIR");
	if (!run || run[0] != '/') {
		cfg_err(err, errlen, "XDG_RUNTIME_DIR is not set: pass --socket or "
			"set SUPERMACHINE_SOCKET");
		return NULL;
	}
	char *dir = join_path(run, "supermachine");
	char *p = dir ? join_path(dir, "supermachined.sock") : NULL;
	free(dir);
	return p;
}

static char *default_data_dir(char *err, size_t errlen)
{
	if (geteuid() == 0)
		return strdup("/var/lib/supermachine");
	char *base = xdg_dir("XDG_DATA_HOME", ".local/share");
	if (!base) {
		cfg_err(err, errlen, "neither XDG_DATA_HOME nor HOME is set: pass --data-dir");
		return NULL;
	}
	char *p = join_path(base, "supermachine");
	free(base);
	return p;
}

/* The VMM sits beside the daemon once installed, or in vm/ in the build. */
static char *default_vmm(const char *dir)
{
	static const char *const rel[] = { "vm/supermachine-vmm", "supermachine-vmm" };
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		char *p = join_path(dir, rel[i]);
		if (p && access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return join_path(dir, rel[0]);
}

/* The guest kernel and initramfs: in the build tree (our own kernel,
 * cache/microvm/vmlinuz from script/build-guest-kernel, and
 * guest/initramfs-microvm.cpio) or installed under PREFIX/share/supermachine. */
static char *default_guest_file(const char *dir, const char *build_rel, const char *name)
{
	char *p = join_path(dir, build_rel);
	if (p && access(p, R_OK) == 0)
		return p;
	free(p);
	char *share = join_path(dir, "../share/supermachine");
	p = share ? join_path(share, name) : NULL;
	free(share);
	return p;
}

char *config_default_file(void)
{
	if (geteuid() == 0)
		return strdup("/etc/supermachine/supermachined.json");
	char *base = xdg_dir("XDG_CONFIG_HOME", ".config");
	if (!base)
		return NULL;
	char *p = join_path(base, "supermachine/supermachined.json");
	free(base);
	return p;
}

static int default_shared(struct sm_config *c, char *err, size_t errlen);

int config_defaults(struct sm_config *c, const char *argv0_dir, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->default_vcpus = 1;
	c->default_memory_mib = 512;
	c->default_storage_mib = CONFIG_DEFAULT_STORAGE_MIB;
	c->max_storage_mib = CONFIG_MAX_STORAGE_MIB;
	c->max_body_bytes = 1 << 20;
	c->max_upload_bytes = (size_t)8 << 30;
	c->max_connections = 256;
	c->connection_timeout_s = 300;
	c->bake = true;
	vm_net_defaults_init(&c->net);
	c->insecure_registries = calloc(1, sizeof(char *));
	if (!c->insecure_registries)
		return cfg_err(err, errlen, "out of memory");
	if (default_shared(c, err, errlen) < 0)
		return -1;
	const char *env = getenv("SUPERMACHINE_SOCKET");
	c->socket_path = env && *env ? strdup(env) : default_socket(err, errlen);
	if (!c->socket_path)
		return -1;
	c->data_dir = default_data_dir(err, errlen);
	if (!c->data_dir)
		return -1;
	c->vmm_path = default_vmm(argv0_dir);
	c->kernel = default_guest_file(argv0_dir, "../cache/microvm/vmlinuz", "vmlinuz");
	c->initrd = default_guest_file(argv0_dir, "../guest/initramfs-microvm.cpio", "initramfs.cpio");
	if (!c->vmm_path || !c->kernel || !c->initrd)
		return cfg_err(err, errlen, "out of memory");
	return 0;
}

static void free_shared(struct sm_config *c)
{
	for (size_t i = 0; c->shared_folders && i < c->n_shared; i++)
		free(c->shared_folders[i]);
	free(c->shared_folders);
	c->shared_folders = NULL;
	c->n_shared = 0;
}

static int add_shared(struct sm_config *c, const char *path, char *err, size_t errlen)
{
	char **grown = realloc(c->shared_folders, (c->n_shared + 2) * sizeof(char *));
	if (!grown)
		return cfg_err(err, errlen, "out of memory");
	c->shared_folders = grown;
	if (!(grown[c->n_shared] = strdup(path)))
		return cfg_err(err, errlen, "out of memory");
	grown[++c->n_shared] = NULL;
	return 0;
}

/* The home directory of the user we run as: passwd, else $HOME. */
static int default_shared(struct sm_config *c, char *err, size_t errlen)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : getenv("HOME");
	if (!home || home[0] != '/')
		home = geteuid() == 0 ? "/root" : NULL;
	c->shared_folders = calloc(1, sizeof(char *));
	if (!c->shared_folders)
		return cfg_err(err, errlen, "out of memory");
	return home ? add_shared(c, home, err, errlen) : 0;
}

static int load_shared(struct sm_config *c, json_t *arr, char *err, size_t errlen)
{
	size_t i;
	json_t *v;
	if (!json_is_array(arr))
		return cfg_err(err, errlen, "\"shared_folders\": expected an array of absolute paths");
	free_shared(c);
	if (!(c->shared_folders = calloc(1, sizeof(char *))))
		return cfg_err(err, errlen, "out of memory");
	json_array_foreach(arr, i, v) {
		const char *p = json_string_value(v);
		if (!p || p[0] != '/')
			return cfg_err(err, errlen, "\"shared_folders\"[%zu]: expected an absolute path", i);
		if (add_shared(c, p, err, errlen))
			return -1;
	}
	return 0;
}

int config_add_insecure(struct sm_config *c, const char *host, char *err, size_t errlen)
{
	if (!*host || strchr(host, '/'))
		return cfg_err(err, errlen, "insecure registry \"%s\": expected host[:port]", host);
	char **grown = realloc(c->insecure_registries, (c->n_insecure + 2) * sizeof(char *));
	if (!grown)
		return cfg_err(err, errlen, "out of memory");
	c->insecure_registries = grown;
	if (!(grown[c->n_insecure] = strdup(host)))
		return cfg_err(err, errlen, "out of memory");
	grown[++c->n_insecure] = NULL;
	return 0;
}

static int get_uint(json_t *v, const char *key, unsigned long long max,
		    unsigned long long *out, char *err, size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (unsigned long long)json_integer_value(v) > max)
		return cfg_err(err, errlen, "\"%s\": expected an integer from 0 to %llu", key, max);
	*out = (unsigned long long)json_integer_value(v);
	return 0;
}

static int load_limit(struct sm_config *c, const char *key, json_t *v,
		      char *err, size_t errlen)
{
	unsigned long long n;
	if (!strcmp(key, "max_body_bytes")) {
		if (get_uint(v, key, 1ULL << 32, &n, err, errlen))
			return -1;
		c->max_body_bytes = n;
	} else if (!strcmp(key, "max_upload_bytes")) {
		if (get_uint(v, key, 1ULL << 44, &n, err, errlen))
			return -1;
		c->max_upload_bytes = n;
	} else if (!strcmp(key, "max_connections")) {
		if (get_uint(v, key, 65536, &n, err, errlen) || n == 0)
			return cfg_err(err, errlen, "\"%s\": expected 1 to 65536", key);
		c->max_connections = n;
	} else if (!strcmp(key, "connection_timeout_s")) {
		if (get_uint(v, key, 86400, &n, err, errlen))
			return -1;
		c->connection_timeout_s = n;
	} else {
		return cfg_err(err, errlen, "\"limits\": unknown key \"%s\"", key);
	}
	return 0;
}

static int load_limits(struct sm_config *c, json_t *lim, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	if (!json_is_object(lim))
		return cfg_err(err, errlen, "\"limits\": expected an object");
	json_object_foreach(lim, key, v) {
		if (load_limit(c, key, v, err, errlen))
			return -1;
	}
	return 0;
}

static int load_string(char **slot, json_t *v, const char *key, char *err, size_t errlen)
{
	if (!json_is_string(v) || !*json_string_value(v))
		return cfg_err(err, errlen, "\"%s\": expected a non-empty string", key);
	return config_set_str(slot, json_string_value(v), err, errlen);
}

static int load_insecure(struct sm_config *c, json_t *arr, char *err, size_t errlen)
{
	size_t i;
	json_t *v;
	if (!json_is_array(arr))
		return cfg_err(err, errlen, "\"insecure_registries\": expected an array of strings");
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return cfg_err(err, errlen, "\"insecure_registries\"[%zu]: expected a string", i);
		if (config_add_insecure(c, json_string_value(v), err, errlen))
			return -1;
	}
	return 0;
}

/* {"IMAGE": {settings}}, each checked as the API checks one. */
static int load_pools(struct sm_config *c, json_t *v, char *err, size_t errlen)
{
	const char *image;
	json_t *s;
	if (!json_is_object(v))
		return cfg_err(err, errlen, "\"pools\": expected an object of image: settings");
	json_object_foreach(v, image, s) {
		struct pool_settings ps;
		char e[300];
		if (!*image)
			return cfg_err(err, errlen, "\"pools\": an empty image name");
		if (pool_settings_parse(s, &ps, e, sizeof e) < 0)
			return cfg_err(err, errlen, "\"pools\": \"%s\": %s", image, e);
	}
	json_decref(c->pools);
	c->pools = json_incref(v);
	return 0;
}

static int load_key(struct sm_config *c, const char *key, json_t *v, char *err, size_t errlen)
{
	unsigned long long n;
	if (!strcmp(key, "socket"))
		return load_string(&c->socket_path, v, key, err, errlen);
	if (!strcmp(key, "data_dir"))
		return load_string(&c->data_dir, v, key, err, errlen);
	if (!strcmp(key, "vmm"))
		return load_string(&c->vmm_path, v, key, err, errlen);
	if (!strcmp(key, "kernel"))
		return load_string(&c->kernel, v, key, err, errlen);
	if (!strcmp(key, "initrd"))
		return load_string(&c->initrd, v, key, err, errlen);
	if (!strcmp(key, "insecure_registries"))
		return load_insecure(c, v, err, errlen);
	if (!strcmp(key, "limits"))
		return load_limits(c, v, err, errlen);
	if (!strcmp(key, "pools"))
		return load_pools(c, v, err, errlen);
	if (!strcmp(key, "shared_folders"))
		return load_shared(c, v, err, errlen);
	if (!strcmp(key, "network"))
		return config_load_network(c, v, err, errlen);
	if (!strcmp(key, "egress"))
		return config_load_egress(c, v, err, errlen);
	if (!strcmp(key, "dns"))
		return config_load_dns(c, v, err, errlen);
	if (!strcmp(key, "bake")) {
		if (!json_is_boolean(v))
			return cfg_err(err, errlen, "\"bake\": expected true or false");
		c->bake = json_is_true(v);
		return 0;
	}
	if (!strcmp(key, "default_vcpus")) {
		if (get_uint(v, key, 256, &n, err, errlen) || n == 0)
			return cfg_err(err, errlen, "\"%s\": expected 1 to 256", key);
		c->default_vcpus = (int)n;
		return 0;
	}
	if (!strcmp(key, "default_storage_mib") || !strcmp(key, "max_storage_mib")) {
		if (get_uint(v, key, CONFIG_STORAGE_LIMIT_MIB, &n, err, errlen) ||
		    n < CONFIG_MIN_STORAGE_MIB)
			return cfg_err(err, errlen, "\"%s\": expected %u to %u (MiB)", key,
				       CONFIG_MIN_STORAGE_MIB, CONFIG_STORAGE_LIMIT_MIB);
		*(key[0] == 'd' ? &c->default_storage_mib : &c->max_storage_mib) = (unsigned)n;
		return 0;
	}
	if (!strcmp(key, "default_memory_mib")) {
		if (get_uint(v, key, 1 << 20, &n, err, errlen) || n < 16)
			return cfg_err(err, errlen, "\"%s\": expected 16 to %d", key, 1 << 20);
		c->default_memory_mib = (unsigned)n;
		return 0;
	}
	return cfg_err(err, errlen, "unknown key \"%s\"", key);
}

int config_load_file(struct sm_config *c, const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root && jerr.line < 1)
		return cfg_err(err, errlen, "%s", jerr.text);  /* could not read it */
	if (!root)
		return cfg_err(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
	int rc = 0;
	if (!json_is_object(root)) {
		rc = cfg_err(err, errlen, "%s: expected a JSON object", path);
	} else {
		const char *key;
		json_t *v;
		char inner[400] = "";
		json_object_foreach(root, key, v) {
			if (load_key(c, key, v, inner, sizeof inner)) {
				rc = cfg_err(err, errlen, "%s: %s", path, inner);
				break;
			}
		}
	}
	json_decref(root);
	if (rc == 0 && c->default_storage_mib > c->max_storage_mib)
		rc = cfg_err(err, errlen, "%s: \"default_storage_mib\" (%u) is more than "
			     "\"max_storage_mib\" (%u)", path, c->default_storage_mib,
			     c->max_storage_mib);
	if (rc == 0)
		rc = config_set_str(&c->config_file, path, err, errlen);
	return rc;
}

void config_free(struct sm_config *c)
{
	free(c->socket_path);
	free(c->data_dir);
	free(c->vmm_path);
	free(c->kernel);
	free(c->initrd);
	free(c->config_file);
	for (size_t i = 0; i < c->n_insecure; i++)
		free(c->insecure_registries[i]);
	free(c->insecure_registries);
	json_decref(c->pools);
	free_shared(c);
	memset(c, 0, sizeof *c);
}

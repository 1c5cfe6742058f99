/* main.c - supermachined: settings, socket, store, API, and a clean stop.
 *
 * Start-up order matters for a clean failure: settings are resolved and
 * checked first, then the socket is taken (a live daemon's socket is never
 * stolen, so a second daemon stops here), then the store is opened, and
 * only then does the API start serving. Signals are blocked in every
 * thread and taken synchronously by the main thread with sigwait(), so
 * SIGTERM/SIGINT stop the server from ordinary code, never from a signal
 * handler.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/api/api.h"
#include "daemon/api/log.h"
#include "daemon/config.h"
#include "daemon/listen.h"
#include "daemon/sd_notify.h"
#include "daemon/store/store.h"

enum { OPT_PRINT_ROUTES = 256, OPT_VMM, OPT_KERNEL, OPT_INITRD, OPT_VCPUS, OPT_MEMORY, OPT_INSECURE,
       OPT_MAX_BODY, OPT_MAX_UPLOAD, OPT_MAX_CONN, OPT_VERSION, OPT_NO_BAKE };

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "data-dir", required_argument, NULL, 'd' },
	{ "config", required_argument, NULL, 'c' },
	{ "vmm", required_argument, NULL, OPT_VMM },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "insecure-registry", required_argument, NULL, OPT_INSECURE },
	{ "max-body", required_argument, NULL, OPT_MAX_BODY },
	{ "max-upload", required_argument, NULL, OPT_MAX_UPLOAD },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONN },
	{ "no-bake", no_argument, NULL, OPT_NO_BAKE },
	{ "print-routes", no_argument, NULL, OPT_PRINT_ROUTES },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: supermachined [options]\n"
		"  -s, --socket PATH          API socket (default /run/supermachine/"
		"supermachined.sock as root,\n"
		"                             $XDG_RUNTIME_DIR/supermachine/supermachined.sock "
		"otherwise; env SUPERMACHINE_SOCKET)\n"
		"  -d, --data-dir DIR         state (default /var/lib/supermachine or "
		"$XDG_DATA_HOME/supermachine)\n"
		"  -c, --config FILE          JSON settings (default /etc/supermachine/"
		"supermachined.json or\n"
		"                             $XDG_CONFIG_HOME/supermachine/supermachined.json, "
		"if present)\n"
		"      --vmm PATH             supermachine-vmm binary\n"
		"      --kernel PATH          the guests' kernel (bzImage)\n"
		"      --initrd PATH          the guests' initramfs\n"
		"      --vcpus N              default vCPUs per VM\n"
		"      --memory MIB           default memory per VM\n"
		"      --insecure-registry H  allow plain HTTP to host[:port] (repeatable)\n"
		"      --max-body BYTES       largest JSON request body\n"
		"      --max-upload BYTES     largest uploaded image tar\n"
		"      --max-connections N    concurrent client connections\n"
		"      --no-bake              boot every VM of an image instead of restoring it\n"
		"                             from the image's bake (config \"bake\": false)\n"
		"      --print-routes         print the API's routes and exit\n"
		"      --version              print the version and exit\n");
}

static int parse_num(const char *opt, const char *s, unsigned long long min,
		     unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || !*s || *end || *out < min || *out > max) {
		fprintf(stderr, "supermachined: --%s: expected a number from %llu to %llu, "
			"got \"%s\"\n", opt, min, max, s);
		return -1;
	}
	return 0;
}

/* Flags that are not --config; 0, 1 to exit successfully, -1 on error. */
static int apply_flag(struct sm_config *c, int opt, const char *arg, char *err, size_t errlen)
{
	unsigned long long n;
	switch (opt) {
	case 's': return config_set_str(&c->socket_path, arg, err, errlen);
	case 'd': return config_set_str(&c->data_dir, arg, err, errlen);
	case OPT_VMM: return config_set_str(&c->vmm_path, arg, err, errlen);
	case OPT_KERNEL: return config_set_str(&c->kernel, arg, err, errlen);
	case OPT_INITRD: return config_set_str(&c->initrd, arg, err, errlen);
	case OPT_INSECURE: return config_add_insecure(c, arg, err, errlen);
	case OPT_NO_BAKE:
		c->bake = false;
		return 0;
	case OPT_VCPUS:
		if (parse_num("vcpus", arg, 1, 256, &n))
			return -1;
		c->default_vcpus = (int)n;
		return 0;
	case OPT_MEMORY:
		if (parse_num("memory", arg, 16, 1 << 20, &n))
			return -1;
		c->default_memory_mib = (unsigned)n;
		return 0;
	case OPT_MAX_BODY:
		if (parse_num("max-body", arg, 1, 1ULL << 32, &n))
			return -1;
		c->max_body_bytes = n;
		return 0;
	case OPT_MAX_UPLOAD:
		if (parse_num("max-upload", arg, 1, 1ULL << 44, &n))
			return -1;
		c->max_upload_bytes = n;
		return 0;
	case OPT_MAX_CONN:
		if (parse_num("max-connections", arg, 1, 65536, &n))
			return -1;
		c->max_connections = (unsigned)n;
		return 0;
	}
	return 0;
}

/* Defaults, then the file, then the flags. */
static int load_settings(struct sm_config *c, int argc, char **argv)
{
	char err[1024] = "", exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	if (config_defaults(c, n > 0 ? dirname(exe) : ".", err, sizeof err) < 0)
		goto fail;
	const char *file = NULL;
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "s:d:c:h", long_opts, NULL)) != -1)
		if (opt == 'c')
			file = optarg;
	char *dflt = file ? NULL : config_default_file();
	if (file || (dflt && access(dflt, F_OK) == 0))
		if (config_load_file(c, file ? file : dflt, err, sizeof err) < 0) {
			free(dflt);
			goto fail;
		}
	free(dflt);
	optind = 1;
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "s:d:c:h", long_opts, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			fprintf(stderr, "supermachined: see --help\n");
			return -1;
		}
		if (apply_flag(c, opt, optarg, err, sizeof err) < 0)
			goto fail;
	}
	if (optind < argc) {
		fprintf(stderr, "supermachined: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	return 0;
fail:
	if (*err)
		fprintf(stderr, "supermachined: %s\n", err);
	return -1;
}

/* --help, --version and --print-routes need no settings. */
static int early_exit(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--print-routes")) {
			api_print_routes(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("supermachined %s\n", SM_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
	}
	return -1;
}

/* Uploads a crashed daemon left half-read: nothing refers to them. */
static void clean_uploads(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "upload-", 7) && unlinkat(dirfd(d), e->d_name, 0) == 0)
			sm_log("removed a stale upload %s/%s", dir, e->d_name);
	closedir(d);
}

static int make_dirs(const struct sm_config *c)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/uploads", c->data_dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "supermachined: creating %s: %s\n", path, strerror(errno));
	return -1;
}

/* The store, and with its lock the data dir to ourselves: then leftovers
 * of a crashed run can go. */
static struct sm_store *open_store(const struct sm_config *c)
{
	struct sm_store *st;
	char err[1024], uploads[PATH_MAX];
	if (sm_store_open(c->data_dir, &st, err, sizeof err) < 0) {
		fprintf(stderr, "supermachined: opening the store in %s: %s\n", c->data_dir, err);
		return NULL;
	}
	snprintf(uploads, sizeof uploads, "%s/uploads", c->data_dir);
	clean_uploads(uploads);
	return st;
}

static int take_socket(const struct sm_config *c, struct sm_listener *l)
{
	char err[1024];
	int rc = listener_from_systemd(l, err, sizeof err);
	if (rc == 0)
		rc = listener_create(l, c->socket_path, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "supermachined: %s\n", err);
		return -1;
	}
	if (l->replaced_stale)
		sm_log("replaced a stale socket at %s", c->socket_path);
	return 0;
}

static int serve(const struct sm_config *c, struct sm_listener *l, struct sm_store *st,
		 const sigset_t *sigs)
{
	char err[1024];
	struct api_config ac = {
		.socket_path = l->activated ? "(socket activation)" : c->socket_path,
		.data_dir = c->data_dir, .vmm_path = c->vmm_path,
		.kernel = c->kernel, .initrd = c->initrd,
		.insecure_registries = (const char *const *)c->insecure_registries,
		.default_vcpus = c->default_vcpus, .default_memory_mib = c->default_memory_mib,
		.default_storage_mib = c->default_storage_mib,
		.max_storage_mib = c->max_storage_mib,
		.max_body_bytes = c->max_body_bytes, .max_upload_bytes = c->max_upload_bytes,
		.max_connections = c->max_connections,
		.connection_timeout_s = c->connection_timeout_s, .store = st,
		.bake = c->bake, .pools = c->pools,
		.shared_folders = (const char *const *)c->shared_folders,
		.net_defaults = &c->net,
	};
	struct api_server *srv;
	if (api_server_start(&ac, l->fd, &srv, err, sizeof err) < 0) {
		fprintf(stderr, "supermachined: %s\n", err);
		return -1;
	}
	sm_log("%s %s, serving on %s, data in %s", "supermachined", SM_VERSION,
	       ac.socket_path, c->data_dir);
	sd_notify_send("READY=1");
	int sig = 0;
	while (sigwait(sigs, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
		sm_log("signal %d ignored: settings are read at start only", sig);
	sm_log("signal %d: stopping", sig);
	sd_notify_send("STOPPING=1");
	return api_server_stop(srv) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct sm_config c;
	struct sm_listener l;
	struct sm_store *st = NULL;
	sigset_t sigs;

	if (early_exit(argc, argv) == 0)
		return 0;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);  /* inherited by every thread */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);  /* a file size limit is an error, not death */
	if (load_settings(&c, argc, argv) < 0) {
		config_free(&c);
		return 2;
	}
	int rc = 1;
	if (make_dirs(&c) < 0 || take_socket(&c, &l) < 0)
		goto out_config;
	if (!(st = open_store(&c)))
		goto out_socket;
	rc = serve(&c, &l, st, &sigs);
	if (rc != 1)   /* 1: pulls still run and use the store: leave it */
		sm_store_close(st);
	rc = rc < 0 ? 1 : 0;
out_socket:
	listener_close(&l);
out_config:
	config_free(&c);
	return rc;
}

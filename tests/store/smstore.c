/* smstore.c - command-line driver of the store library for the store
 * integration tests (and manual poking): every store.h call is reachable
 * from a shell script, and `fsck` checks the on-disk invariants (every row
 * names a complete, correctly hashed file; refcounts match references).
 *
 *   smstore DIR pull REF [--insecure HOST] [--user U:P] [--docker-config F]
 *                        [--platform OS/ARCH[/VARIANT]] [--parallel N]
 *                        [--retries N] [--delay MS] [--ca-file PEM] [--progress]
 *                        [--cancel-after MS]
 *   smstore DIR pullall REF... (concurrent pulls, one thread each)
 *   smstore DIR import PATH [NAME] [--platform ...] [--ref REF]
 *   smstore DIR ls | inspect NAME | rm NAME | gc | fsck
 */
#include "store.h"
#include "fsck.h"

#include <inttypes.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int cancel_flag;
static long cancel_after_ms;

static void *canceller(void *arg)
{
	struct timespec ts = { cancel_after_ms / 1000, cancel_after_ms % 1000 * 1000000L };

	(void)arg;
	nanosleep(&ts, NULL);
	__atomic_store_n(&cancel_flag, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void on_progress(const struct sm_progress *ev, void *ud)
{
	(void)ud;
	fprintf(stderr, "progress %s %s %" PRIu64 "/%" PRIu64 "\n", ev->digest, ev->phase,
		ev->done, ev->total);
}

static int parse_opts(int argc, char **argv, struct sm_pull_opts *o, const char **insecure,
		      char *userpass)
{
	static char plat[128];
	size_t ni = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--progress")) {
			o->progress = on_progress;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (!strcmp(a, "--insecure") && ni < 7)
			insecure[ni++] = v;
		else if (!strcmp(a, "--user")) {
			snprintf(userpass, 512, "%s", v);
			char *c = strchr(userpass, ':');
			if (!c)
				return -1;
			*c = '\0';
			o->username = userpass;
			o->password = c + 1;
		} else if (!strcmp(a, "--docker-config"))
			o->docker_config = v;
		else if (!strcmp(a, "--ca-file"))
			o->ca_file = v;
		else if (!strcmp(a, "--cancel-after")) {
			cancel_after_ms = atol(v);
			o->cancel = &cancel_flag;
		}
		else if (!strcmp(a, "--platform")) {
			snprintf(plat, sizeof plat, "%s", v);
			o->os = strtok(plat, "/");
			o->arch = strtok(NULL, "/");
			o->variant = strtok(NULL, "/");
		} else if (!strcmp(a, "--ref"))
			o->ref = v;
		else if (!strcmp(a, "--parallel"))
			o->parallel = atoi(v);
		else if (!strcmp(a, "--retries"))
			o->retries = atoi(v);
		else if (!strcmp(a, "--delay"))
			o->retry_delay_ms = (unsigned)atoi(v);
		else
			return -1;
	}
	insecure[ni] = NULL;
	o->insecure = insecure;
	return 0;
}

static void print_strv(const char *key, char **v)
{
	printf("%s=", key);
	for (size_t i = 0; v && v[i]; i++)
		printf("%s%s", i ? " " : "", v[i]);
	printf("\n");
}

static int cmd_inspect(struct sm_store *st, const char *name, char *err, size_t errlen)
{
	struct sm_image_config *c;

	if (sm_store_inspect(st, name, &c, err, errlen) < 0)
		return -1;
	printf("id=%s\nconfig=%s\nos=%s\narch=%s\n", c->manifest_digest, c->config_digest,
	       c->os, c->arch);
	print_strv("entrypoint", c->entrypoint);
	print_strv("cmd", c->cmd);
	for (size_t i = 0; i < c->n_env; i++)
		printf("env=%s\n", c->env[i]);
	printf("workdir=%s\nuser=%s\n", c->workdir, c->user);
	print_strv("ports", c->exposed_ports);
	for (size_t i = 0; i < c->n_layers; i++)
		printf("layer=%s\n", c->layers[i]);
	sm_image_config_free(c);
	return 0;
}

static int cmd_ls(struct sm_store *st, char *err, size_t errlen)
{
	struct sm_image_info *v;
	size_t n;

	if (sm_store_list(st, &v, &n, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		printf("%s %" PRIu64 " ", v[i].id, v[i].size);
		for (size_t t = 0; t < v[i].n_tags; t++)
			printf("%s%s", t ? "," : "", v[i].tags[t]);
		printf("%s\n", v[i].n_tags ? "" : "-");
	}
	sm_image_list_free(v, n);
	return 0;
}

struct pull_job {
	struct sm_store *st;
	const char *ref;
	int rc;
	char err[1024];
};

static void *pull_thread(void *arg)
{
	struct pull_job *j = arg;

	j->rc = sm_store_pull(j->st, j->ref, NULL, NULL, j->err, sizeof j->err);
	return NULL;
}

/* Pulls every ref at once on one store: exercises per-digest claims. */
static int cmd_pullall(struct sm_store *st, int n, char **refs, char *err, size_t errlen)
{
	struct pull_job jobs[16];
	pthread_t t[16];
	int rc = 0;

	if (n > 16)
		n = 16;
	for (int i = 0; i < n; i++) {
		jobs[i] = (struct pull_job){ .st = st, .ref = refs[i] };
		pthread_create(&t[i], NULL, pull_thread, &jobs[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		if (jobs[i].rc < 0 && rc == 0) {
			snprintf(err, errlen, "%s", jobs[i].err);
			rc = -1;
		}
	}
	return rc;
}

static int run(struct sm_store *st, int argc, char **argv, char *err, size_t errlen)
{
	struct sm_pull_opts o = { .retry_delay_ms = 100 };
	const char *insecure[8];
	char userpass[512], id[80];
	const char *cmd = argv[0];

	if (!strcmp(cmd, "pull") && argc >= 2) {
		if (parse_opts(argc - 2, argv + 2, &o, insecure, userpass) < 0)
			return fprintf(stderr, "bad pull options\n"), -2;
		pthread_t t;
		if (o.cancel && pthread_create(&t, NULL, canceller, NULL) == 0)
			pthread_detach(t);
		if (sm_store_pull(st, argv[1], &o, id, err, errlen) < 0)
			return -1;
		return printf("%s\n", id), 0;
	}
	if (!strcmp(cmd, "import") && argc >= 2) {
		int named = argc >= 3 && argv[2][0] != '-';
		if (parse_opts(argc - 2 - named, argv + 2 + named, &o, insecure, userpass) < 0)
			return -2;
		if (sm_store_import(st, argv[1], named ? argv[2] : NULL, &o, id, err, errlen) < 0)
			return -1;
		return printf("%s\n", id), 0;
	}
	if (!strcmp(cmd, "pullall") && argc >= 2)
		return cmd_pullall(st, argc - 1, argv + 1, err, errlen);
	if (!strcmp(cmd, "ls"))
		return cmd_ls(st, err, errlen);
	if (!strcmp(cmd, "inspect") && argc == 2)
		return cmd_inspect(st, argv[1], err, errlen);
	if (!strcmp(cmd, "rm") && argc == 2)
		return sm_store_delete(st, argv[1], err, errlen);
	if (!strcmp(cmd, "gc")) {
		struct sm_gc_stats g;
		if (sm_store_gc(st, &g, err, errlen) < 0)
			return -1;
		printf("blobs=%" PRIu64 " layers=%" PRIu64 " files=%" PRIu64 " bytes=%" PRIu64 "\n",
		       g.blobs_removed, g.layers_removed, g.files_removed, g.bytes_freed);
		return 0;
	}
	fprintf(stderr, "unknown command %s\n", cmd);
	return -2;
}

int main(int argc, char **argv)
{
	char err[2048] = "";
	struct sm_store *st;

	if (argc < 3) {
		fprintf(stderr, "usage: smstore DIR pull|import|ls|inspect|rm|gc|fsck ...\n");
		return 2;
	}
	if (!strcmp(argv[2], "fsck"))
		return sm_test_fsck(argv[1]) == 0 ? 0 : 1;
	if (sm_store_open(argv[1], &st, err, sizeof err) < 0) {
		fprintf(stderr, "error: %s\n", err);
		return 1;
	}
	int rc = run(st, argc - 2, argv + 2, err, sizeof err);
	sm_store_close(st);
	if (rc == -1)
		fprintf(stderr, "error: %s\n", err);
	return rc == 0 ? 0 : rc == -1 ? 1 : 2;
}

/* exec_job.c - what both exec forms share (see exec_job.h). */
#include "daemon/api/exec_job.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "daemon/api/json_in.h"
#include "daemon/api/reply.h"
#include "daemon/api/stream.h"
#include "daemon/api/vms_req.h"
#include "common/agent_client/agent_client.h"
#include "daemon/vms/vms.h"

#define CONNECT_MS 10000
#define ERRLEN 1024
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
static struct exec_job *running;

static struct exec_job *job_new(struct api_req *r, struct vm_rec *vm, json_t *body)
{
	struct exec_job *j = calloc(1, sizeof *j);
	if (!j) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		vm_put(vm);
		json_decref(body);
		return NULL;
	}
	j->srv = r->srv;
	j->vm = vm;
	j->body = body;
	j->stdin_fd = -1;
	j->sock = -1;
	j->refs = 1;
	pthread_mutex_init(&j->mu, NULL);
	return j;
}

void exec_job_unref(struct exec_job *j)
{
	pthread_mutex_lock(&j->mu);
	bool last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (!last)
		return;
	if (j->c)
		agent_client_close(j->c);
	if (j->s)
		stream_unref(j->s);
	vm_put(j->vm);
	if (j->stdin_fd >= 0)
		close(j->stdin_fd);
	free(j->argv);
	free(j->env);
	free(j->cwd);
	free(j->home);
	free(j->hostname);
	json_decref(j->body);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

void exec_job_register(struct exec_job *j)
{
	uint32_t rnd[2] = { 0, 0 };
	clock_gettime(CLOCK_MONOTONIC, &j->t0);
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		rnd[0] = (uint32_t)j->t0.tv_nsec;
	snprintf(j->id, sizeof j->id, "%08x%08x", rnd[0], rnd[1]);
	pthread_mutex_lock(&running_mu);
	j->next = running;
	running = j;
	pthread_mutex_unlock(&running_mu);
}

void exec_job_unregister(struct exec_job *j)
{
	pthread_mutex_lock(&running_mu);
	for (struct exec_job **p = &running; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	pthread_mutex_unlock(&running_mu);
}

int exec_job_with(struct vm_rec *vm, const char *id,
		  int (*fn)(struct exec_job *j, void *arg), void *arg)
{
	int rc = -2;
	pthread_mutex_lock(&running_mu);
	for (struct exec_job *j = running; j; j = j->next)
		if (j->vm == vm && !strcmp(j->id, id)) {
			rc = fn(j, arg);
			break;
		}
	pthread_mutex_unlock(&running_mu);
	return rc;
}

double exec_job_seconds(const struct exec_job *j)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - j->t0.tv_sec) + (double)(t.tv_nsec - j->t0.tv_nsec) / 1e9;
}

int exec_job_stdin(struct api_req *r, struct exec_job *j)
{
	const char *s = jin_str(j->body, "stdin");
	int *fd = &j->stdin_fd;
	unsigned char *data;
	size_t n;
	*fd = -1;
	if (!s)
		return 0;
	if (b64_decode(s, &data, &n) < 0) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"stdin\" must be base64");
		return -1;
	}
	*fd = memfd_create("exec-stdin", MFD_CLOEXEC);
	bool ok = *fd >= 0 && write(*fd, data, n) == (ssize_t)n && lseek(*fd, 0, SEEK_SET) == 0;
	free(data);
	if (!ok) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "stdin buffer: %s",
			    strerror(errno));
		return -1;
	}
	return 0;
}

/* env: the VM's (image + create) with the request's on top. */
static const char **merged_env(struct vm_rec *vm, json_t *extra)
{
	const char **base = vm_env(vm);
	size_t nb = 0, ne = json_array_size(extra);
	while (base && base[nb])
		nb++;
	const char **env = calloc(nb + ne + 2, sizeof *env);
	if (!env || !base) {
		free(base);
		free(env);
		return NULL;
	}
	size_t n = 0;
	for (size_t i = 0; i < nb; i++)
		env[n++] = base[i];
	free(base);
	for (size_t i = 0; i < ne; i++) {
		const char *kv = json_string_value(json_array_get(extra, i));
		size_t k = strcspn(kv, "="), w = 0;
		while (w < n && !(strncmp(env[w], kv, k) == 0 && env[w][k] == '='))
			w++;
		env[w] = kv;
		n += w == n;
	}
	bool has_path = false;
	for (size_t i = 0; i < n; i++)
		has_path |= !strncmp(env[i], "PATH=", 5);
	if (!has_path)
		env[n++] = DEFAULT_PATH;
	return env;
}

/* Fields common to both forms; 0, or -1 after replying 400. */
static int check_body(struct api_req *r, json_t *b)
{
	json_t *argv = json_object_get(b, "argv"), *v;
	size_t i;
	if (argv && json_array_size(argv) == 0) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"argv\" must not be empty");
		return -1;
	}
	json_array_foreach(json_object_get(b, "env"), i, v)
		if (!strchr(json_string_value(v), '=') || json_string_value(v)[0] == '=') {
			reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
				    "field \"env\": \"%s\" is not KEY=VALUE", json_string_value(v));
			return -1;
		}
	json_int_t t = json_integer_value(json_object_get(b, "timeout"));
	if (t > 24 * 3600) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid_field",
			    "field \"timeout\" (seconds) must be at most 86400");
		return -1;
	}
	return 0;
}

struct exec_job *exec_job_open(struct api_req *r, json_t *body)
{
	struct vm_rec *vm = NULL;
	if (check_body(r, body) < 0 || !(vm = req_vm(r)) || req_vm_running(r, vm) < 0) {
		vm_put(vm);
		json_decref(body);
		return NULL;
	}
	return job_new(r, vm, body);
}

/* key=value unless the env has key (docker sets HOSTNAME, and its
 * runtime HOME, so); *kv keeps the string. */
static int add_default(struct exec_job *j, const char *key, const char *value, char **kv)
{
	size_t n = 0, k = strlen(key);
	for (; j->env[n]; n++)
		if (!strncmp(j->env[n], key, k) && j->env[n][k] == '=')
			return 0;
	const char **env = realloc(j->env, (n + 2) * sizeof *env);
	if (env)
		j->env = env;
	if (!env || !(*kv = malloc(k + strlen(value) + 2)))
		return -1;
	sprintf(*kv, "%s=%s", key, value);
	env[n] = *kv;
	env[n + 1] = NULL;
	return 0;
}

/* argv, env, cwd and ids for the job; 0, or -1 after replying. */
int exec_job_prepare(struct api_req *r, struct exec_job *j)
{
	json_t *b = j->body;
	char err[ERRLEN];
	j->argv = json_object_get(b, "argv") ? jin_strv(json_object_get(b, "argv"))
					     : vm_command(j->vm);
	if (!j->argv) {
		reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "no_command",
			    "no argv given and the VM has no command (no entrypoint or cmd)");
		return -1;
	}
	j->env = merged_env(j->vm, json_object_get(b, "env"));
	const char *cwd = jin_str(b, "cwd") ? jin_str(b, "cwd") : vm_workdir(j->vm);
	j->mkcwd = !jin_str(b, "cwd");   /* the VM's WORKDIR is made, as docker does */
	j->cwd = strdup(cwd[0] ? cwd : "/");
	if (!j->env || !j->cwd) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return -1;
	}
	j->c = agent_client_connect(vm_vsock_path(j->vm), SM_AGENT_PORT, CONNECT_MS, err,
				    sizeof err);
	if (!j->c) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "agent_unreachable",
			    "VM %s: %s", vm_id(j->vm), err);
		return -1;
	}
	const char *user = jin_str(b, "user") ? jin_str(b, "user") : vm_user(j->vm);
	struct guest_user u;
	if (resolve_user(j->c, user, &u, err, sizeof err) < 0) {
		reply_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "unknown_user", "%s", err);
		return -1;
	}
	j->uid = u.uid;
	j->gid = u.gid;
	j->ngroups = u.ngroups;
	memcpy(j->groups, u.groups, sizeof j->groups);
	if (add_default(j, "HOME", u.home, &j->home) < 0 ||
	    add_default(j, "HOSTNAME", vm_hostname(j->vm), &j->hostname) < 0) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return -1;
	}
	j->timeout_ms = (uint32_t)json_integer_value(json_object_get(b, "timeout")) * 1000u;
	return 0;
}

json_t *exec_job_error(struct exec_job *j)
{
	uint32_t kind = agent_client_exec_failure(j->c);
	const char *code = kind == SM_EXEC_NOT_FOUND ? "command_not_found"
			 : kind == SM_EXEC_NOT_EXECUTABLE ? "command_not_executable"
			 : "exec_failed";
	return error_obj(code, agent_client_error(j->c));
}

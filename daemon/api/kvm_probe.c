/* kvm_probe.c - run `supermachine-vmm --probe` and cache its verdict
 * (see kvm_probe.h). */
#include "daemon/api/kvm_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PROBE_TIMEOUT_MS 60000
#define PROBE_OUT_MAX 8192

struct kvm_probe {
	pthread_mutex_t mu;
	char *vmm;
	unsigned ttl_s;
	time_t checked;      /* monotonic seconds of the last result */
	json_t *status;      /* last result, NULL before the first */
	bool running;        /* a probe thread exists (join it) */
	bool stopping;
	pid_t child;         /* the probe process while it runs, else 0 */
	pthread_t thread;
};

struct kvm_probe *kvm_probe_new(const char *vmm_path, unsigned ttl_s)
{
	struct kvm_probe *p = calloc(1, sizeof *p);
	if (!p || !(p->vmm = strdup(vmm_path))) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	p->ttl_s = ttl_s;
	return p;
}

void kvm_probe_free(struct kvm_probe *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	if (p->child > 0)
		kill(-p->child, SIGKILL);  /* the probe may take a minute */
	bool join = p->running;
	pthread_mutex_unlock(&p->mu);
	if (join)
		pthread_join(p->thread, NULL);
	json_decref(p->status);
	pthread_mutex_destroy(&p->mu);
	free(p->vmm);
	free(p);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Reads the child's combined output until EOF or the deadline. */
static size_t read_output(int fd, char *buf, size_t cap, bool *timed_out)
{
	size_t len = 0;
	long deadline = now_ms() + PROBE_TIMEOUT_MS;
	*timed_out = false;
	for (;;) {
		long left = deadline - now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (left <= 0) {
			*timed_out = true;
			break;
		}
		int n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		char tmp[1024];
		ssize_t r = read(fd, tmp, sizeof tmp);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t take = (size_t)r < cap - 1 - len ? (size_t)r : cap - 1 - len;
		memcpy(buf + len, tmp, take);
		len += take;
	}
	buf[len] = 0;
	return len;
}

/* Starts `vmm --probe` in its own process group with stdout and stderr
 * on out_fd; 0 or an errno. Not once stopping. */
static int spawn_probe(struct kvm_probe *p, int out_fd, pid_t *pid)
{
	char *argv[] = { p->vmm, (char *)"--probe", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP); /* kill it whole */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	pthread_mutex_lock(&p->mu);
	int rc = p->stopping ? ECANCELED : posix_spawn(pid, p->vmm, &fa, &attr, argv, environ);
	if (rc == 0)
		p->child = *pid;
	pthread_mutex_unlock(&p->mu);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return rc;
}

/* Runs the probe: exit status (or -1 with why in out) and its output. */
static int run_probe(struct kvm_probe *p, char *out, size_t cap, bool *timed_out)
{
	int pipefd[2], st;
	pid_t pid;
	*timed_out = false;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(out, cap, "pipe: %s", strerror(errno));
		return -1;
	}
	int rc = spawn_probe(p, pipefd[1], &pid);
	close(pipefd[1]);
	if (rc != 0) {
		close(pipefd[0]);
		snprintf(out, cap, "cannot run %s: %s", p->vmm, strerror(rc));
		return -1;
	}
	read_output(pipefd[0], out, cap, timed_out);
	close(pipefd[0]);
	if (*timed_out)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&p->mu);
	p->child = 0;
	pthread_mutex_unlock(&p->mu);
	if (WIFSIGNALED(st) && !*timed_out) {
		snprintf(out, cap, "%s --probe was killed by signal %d", p->vmm, WTERMSIG(st));
		return -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static json_t *first_line(const char *text)
{
	size_t n = strcspn(text, "\n");
	return json_stringn(text, n);
}

static json_t *probe_now(struct kvm_probe *p)
{
	char out[PROBE_OUT_MAX];
	bool timed_out;
	int rc = run_probe(p, out, sizeof out, &timed_out);
	json_t *st = json_pack("{s:b,s:s}", "usable", rc == 0, "vmm", p->vmm);
	json_t *details = json_loads(out, 0, NULL);
	if (details && json_is_object(details)) {
		json_t *why = json_object_get(details, "reason");
		if (json_is_string(why))
			json_object_set(st, "reason", why);
		else
			json_object_set_new(st, "reason", json_string(rc == 0 ? "" : "unknown"));
		json_object_set_new(st, "details", details);
	} else {
		json_decref(details);
		if (timed_out)
			json_object_set_new(st, "reason", json_string("the probe timed out"));
		else if (!*out && rc > 0)
			json_object_set_new(st, "reason", json_sprintf("probe exited %d", rc));
		else
			json_object_set_new(st, "reason", first_line(out));
	}
	return st;
}

static void *probe_thread(void *arg)
{
	struct kvm_probe *p = arg;
	json_t *st = probe_now(p);
	time_t wall = time(NULL);
	struct tm tm;
	struct timespec ts;
	char when[32];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&wall, &tm));
	json_object_set_new(st, "checked_at", json_string(when));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&p->mu);
	json_decref(p->status);
	p->status = st;
	p->checked = ts.tv_sec;
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Starts a probe unless one runs; called with mu held. */
static void start_locked(struct kvm_probe *p)
{
	if (p->stopping)
		return;
	if (p->running) {
		if (pthread_tryjoin_np(p->thread, NULL) != 0)
			return;   /* still probing */
		p->running = false;
	}
	if (pthread_create(&p->thread, NULL, probe_thread, p) == 0)
		p->running = true;
}

void kvm_probe_start(struct kvm_probe *p)
{
	pthread_mutex_lock(&p->mu);
	start_locked(p);
	pthread_mutex_unlock(&p->mu);
}

json_t *kvm_probe_status(struct kvm_probe *p)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&p->mu);
	if (!p->status || ts.tv_sec - p->checked >= (time_t)p->ttl_s)
		start_locked(p);   /* meanwhile the last result (or "pending") stands */
	json_t *st = p->status ? json_deep_copy(p->status)
		     : json_pack("{s:b,s:b,s:s,s:s}", "usable", 0, "pending", 1, "vmm", p->vmm,
				 "reason", "the KVM probe is still running");
	pthread_mutex_unlock(&p->mu);
	return st;
}

/* test_worker.c - the daemon's worker supervision (daemon/vms/worker.h)
 * with a real jailed process (jailed_peer.c, inside the VMM's own seccomp
 * jail) at the other end of the channel: how each way a worker ends is
 * reported to on_exit.
 *   - a jail kill: "worker killed by SIGSYS: execve (system call 59),
 *     forbidden by its jail", outcome -1, and the peer's own stderr line;
 *   - SIGKILL from the daemon: "worker killed by SIGKILL";
 *   - a guest that powered off: outcome 0 and the VMM's reason.
 */
#include "../check_main.h"
#include "daemon/vms/worker.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool ready, exited;
	struct worker_exit ex;
} seen = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, { 0 } };

static void on_ready(void *ud)
{
	(void)ud;
	pthread_mutex_lock(&seen.mu);
	seen.ready = true;
	pthread_cond_broadcast(&seen.cv);
	pthread_mutex_unlock(&seen.mu);
}

static void on_exit_hook(void *ud, const struct worker_exit *ex)
{
	(void)ud;
	pthread_mutex_lock(&seen.mu);
	seen.ex = *ex;
	seen.exited = true;
	pthread_cond_broadcast(&seen.cv);
	pthread_mutex_unlock(&seen.mu);
}

static char log_path[64];

/* Start jailed_peer MODE as a worker; its stderr goes to log_path. */
static struct worker *start(const char *mode)
{
	const char *peer = getenv("JAILED_PEER");
	ck_assert_msg(peer != NULL, "JAILED_PEER is not set (run through meson test)");
	seen.ready = seen.exited = false;
	strcpy(log_path, "/tmp/sm-worker-test-XXXXXX");
	int fd = mkstemp(log_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	const char *argv[] = { mode, NULL };
	struct worker_hooks hooks = { .on_ready = on_ready, .on_exit = on_exit_hook };
	struct worker *w = NULL;
	char err[256];
	ck_assert_msg(worker_start(peer, argv, log_path, &hooks, &w, err, sizeof(err)) == 0,
		      "worker_start: %s", err);
	return w;
}

static void wait_for(bool *flag)
{
	pthread_mutex_lock(&seen.mu);
	while (!*flag)
		pthread_cond_wait(&seen.cv, &seen.mu);
	pthread_mutex_unlock(&seen.mu);
}

static void finish(struct worker *w)
{
	ck_assert(worker_wait(w, 20000));
	wait_for(&seen.exited);
	worker_free(w);
}

START_TEST(jail_kill_names_the_call)
{
	struct worker *w = start("forbidden");
	finish(w);
	char want[128];
	snprintf(want, sizeof(want), "worker killed by SIGSYS: execve (system call %d), "
		 "forbidden by its jail", SYS_execve);
	ck_assert_int_eq(seen.ex.outcome, -1);
	ck_assert_str_eq(seen.ex.why, want);
	ck_assert(WIFSIGNALED(seen.ex.wait_status) && WTERMSIG(seen.ex.wait_status) == SIGSYS);
	char buf[512] = "";
	FILE *f = fopen(log_path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	unlink(log_path);
	snprintf(want, sizeof(want), "jail: forbidden system call %d (execve)", SYS_execve);
	ck_assert_msg(strstr(buf, want), "worker's stderr: %s", buf);
}
END_TEST

START_TEST(sigkill_is_reported)
{
	struct worker *w = start("wait");
	wait_for(&seen.ready);
	worker_kill(w);
	finish(w);
	unlink(log_path);
	ck_assert_int_eq(seen.ex.outcome, -1);
	ck_assert_str_eq(seen.ex.why, "worker killed by SIGKILL");
}
END_TEST

START_TEST(guest_poweroff_is_the_outcome)
{
	struct worker *w = start("poweroff");
	finish(w);
	unlink(log_path);
	ck_assert_int_eq(seen.ex.outcome, 0);
	ck_assert_str_eq(seen.ex.why, "guest powered off (ACPI S5)");
	ck_assert(WIFEXITED(seen.ex.wait_status) && WEXITSTATUS(seen.ex.wait_status) == 0);
}
END_TEST

static Suite *worker_suite(void)
{
	Suite *s = suite_create("worker");
	TCase *tc = tcase_create("worker");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, jail_kill_names_the_call);
	tcase_add_test(tc, sigkill_is_reported);
	tcase_add_test(tc, guest_poweroff_is_the_outcome);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(worker_suite)

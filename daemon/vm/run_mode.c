/* run_mode.c - `supermachine-vmm ... -- CMD ARGS` (run_mode.h), main thread.
 *
 * Builds and runs the VM in the same steps as main.c's plain and worker
 * modes (vm_create, virtio_devices_attach, vm_boot, vm_run), with a vsock
 * device on a private socket unless --vsock names one, while
 * run_agent_thread() (run_agent.c) waits for the agent and runs CMD. When
 * vm_run() returns, vm_ended is set and the devices freed before the agent
 * thread is joined: the closed vsock connections wake whatever it waits on.
 * Then one decision: CMD's status if it finished, else ours with a message.
 *
 * The jail (jail.h) cannot remove files, so the private socket directory
 * goes before the guest runs: an O_PATH handle keeps the bound socket
 * reachable as /proc/self/fd/N, and a run killed at any point leaves
 * nothing behind in /tmp.
 */
#include "debug_dump.h"
#include "jail.h"
#include "run_mode_int.h"

#include "agent_client.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh directory holding the socket: nobody else can be at that path. */
static int make_sock(struct run *r, struct vm_err *err)
{
	if (r->o->dev.vsock_path) {
		if (strlen(r->o->dev.vsock_path) >= sizeof(r->sock))
			return vm_errf(err, "--vsock %s: path too long", r->o->dev.vsock_path);
		strcpy(r->sock, r->o->dev.vsock_path);
		return 0;
	}
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !tmp[0] || strlen(tmp) > 60)
		tmp = "/tmp";
	snprintf(r->tmpdir, sizeof(r->tmpdir), "%s/smvmm.XXXXXX", tmp);
	if (!mkdtemp(r->tmpdir)) {
		vm_errno(err, "creating a directory for the vsock socket in %s", tmp);
		r->tmpdir[0] = 0;
		return -1;
	}
	snprintf(r->sock, sizeof(r->sock), "%s/vsock", r->tmpdir);
	return 0;
}

/* Once the device listens on our private socket: reach it through an
 * O_PATH handle and remove the socket and its directory. */
static int hide_sock(struct run *r, struct vm_err *err)
{
	struct stat st;
	if (!r->tmpdir[0])
		return 0;
	r->sock_fd = open(r->sock, O_PATH | O_CLOEXEC);
	if (r->sock_fd < 0)
		return vm_errno(err, "opening %s", r->sock);
	unlink(r->sock);
	rmdir(r->tmpdir);
	r->tmpdir[0] = 0;
	snprintf(r->sock, sizeof(r->sock), "/proc/self/fd/%d", r->sock_fd);
	if (stat(r->sock, &st) < 0 || !S_ISSOCK(st.st_mode))
		return vm_errf(err, "%s is not our vsock socket (is /proc mounted?)", r->sock);
	return 0;
}

static void print_exec_stats(const struct run *r)
{
	static const char *const kind[VIRTIO_KINDS] = { "blk", "rng", "vsock", "fs", "net" };
	uint64_t n = 0, i = 0;
	char per[160] = "";
	size_t off = 0;
	for (int k = 0; k < VIRTIO_KINDS; k++) {
		uint64_t dn = r->cnt[1].notify[k] - r->cnt[0].notify[k];
		uint64_t di = r->cnt[1].irq[k] - r->cnt[0].irq[k];
		n += dn;
		i += di;
		off += (size_t)snprintf(per + off, sizeof(per) - off, " %s=%llu/%llu", kind[k],
					(unsigned long long)dn, (unsigned long long)di);
	}
	fprintf(stderr, "supermachine-vmm: run: agent answered %lld ms after start, exec took "
		"%lld ms\n", (long long)(r->t_agent - r->t_start),
		(long long)(r->t_done - r->t_agent));
	fprintf(stderr, "supermachine-vmm: exec: virtio notifications=%llu interrupts=%llu "
		"(notifications/interrupts:%s)\n", (unsigned long long)n, (unsigned long long)i,
		per);
	uint64_t exits[VM_EXITK_COUNT];
	for (int k = 0; k < VM_EXITK_COUNT; k++)
		exits[k] = r->exits[1][k] - r->exits[0][k];
	vm_print_exits("exec: kvm exits", exits);
}

static void print_totals(struct vm *vm, const struct virtio_devices *devs)
{
	uint64_t n[VM_EXITK_COUNT];
	vm_exit_stats(vm, n);
	vm_print_exits("kvm exits", n);
	virtio_devices_stats(devs);
}

/* The exit status, with one line on stderr when it is ours or the VM ended
 * oddly after CMD finished. */
static int decide(struct run *r, enum vm_outcome out, const char *vm_why)
{
	const char *log = r->o->vm.console_log;
	char where[300] = "";
	if (log)
		snprintf(where, sizeof(where), " (console: %s)", log);
	if (r->interrupted && (r->status == RUN_NO_AGENT || r->status == RUN_VM_ENDED)) {
		fprintf(stderr, "supermachine-vmm: interrupted by signal %d; VM stopped\n",
			r->interrupted);
		return 128 + r->interrupted;
	}
	if (r->status == RUN_NO_EXEC) { /* the VM itself went on and powered off */
		fprintf(stderr, "supermachine-vmm: %s\n", r->msg);
		return r->status;
	}
	if (r->status == RUN_NO_AGENT || r->status == RUN_VM_ENDED) {
		if (strcmp(vm_why, r->msg) == 0) /* we stopped it, for this reason */
			fprintf(stderr, "supermachine-vmm: %s%s\n", r->msg, where);
		else
			fprintf(stderr, "supermachine-vmm: %s; VM: %s: %s%s\n", r->msg,
				vm_outcome_name(out), vm_why, where);
		return r->status;
	}
	if (out != VM_POWEROFF || r->msg[0])
		fprintf(stderr, "supermachine-vmm: warning: %s finished, but %s%s\n",
			r->o->run_argv[0], r->msg[0] ? r->msg : vm_why, where);
	return r->status;
}

static int run_vm(struct run *r, struct vm *vm, struct virtio_devices *devs)
{
	struct virtio_opts dev = r->o->dev;
	struct vm_err err = { "" };
	pthread_t agent;
	struct jail_folders folders;
	dev.vsock_path = r->sock;
	virtio_opts_folders(&dev, &folders);
	/* A closed socket (the VM ended) or a reader of our output that went
	 * away is an EPIPE to handle, not a reason to die: agent_run turns the
	 * latter into SIGPIPE for the guest command, as a local pipe would. */
	signal(SIGPIPE, SIG_IGN);
	r->vm = vm;
	r->devs = devs;
	if (vm_create(vm, &r->o->vm, &err) < 0 || virtio_devices_attach(vm, &dev, devs, &err) < 0 ||
	    hide_sock(r, &err) < 0 || vm_boot(vm, &err) < 0 || run_signals_start(r, &err) < 0 ||
	    vm_debug_dump_start(vm, devs, &err) < 0 ||
	    (!r->o->no_jail && vm_jail_enter(-1, &folders, &err) < 0) ||
	    (errno = pthread_create(&agent, NULL, run_agent_thread, r)) != 0) {
		if (!err.msg[0])
			vm_errno(&err, "starting the agent thread");
		fprintf(stderr, "supermachine-vmm: %s\n", err.msg);
		run_signals_stop();
		return RUN_SETUP;
	}
	enum vm_outcome out = vm_run(vm, &err);
	pthread_mutex_lock(&r->mu);
	r->vm_ended = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (r->o->stats)
		print_totals(vm, devs);
	vm_debug_dump_stop();
	virtio_devices_free(vm, devs); /* closes the vsock connections */
	pthread_join(agent, NULL);
	run_signals_stop();
	if (r->o->stats && r->counted)
		print_exec_stats(r);
	return decide(r, out, err.msg);
}

int run_mode(const struct options *o)
{
	struct run r = { .o = o, .sock_fd = -1 };
	struct vm vm;
	struct virtio_devices devs = { 0 };
	struct vm_err err = { "" };
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r.cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&r.mu, NULL);
	r.t_start = run_now_ms();
	int status;
	if (make_sock(&r, &err) < 0) {
		fprintf(stderr, "supermachine-vmm: %s\n", err.msg);
		status = RUN_SETUP;
	} else {
		memset(&vm, 0, sizeof(vm));
		status = run_vm(&r, &vm, &devs);
		vm_debug_dump_stop();
		virtio_devices_free(&vm, &devs); /* no-op unless setup failed */
		vm_destroy(&vm);
	}
	if (r.tmpdir[0]) { /* setup failed before hide_sock */
		unlink(r.sock);
		rmdir(r.tmpdir);
	}
	if (r.sock_fd >= 0)
		close(r.sock_fd);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	return status;
}

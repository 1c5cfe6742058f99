/* vm_run.c - run a booted VM to its end; device-facing helpers (vm.h).
 *
 * vm_run() starts the device thread (the event loop) and one thread per
 * vCPU, supervises them (vm_control.c), then joins everything and decides
 * the outcome. A guest that panicked and then reset, faulted, halted or ran
 * into the timeout is reported as a panic: that is what happened first.
 */
#include "serial.h"
#include "vcpu.h"
#include "vm.h"
#include "vm_control.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char *const outcome_names[] = {
	[VM_POWEROFF] = "poweroff", [VM_ERROR] = "error", [VM_BAD_USAGE] = "usage",
	[VM_REBOOT] = "reboot", [VM_TRIPLE_FAULT] = "triple-fault", [VM_PANIC] = "panic",
	[VM_INTERNAL_ERROR] = "kvm-internal-error", [VM_TIMEOUT] = "timeout",
	[VM_HALTED] = "halted",
};

const char *vm_outcome_name(enum vm_outcome o)
{
	return (unsigned)o < sizeof(outcome_names) / sizeof(outcome_names[0]) && outcome_names[o]
		       ? outcome_names[o] : "unknown";
}

static const char *const exit_kind_names[VM_EXITK_COUNT] = {
	[VM_EXITK_IO] = "io", [VM_EXITK_MMIO] = "mmio", [VM_EXITK_HLT] = "hlt",
	[VM_EXITK_INTR] = "intr", [VM_EXITK_SHUTDOWN] = "shutdown",
	[VM_EXITK_SYSTEM_EVENT] = "system_event", [VM_EXITK_OTHER] = "other",
};

const char *vm_exit_kind_name(enum vm_exit_kind k)
{
	return (unsigned)k < VM_EXITK_COUNT ? exit_kind_names[k] : "unknown";
}

void vm_print_exits(const char *label, const uint64_t counts[VM_EXITK_COUNT])
{
	fprintf(stderr, "supermachine-vmm: %s:", label);
	for (int k = 0; k < VM_EXITK_COUNT; k++)
		fprintf(stderr, " %s=%llu", vm_exit_kind_name(k), (unsigned long long)counts[k]);
	fprintf(stderr, "\n");
}

void vm_exit_stats(const struct vm *vm, uint64_t counts[VM_EXITK_COUNT])
{
	memset(counts, 0, sizeof(uint64_t) * VM_EXITK_COUNT);
	for (int i = 0; i < vm->nvcpus; i++)
		for (int k = 0; k < VM_EXITK_COUNT; k++)
			counts[k] += __atomic_load_n(&vm->vcpus[i].exits[k], __ATOMIC_RELAXED);
}

int vm_add_virtio_slot(struct vm *vm, uint64_t *base, uint32_t *gsi)
{
	if (vm->nslots >= VM_MAX_VIRTIO_SLOTS) {
		errno = ENOSPC;
		return -1;
	}
	struct virtio_slot *s = &vm->slots[vm->nslots];
	s->base = VM_VIRTIO_MMIO_BASE + (uint64_t)vm->nslots * VM_VIRTIO_MMIO_SIZE;
	s->size = VM_VIRTIO_MMIO_SIZE;
	s->gsi = VM_VIRTIO_GSI_BASE + vm->nslots;
	vm->nslots++;
	*base = s->base;
	*gsi = s->gsi;
	return 0;
}

int vm_irqfd(struct vm *vm, uint32_t gsi)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -1;
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi };
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, int64_t datamatch)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -1;
	struct kvm_ioeventfd io = { .addr = addr, .len = len, .fd = fd };
	if (datamatch >= 0) {
		io.datamatch = (uint64_t)datamatch;
		io.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
	}
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void kick_handler(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

static int install_kick_signal(struct vm_err *err)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_KICK, &sa, NULL) < 0)
		return vm_errno(err, "sigaction");
	return 0;
}

static void *device_thread(void *arg)
{
	struct vm *vm = arg;
	if (event_loop_run(vm->loop) < 0 && !vm_control_stopping(vm->ctl))
		vm_request_stop(vm, VM_ERROR, "device event loop failed");
	return NULL;
}

static int start_threads(struct vm *vm, struct vm_err *err)
{
	struct vm_control *c = vm->ctl;
	int e = pthread_create(&c->device_thread, NULL, device_thread, vm);
	if (e) {
		errno = e;
		return vm_errno(err, "starting the device thread");
	}
	c->device_started = true;
	c->running = vm->nvcpus;
	for (int i = 0; i < vm->nvcpus; i++) {
		if (vcpu_start(&vm->vcpus[i], err) < 0) {
			pthread_mutex_lock(&c->lock);
			c->running -= vm->nvcpus - i;
			pthread_mutex_unlock(&c->lock);
			return -1;
		}
	}
	return 0;
}

static void join_threads(struct vm *vm)
{
	for (int i = 0; i < vm->nvcpus; i++) {
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
		vm->vcpus[i].started = false;
	}
	if (vm->ctl->device_started) {
		event_loop_stop(vm->loop);
		pthread_join(vm->ctl->device_thread, NULL);
		vm->ctl->device_started = false;
	}
}

static enum vm_outcome final_outcome(struct vm *vm, struct vm_err *err)
{
	struct vm_control *c = vm->ctl;
	enum vm_outcome o = c->outcome;
	bool ended = false;
	if (o != VM_POWEROFF && o != VM_PANIC && o != VM_ERROR &&
	    serial_panicked(vm->serial, &ended)) {
		vm_errf(err, "guest kernel panicked (then: %s)", c->why);
		return VM_PANIC;
	}
	vm_errf(err, "%s", c->why);
	return o;
}

enum vm_outcome vm_run(struct vm *vm, struct vm_err *err)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* only vCPU threads take kicks */
	if (install_kick_signal(err) < 0)
		return VM_ERROR;
	if (start_threads(vm, err) < 0) {
		char msg[sizeof(err->msg)];
		memcpy(msg, err->msg, sizeof(msg));
		vm_request_stop(vm, VM_ERROR, msg);
	} else {
		vm_supervise(vm);
	}
	join_threads(vm);
	serial_flush(vm->serial);
	return final_outcome(vm, err);
}

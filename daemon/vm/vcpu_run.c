/* vcpu_run.c - the KVM_RUN loop of one vCPU thread.
 *
 * The thread only enters KVM_RUN; every way out is one of:
 *   I/O or MMIO exit   dispatched to vm->pio / vm->mmio, then re-enter;
 *   EINTR              a kick (immediate_exit + SIG_KICK): KVM completed any
 *                      pending I/O first, so the vCPU is at an instruction
 *                      boundary; park if a pause or stop is requested;
 *   an ending exit     SHUTDOWN (triple fault), SYSTEM_EVENT, INTERNAL_ERROR,
 *                      FAIL_ENTRY, or an exit we do not handle: ask the VM to
 *                      stop with the matching outcome and park.
 */
#include "vcpu.h"
#include "vm_control.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

static void handle_io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	bool out = r->io.direction == KVM_EXIT_IO_OUT;
	for (uint32_t i = 0; i < r->io.count; i++, data += r->io.size)
		io_bus_dispatch(&v->vm->pio, r->io.port, data, r->io.size, out);
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	io_bus_dispatch(&v->vm->mmio, r->mmio.phys_addr, r->mmio.data, r->mmio.len,
			r->mmio.is_write);
}

static uint64_t vcpu_rip(struct vcpu *v)
{
	struct kvm_regs regs;
	return ioctl(v->fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
}

static void stop_with(struct vcpu *v, enum vm_outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void stop_with(struct vcpu *v, enum vm_outcome o, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vm_request_stop(v->vm, o, msg);
}

static void handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		stop_with(v, VM_POWEROFF, "guest powered off (system event)");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		stop_with(v, VM_REBOOT, "guest reset the machine (system event)");
		break;
	case KVM_SYSTEM_EVENT_CRASH:
		stop_with(v, VM_PANIC, "guest crashed (system event)");
		break;
	default:
		stop_with(v, VM_INTERNAL_ERROR, "unknown system event %u",
			  v->run->system_event.type);
	}
}

/* Returns false when the exit ends the VM. */
static bool handle_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		v->exits[VM_EXITK_IO]++;
		handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		v->exits[VM_EXITK_MMIO]++;
		handle_mmio(v);
		return true;
	case KVM_EXIT_INTR:
		v->exits[VM_EXITK_INTR]++;
		return true;
	case KVM_EXIT_HLT:
		v->exits[VM_EXITK_HLT]++;
		stop_with(v, VM_HALTED, "vCPU %d halted (no in-kernel LAPIC to wake it)", v->id);
		return false;
	case KVM_EXIT_SHUTDOWN:
		v->exits[VM_EXITK_SHUTDOWN]++;
		stop_with(v, VM_TRIPLE_FAULT, "guest triple fault on vCPU %d (rip 0x%llx)", v->id,
			  (unsigned long long)vcpu_rip(v));
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		v->exits[VM_EXITK_SYSTEM_EVENT]++;
		handle_system_event(v);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		v->exits[VM_EXITK_OTHER]++;
		stop_with(v, VM_INTERNAL_ERROR, "KVM internal error %u on vCPU %d (rip 0x%llx)",
			  r->internal.suberror, v->id, (unsigned long long)vcpu_rip(v));
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		v->exits[VM_EXITK_OTHER]++;
		stop_with(v, VM_INTERNAL_ERROR, "KVM entry failed on vCPU %d: reason 0x%llx",
			  v->id, (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		return false;
	default:
		v->exits[VM_EXITK_OTHER]++;
		stop_with(v, VM_INTERNAL_ERROR, "unhandled KVM exit %u on vCPU %d", r->exit_reason,
			  v->id);
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	bool live = true;
	while (live) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno != EINTR && errno != EAGAIN) {
				stop_with(v, VM_INTERNAL_ERROR, "KVM_RUN on vCPU %d: %s", v->id,
					  strerror(errno));
				live = vm_control_park(v->vm, v);
				continue;
			}
			v->exits[VM_EXITK_INTR]++;
			__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			live = vm_control_park(v->vm, v);
			continue;
		}
		if (!handle_exit(v))
			live = vm_control_park(v->vm, v);
	}
	return NULL;
}

int vcpu_start(struct vcpu *v, struct vm_err *err)
{
	int e = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (e) {
		errno = e;
		return vm_errno(err, "starting vCPU %d thread", v->id);
	}
	__atomic_store_n(&v->started, true, __ATOMIC_RELEASE); /* read by vcpu_kick */
	return 0;
}

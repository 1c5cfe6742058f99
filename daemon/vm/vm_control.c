/* vm_control.c - stop requests, the pause barrier and vm_run().
 *
 * vm_run() starts the device thread and the vCPU threads, then sleeps on
 * the control condition until a stop is requested. Once a second it also
 * pauses the VM to look for a guest that can never continue: every vCPU
 * halted (or never started) with interrupts disabled, seen twice in a row,
 * ends the VM with VM_HALTED instead of leaving an idle process forever.
 * --timeout bounds everything else.
 */
#include "vm_control.h"
#include "serial.h"
#include "vcpu.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#define WATCHDOG_NS 1000000000LL
#define RFLAGS_IF (1ULL << 9)

int vm_control_init(struct vm_control *c)
{
	memset(c, 0, sizeof(*c));
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_mutex_init(&c->lock, NULL);
	int r = pthread_cond_init(&c->cond, &a);
	pthread_condattr_destroy(&a);
	return r ? -1 : 0;
}

void vm_control_destroy(struct vm_control *c)
{
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
}

bool vm_control_stopping(struct vm_control *c)
{
	return __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);
}

/* Halted or not yet started, with interrupts off: nothing can wake it. */
static bool vcpu_is_stuck(struct vcpu *v)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0 || ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return false;
	v->rip = regs.rip;
	v->mp_state = mp.mp_state;
	return mp.mp_state != KVM_MP_STATE_RUNNABLE && !(regs.rflags & RFLAGS_IF);
}

bool vm_control_park(struct vm *vm, struct vcpu *v)
{
	struct vm_control *c = vm->ctl;
	if (__atomic_load_n(&c->pausers, __ATOMIC_ACQUIRE) && !vm_control_stopping(c))
		v->stuck = vcpu_is_stuck(v);
	pthread_mutex_lock(&c->lock);
	if (c->pausers && !c->stop) {
		c->parked++;
		pthread_cond_broadcast(&c->cond);
		while (c->pausers && !c->stop)
			pthread_cond_wait(&c->cond, &c->lock);
		c->parked--;
	}
	bool live = !c->stop;
	if (!live) {
		c->running--;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return live;
}

void vm_kick_all(struct vm *vm)
{
	for (int i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}

void vm_request_stop(struct vm *vm, enum vm_outcome o, const char *why)
{
	struct vm_control *c = vm->ctl;
	pthread_mutex_lock(&c->lock);
	if (!c->stop) {
		c->outcome = o;
		snprintf(c->why, sizeof(c->why), "%s", why);
		__atomic_store_n(&c->stop, true, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	vm_kick_all(vm);
	if (vm->loop)
		event_loop_stop(vm->loop);
}

int vm_pause(struct vm *vm)
{
	struct vm_control *c = vm->ctl;
	pthread_mutex_lock(&c->lock);
	__atomic_store_n(&c->pausers, c->pausers + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->lock);
	vm_kick_all(vm);
	pthread_mutex_lock(&c->lock);
	while (!c->stop && c->parked < c->running)
		pthread_cond_wait(&c->cond, &c->lock);
	int r = c->stop ? -1 : 0;
	if (r < 0) /* a failed pause needs no vm_resume */
		__atomic_store_n(&c->pausers, c->pausers - 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->lock);
	return r;
}

void vm_resume(struct vm *vm)
{
	struct vm_control *c = vm->ctl;
	pthread_mutex_lock(&c->lock);
	if (c->pausers > 0)
		__atomic_store_n(&c->pausers, c->pausers - 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Pause, look at every vCPU, resume; true if all are stuck. */
static bool all_vcpus_stuck(struct vm *vm)
{
	if (vm_pause(vm) < 0)
		return false;
	bool all = true;
	for (int i = 0; i < vm->nvcpus; i++)
		all = all && vm->vcpus[i].stuck;
	vm_resume(vm);
	return all;
}

/* Wait until stop or `until` (monotonic ns); true if stopping. */
static bool wait_stop(struct vm_control *c, int64_t until)
{
	struct timespec ts = { .tv_sec = until / 1000000000LL, .tv_nsec = until % 1000000000LL };
	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
			break;
	}
	bool stop = c->stop;
	pthread_mutex_unlock(&c->lock);
	return stop;
}

/* Stop with VM_TIMEOUT, saying where the vCPUs were. */
static void stop_on_timeout(struct vm *vm)
{
	char why[300];
	int n = snprintf(why, sizeof(why), "guest still running after %g s;", vm->cfg.timeout_sec);
	if (vm_pause(vm) == 0) {
		for (int i = 0; i < vm->nvcpus && i < 4 && n < (int)sizeof(why) - 48; i++)
			n += snprintf(why + n, sizeof(why) - n, " vcpu%d rip=0x%llx mp=%u", i,
				      (unsigned long long)vm->vcpus[i].rip, vm->vcpus[i].mp_state);
	}
	vm_request_stop(vm, VM_TIMEOUT, why);
}

void vm_supervise(struct vm *vm)
{
	int64_t start = now_ns();
	int64_t deadline = vm->cfg.timeout_sec > 0 ? start + (int64_t)(vm->cfg.timeout_sec * 1e9) : 0;
	int stuck_seen = 0;
	for (;;) {
		int64_t next = now_ns() + WATCHDOG_NS;
		if (deadline && next > deadline)
			next = deadline;
		if (wait_stop(vm->ctl, next))
			return;
		if (deadline && now_ns() >= deadline) {
			stop_on_timeout(vm);
			return;
		}
		stuck_seen = all_vcpus_stuck(vm) ? stuck_seen + 1 : 0;
		if (stuck_seen >= 2)
			vm_request_stop(vm, VM_HALTED,
					"guest halted every vCPU with interrupts disabled: it can never continue");
	}
}

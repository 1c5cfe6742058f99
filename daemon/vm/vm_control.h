/* vm_control.h - run state shared by the vCPU threads and vm_run().
 *
 * One mutex + condition variable guard: the stop request (first outcome
 * wins), the pause barrier (pausers: how many threads want the vCPUs
 * paused - the watchdog and a snapshot may overlap -, how many are parked,
 * how many are still running). vCPU threads are kicked out of KVM_RUN by
 * setting kvm_run->immediate_exit and sending SIG_KICK to the thread; KVM
 * completes any pending I/O and returns EINTR, and the thread parks.
 */
#ifndef SM_VM_CONTROL_H
#define SM_VM_CONTROL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "vm.h"

#define SIG_KICK SIGUSR1

struct vm_control {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool stop;
	enum vm_outcome outcome;
	char why[400];
	int pausers;         /* vm_pause() calls not yet resumed */
	int parked, running;
	pthread_t device_thread;
	bool device_started;
};

int vm_control_init(struct vm_control *c);
void vm_control_destroy(struct vm_control *c);

/* vCPU side: park at the barrier while a pause is requested. Returns
 * false if the VM is stopping (the thread should exit). */
bool vm_control_park(struct vm *vm, struct vcpu *v);
bool vm_control_stopping(struct vm_control *c);
/* Kick every running vCPU out of KVM_RUN. */
void vm_kick_all(struct vm *vm);
/* Main thread: wait for a stop request, enforcing --timeout and the
 * all-vCPUs-stuck watchdog. */
void vm_supervise(struct vm *vm);

#endif

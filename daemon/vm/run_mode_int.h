/* run_mode_int.h - state shared by run_mode.c (the VM, on the main thread)
 * and run_agent.c (the command, on the agent thread; signal forwarding).
 */
#ifndef SM_RUN_MODE_INT_H
#define SM_RUN_MODE_INT_H

#include "run_mode.h"

#include "daemon/vm/virtio/devices.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct agent_client;

struct run {
	const struct options *o;
	struct vm *vm;
	struct virtio_devices *devs;
	char sock[108];     /* the VM's hybrid vsock socket (path to connect to) */
	char tmpdir[96];    /* our private directory holding sock, or "" */
	int sock_fd;        /* O_PATH handle on our private socket, or -1 */

	pthread_mutex_t mu;
	pthread_cond_t cv;  /* CLOCK_MONOTONIC; signalled when vm_ended is set */
	bool vm_ended;      /* vm_run() returned (main thread), under mu */
	struct agent_client *client; /* while CMD runs, under mu (signal forwarding) */
	int interrupted;    /* a signal that stopped the VM while CMD was not running */

	/* Written by the agent thread, read by main after joining it. */
	int status;         /* CMD's status, or enum run_status */
	char msg[640];      /* why, when status is ours; or a warning */
	int64_t t_start, t_agent, t_done;   /* ms, CLOCK_MONOTONIC */
	struct virtio_counts cnt[2];        /* around the exec: before, after */
	uint64_t exits[2][VM_EXITK_COUNT];
	bool counted;                       /* both taken: the exec ended first */
};

int64_t run_now_ms(void);

/* The agent thread: wait for the agent, run CMD, power the guest off. */
void *run_agent_thread(void *arg);

/* Block the forwarded signals in the calling thread (before any thread is
 * started, so all inherit it) and start the thread that forwards them to
 * the running command. 0, or -1 with err. */
int run_signals_start(struct run *r, struct vm_err *err);
void run_signals_stop(void);

#endif

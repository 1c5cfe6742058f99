/* vm.h - one KVM virtual machine: the VMM core that devices code against.
 *
 * Life of a VM (main.c, and later the daemon's worker, drive it):
 *
 *   vm_create()         KVM_CREATE_VM, guest RAM, TSS/identity map,
 *                       in-kernel irqchip + PIT, the UART and reset ports,
 *                       the device thread's event loop (not yet running).
 *   device setup        each virtio device calls vm_add_virtio_slot(),
 *                       io_bus_register(&vm->mmio, ...), vm_irqfd(),
 *                       vm_ioeventfd() and event_loop_add(vm->loop, ...).
 *   vm_boot()           loads the kernel/initrd, writes boot_params, e820
 *                       and the ACPI tables (which list every slot), sets up
 *                       the vCPUs in 64-bit mode.
 *   vm_run()            starts the device thread and one thread per vCPU,
 *                       waits until the guest powers off, resets, panics,
 *                       faults, or the timeout passes; returns the outcome.
 *   vm_destroy()        frees everything.
 *
 * Device models keep their state in plain structs (guest addresses and
 * indexes, no host pointers) so it can be snapshotted; they reach guest RAM
 * only through guest_mem_ptr(&vm->mem, ...).
 */
#ifndef SM_VM_H
#define SM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "event_loop.h"
#include "guest_mem.h"
#include "io_bus.h"
#include "vm_err.h"

#define VM_MAX_VCPUS 64
#define VM_MAX_VIRTIO_SLOTS 16
#define VM_VIRTIO_MMIO_BASE 0xd0000000ULL
#define VM_VIRTIO_MMIO_SIZE 0x1000
#define VM_VIRTIO_GSI_BASE 5 /* slot i uses GSI 5+i: edge, active high */

#define VM_SERIAL_GSI 4 /* COM1 */

/* How a VM ended. The values are supermachine-vmm's exit statuses. */
enum vm_outcome {
	VM_POWEROFF = 0,      /* guest powered off (ACPI S5) */
	VM_ERROR = 1,         /* VMM setup or KVM error (message in vm_err) */
	VM_BAD_USAGE = 2,     /* command line error */
	VM_REBOOT = 3,        /* guest asked for a reset (ACPI reset reg, 0x64<-0xFE) */
	VM_TRIPLE_FAULT = 4,  /* KVM_EXIT_SHUTDOWN */
	VM_PANIC = 5,         /* guest kernel panicked (seen on the console) */
	VM_INTERNAL_ERROR = 6,/* KVM_EXIT_INTERNAL_ERROR / FAIL_ENTRY / unknown exit */
	VM_TIMEOUT = 7,       /* --timeout passed */
	VM_HALTED = 8,        /* every vCPU halted with interrupts off: can never wake */
};

const char *vm_outcome_name(enum vm_outcome o);

struct vm_config {
	const char *kernel;   /* bzImage path */
	const char *initrd;   /* NULL: none */
	const char *cmdline;  /* kernel command line */
	int vcpus;            /* 1..VM_MAX_VCPUS */
	uint64_t mem_bytes;   /* guest RAM */
	bool console_stdout;  /* copy the UART output to stdout */
	const char *console_log; /* NULL: no log file */
	double timeout_sec;   /* 0: none */
	const char *mem_file; /* restore: map guest RAM copy-on-write from this
				 snapshot memory file (snapshot/snap_mem.h) */
};

struct virtio_slot {
	uint64_t base;
	uint32_t size;
	uint32_t gsi;
};

/* KVM exit counts by kind, summed over vCPUs (bench and --stats). */
enum vm_exit_kind {
	VM_EXITK_IO, VM_EXITK_MMIO, VM_EXITK_HLT, VM_EXITK_INTR,
	VM_EXITK_SHUTDOWN, VM_EXITK_SYSTEM_EVENT, VM_EXITK_OTHER,
	VM_EXITK_COUNT
};
const char *vm_exit_kind_name(enum vm_exit_kind k);

struct vcpu;
struct serial;
struct vm_control;
struct vm_image;

struct vm {
	int kvm_fd, vm_fd;
	struct guest_mem mem;
	struct io_bus mmio, pio;
	struct event_loop *loop;
	struct virtio_slot slots[VM_MAX_VIRTIO_SLOTS];
	int nslots;

	struct vm_config cfg;
	int nvcpus;
	struct vcpu *vcpus;         /* nvcpus entries */
	struct serial *serial;      /* COM1 */
	struct vm_control *ctl;     /* run state: pause barrier, outcome */
	struct vm_image *image;     /* validated kernel + initrd, until vm_boot() */
};

/* Create the VM described by cfg (kernel is validated first: a missing or
 * corrupt bzImage fails here before KVM is touched). 0, or -1 with err. */
int vm_create(struct vm *vm, const struct vm_config *cfg, struct vm_err *err);
/* Load kernel + initrd, write boot_params/e820/ACPI, set vCPU registers. */
int vm_boot(struct vm *vm, struct vm_err *err);
/* Run until the guest ends; returns the outcome, fills err with a message. */
enum vm_outcome vm_run(struct vm *vm, struct vm_err *err);
void vm_destroy(struct vm *vm);

/* Reserve the next virtio-mmio window: base VM_VIRTIO_MMIO_BASE + i*0x1000,
 * size 0x1000, gsi 5+i (edge, active high). Call before vm_boot() (the ACPI
 * DSDT is written there). 0, or -1 with errno ENOSPC. */
int vm_add_virtio_slot(struct vm *vm, uint64_t *base, uint32_t *gsi);

/* An eventfd wired to the guest interrupt line gsi with KVM_IRQFD: a write
 * of 1 raises an edge. Returns the fd (caller owns it) or -1 with errno. */
int vm_irqfd(struct vm *vm, uint32_t gsi);
/* An eventfd signalled by KVM_IOEVENTFD when the guest writes len bytes at
 * MMIO address addr (and, if datamatch >= 0, the value equals datamatch);
 * the write does not exit to userspace. Returns the fd or -1 with errno. */
int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, int64_t datamatch);

/* Stop every vCPU at a consistent point (all out of KVM_RUN, parked at a
 * barrier) / let them run again. For snapshots; shutdown uses the same.
 * Pauses nest: the vCPUs run again after the last vm_resume(). vm_pause()
 * returns -1 (and needs no vm_resume) when the VM is stopping. */
int vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
/* Ask the VM to end with outcome o (first request wins); any thread. */
void vm_request_stop(struct vm *vm, enum vm_outcome o, const char *why);

/* Snapshot of the exit counters. */
void vm_exit_stats(const struct vm *vm, uint64_t counts[VM_EXITK_COUNT]);
/* One line on stderr: "supermachine-vmm: LABEL: io=N mmio=N ...". */
void vm_print_exits(const char *label, const uint64_t counts[VM_EXITK_COUNT]);

#endif

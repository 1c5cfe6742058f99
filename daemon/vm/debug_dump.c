/* debug_dump.c - SIGUSR2 prints the VM's interrupt and virtio state.
 *
 * For a guest that stopped answering (a vsock connect nobody replies to,
 * an exec whose output stalled): `kill -USR2 <supermachine-vmm>` prints,
 * on stderr, the KVM exit counts and the device thread's batch counter,
 * every virtio device's queues as both sides see them and how long its
 * interrupt has been pending (virtio_devices_dump), then - with the vCPUs
 * paused and resumed - each vCPU's RIP, RFLAGS.IF, mp_state, interrupt
 * shadow and local APIC IRR/ISR, and the IOAPIC pins of the virtio slots.
 * A lost interrupt, a lost kick, an empty rx ring or a stuck connection
 * each read differently there. (SIGUSR1 is the vCPU kick, vm_control.h.)
 *
 * The signal handler only writes a byte to a pipe; a thread made before
 * the jail reads it and dumps, so a wedged device thread cannot hide the
 * dump (devices are read with a bounded wait for their lock). Before the
 * VM is freed, vm_debug_dump_stop() ignores SIGUSR2 again and joins it.
 */
#include "debug_dump.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vcpu.h"

static int dump_pipe[2] = { -1, -1 };

static void on_sigusr2(int sig)
{
	(void)sig;
	int saved = errno;
	char b = 1;
	if (write(dump_pipe[1], &b, 1) < 0) {
		/* a dump is already pending */
	}
	errno = saved;
}

/* 256 bits of a local APIC vector register set (8 registers 16 bytes apart),
 * printed as the vectors that are set. */
static void print_apic_bits(const char *name, const struct kvm_lapic_state *l, int off)
{
	fprintf(stderr, " %s=[", name);
	const char *sep = "";
	for (int r = 0; r < 8; r++) {
		uint32_t v;
		memcpy(&v, l->regs + off + 16 * r, 4);
		for (int b = 0; b < 32; b++)
			if (v & (1u << b)) {
				fprintf(stderr, "%s%#x", sep, r * 32 + b);
				sep = " ";
			}
	}
	fprintf(stderr, "]");
}

static void dump_vcpu(struct vcpu *v)
{
	struct kvm_regs regs;
	struct kvm_mp_state mp;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events ev;
	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 || ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0 ||
	    ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0 || ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0) {
		fprintf(stderr, "dump: vcpu %d: %s\n", v->id, strerror(errno));
		return;
	}
	uint32_t tpr, ppr;
	memcpy(&tpr, lapic.regs + 0x80, 4);
	memcpy(&ppr, lapic.regs + 0xa0, 4);
	fprintf(stderr, "dump: vcpu %d: rip=%#llx if=%d mp_state=%u tpr=%#x ppr=%#x "
		"injected=%d/%#x shadow=%d nmi_pending=%d",
		v->id, (unsigned long long)regs.rip, (int)((regs.rflags >> 9) & 1), mp.mp_state,
		tpr, ppr, ev.interrupt.injected, ev.interrupt.nr, ev.interrupt.shadow,
		ev.nmi.pending);
	print_apic_bits("irr", &lapic, 0x200);
	print_apic_bits("isr", &lapic, 0x100);
	fprintf(stderr, "\n");
}

static void dump_ioapic(struct vm *vm)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0) {
		fprintf(stderr, "dump: ioapic: %s\n", strerror(errno));
		return;
	}
	for (int i = 0; i < vm->nslots; i++) {
		uint32_t gsi = vm->slots[i].gsi;
		if (gsi >= KVM_IOAPIC_NUM_PINS)
			continue;
		const typeof(chip.chip.ioapic.redirtbl[0]) *e = &chip.chip.ioapic.redirtbl[gsi];
		fprintf(stderr, "dump: ioapic pin %u: vector=%#x mask=%d remote_irr=%d level=%d "
			"dest=%u irr=%d\n", gsi, e->fields.vector, e->fields.mask, e->fields.remote_irr,
			e->fields.trig_mode, e->fields.dest_id, (chip.chip.ioapic.irr >> gsi) & 1);
	}
}

static void dump_all(struct vm *vm, const struct virtio_devices *d)
{
	uint64_t n[VM_EXITK_COUNT];
	vm_exit_stats(vm, n);
	vm_print_exits("dump: kvm exits", n);
	fprintf(stderr, "dump: device thread: %llu event batches\n",
		(unsigned long long)event_loop_batches(vm->loop));
	/* Devices first: a vCPU waiting for a device lock would not pause. */
	virtio_devices_dump(d);
	if (vm_pause(vm) == 0) {
		for (int i = 0; i < vm->nvcpus; i++)
			dump_vcpu(&vm->vcpus[i]);
		dump_ioapic(vm);
		vm_resume(vm);
	} else {
		fprintf(stderr, "dump: the VM is stopping; vCPUs not read\n");
	}
}

/* The dump thread lives from vm_debug_dump_start() to _stop(); stop ends
 * it (EOF on the pipe) and joins it, so none outlives the VM it reads. */
static pthread_t dump_tid;
static bool dump_running;
static struct dump_args {
	struct vm *vm;
	const struct virtio_devices *devs;
} dump_args;

static void *dump_thread(void *arg)
{
	const struct dump_args *a = arg;
	char b;
	while (read(dump_pipe[0], &b, 1) == 1)
		dump_all(a->vm, a->devs);
	return NULL;
}

static void close_pipe(void)
{
	for (int i = 0; i < 2; i++) {
		if (dump_pipe[i] >= 0)
			close(dump_pipe[i]);
		dump_pipe[i] = -1;
	}
}

void vm_debug_dump_stop(void)
{
	if (!dump_running)
		return;
	signal(SIGUSR2, SIG_IGN); /* no handler writes to the pipe from now on */
	close(dump_pipe[1]);
	dump_pipe[1] = -1;
	pthread_join(dump_tid, NULL);
	close_pipe();
	dump_running = false;
}

int vm_debug_dump_start(struct vm *vm, const struct virtio_devices *devs, struct vm_err *err)
{
	if (dump_running)
		return vm_errf(err, "debug dump: already started");
	if (pipe2(dump_pipe, O_CLOEXEC) < 0)
		return vm_errno(err, "debug dump pipe");
	fcntl(dump_pipe[1], F_SETFL, O_NONBLOCK);
	dump_args.vm = vm;
	dump_args.devs = devs;
	int e = pthread_create(&dump_tid, NULL, dump_thread, &dump_args);
	if (e) {
		close_pipe();
		errno = e;
		return vm_errno(err, "debug dump thread");
	}
	dump_running = true;
	struct sigaction sa = { .sa_handler = on_sigusr2, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	return 0;
}

/* snap_kvm.c - save and restore the VM-wide KVM state (snap_kvm.h). */
#include "daemon/vm/snapshot/snap_kvm.h"

#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

struct kvm_state {
	struct kvm_clock_data clock;
	struct kvm_irqchip chip[3]; /* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
};

static const char *const chip_names[3] = { "PIC master", "PIC slave", "IOAPIC" };

int snap_kvm_save(struct vm *vm, struct snap_writer *w, struct vm_err *err)
{
	struct kvm_state s;
	memset(&s, 0, sizeof(s));
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &s.clock) < 0)
		return vm_errno(err, "KVM_GET_CLOCK");
	for (uint32_t i = 0; i < 3; i++) {
		s.chip[i].chip_id = i;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &s.chip[i]) < 0)
			return vm_errno(err, "KVM_GET_IRQCHIP (%s)", chip_names[i]);
	}
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &s.pit) < 0)
		return vm_errno(err, "KVM_GET_PIT2");
	size_t h = snap_begin(w, SNAP_TAG_KVM, SNAP_KVM_VERSION);
	snap_put_u64(w, s.clock.clock);
	for (int i = 0; i < 3; i++)
		snap_put_sized(w, &s.chip[i], sizeof(s.chip[i]));
	snap_put_sized(w, &s.pit, sizeof(s.pit));
	snap_end(w, h);
	return 0;
}

static bool parse_kvm(struct snap_reader *sec, struct kvm_state *s)
{
	uint64_t clock;
	if (!snap_get_u64(sec, &clock))
		return false;
	s->clock.clock = clock;
	for (uint32_t i = 0; i < 3; i++) {
		if (!snap_get_sized(sec, &s->chip[i], sizeof(s->chip[i]), chip_names[i]))
			return false;
		if (s->chip[i].chip_id != i)
			return snap_fail(sec, "%s state says it is chip %u", chip_names[i],
					 s->chip[i].chip_id);
	}
	if (!snap_get_sized(sec, &s->pit, sizeof(s->pit), "PIT"))
		return false;
	return snap_done(sec, "KVM section");
}

int snap_kvm_restore(struct vm *vm, struct snap_reader *r, struct vm_err *err)
{
	struct snap_reader sec;
	struct kvm_state s;
	memset(&s, 0, sizeof(s));
	if (!snap_open(r, SNAP_TAG_KVM, SNAP_KVM_VERSION, &sec, NULL))
		return vm_errf(err, "%s", r->err);
	if (!parse_kvm(&sec, &s))
		return vm_errf(err, "%s", sec.err);
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &s.pit) < 0)
		return vm_errno(err, "KVM_SET_PIT2");
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &s.clock) < 0)
		return vm_errno(err, "KVM_SET_CLOCK");
	for (int i = 0; i < 3; i++)
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &s.chip[i]) < 0)
			return vm_errno(err, "KVM_SET_IRQCHIP (%s)", chip_names[i]);
	return 0;
}

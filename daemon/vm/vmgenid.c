/* vmgenid.c - write the VM generation ID and announce a new one (vmgenid.h).
 *
 * The ID comes from getrandom (allowed in the jail). It is copied into
 * guest RAM in one memcpy before the interrupt is raised: the ioctl that
 * raises it is a full barrier, and the guest reads the ID only from its
 * interrupt handler (or at boot).
 */
#include "vmgenid.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>

static int random_id(uint8_t id[VMGENID_SIZE], struct vm_err *err)
{
	size_t got = 0;
	while (got < VMGENID_SIZE) {
		ssize_t n = getrandom(id + got, VMGENID_SIZE - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vm_errno(err, "VM generation ID: getrandom");
		got += (size_t)n;
	}
	return 0;
}

int vmgenid_write(const struct guest_mem *mem, uint64_t gpa, uint8_t id[VMGENID_SIZE],
		  struct vm_err *err)
{
	uint8_t fresh[VMGENID_SIZE];
	uint8_t *dst = guest_mem_ptr(mem, gpa, VMGENID_SIZE);
	if (!dst)
		return vm_errf(err, "VM generation ID: no guest RAM at 0x%llx",
			       (unsigned long long)gpa);
	do { /* the guest ignores an unchanged ID */
		if (random_id(fresh, err) < 0)
			return -1;
	} while (memcmp(fresh, dst, VMGENID_SIZE) == 0);
	memcpy(dst, fresh, VMGENID_SIZE);
	if (id)
		memcpy(id, fresh, VMGENID_SIZE);
	return 0;
}

int vmgenid_setup(struct vm *vm, struct vm_err *err)
{
	return vmgenid_write(&vm->mem, VMGENID_ADDR, NULL, err);
}

static int irq_line(struct vm *vm, uint32_t gsi, uint32_t level, struct vm_err *err)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level };
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return vm_errno(err, "VM generation ID: KVM_IRQ_LINE gsi %u level %u", gsi, level);
	return 0;
}

int vmgenid_regenerate(struct vm *vm, struct vm_err *err)
{
	if (vmgenid_write(&vm->mem, VMGENID_ADDR, NULL, err) < 0 ||
	    irq_line(vm, VMGENID_GED_GSI, 1, err) < 0 || irq_line(vm, VMGENID_GED_GSI, 0, err) < 0)
		return -1;
	return 0;
}

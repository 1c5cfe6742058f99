/* kvm_stats.c - named counters from KVM_GET_STATS_FD (see kvm_stats.h). */
#include "kvm_stats.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int stats_find(int sfd, const struct kvm_stats_header *h, const char *name,
		      uint64_t *value, struct vm_err *err)
{
	size_t dsz = sizeof(struct kvm_stats_desc) + h->name_size;
	char *descs = calloc(h->num_desc, dsz);
	if (!descs)
		return vm_errf(err, "out of memory reading KVM stats");
	int rc = vm_errf(err, "KVM has no statistic named %s", name);
	if (pread(sfd, descs, h->num_desc * dsz, h->desc_offset) != (ssize_t)(h->num_desc * dsz)) {
		rc = vm_errno(err, "reading KVM stats descriptors");
		goto out;
	}
	for (uint32_t i = 0; i < h->num_desc; i++) {
		struct kvm_stats_desc *d = (void *)(descs + i * dsz);
		if (strncmp(d->name, name, h->name_size) != 0)
			continue;
		if (pread(sfd, value, sizeof(*value), h->data_offset + d->offset) != sizeof(*value))
			rc = vm_errno(err, "reading KVM stat %s", name);
		else
			rc = 0;
		break;
	}
out:
	free(descs);
	return rc;
}

int kvm_stat_read(int kvm_obj_fd, const char *name, uint64_t *value, struct vm_err *err)
{
	int sfd = ioctl(kvm_obj_fd, KVM_GET_STATS_FD, NULL);
	if (sfd < 0)
		return vm_errno(err, "KVM_GET_STATS_FD");
	struct kvm_stats_header h;
	int rc;
	if (pread(sfd, &h, sizeof(h), 0) != sizeof(h))
		rc = vm_errno(err, "reading KVM stats header");
	else
		rc = stats_find(sfd, &h, name, value, err);
	close(sfd);
	return rc;
}

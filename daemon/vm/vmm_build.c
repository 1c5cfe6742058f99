/* vmm_build.c - create, then boot or restore, one VM (vmm_build.h). */
#include "daemon/vm/vmm_build.h"
#include "daemon/vm/vmgenid.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* The steps after the state file is loaded, each timed into t. */
static int restore_steps(struct vmm *m, struct options *o, struct snap_file *f,
			 struct vmm_restore_times *t, struct vm_err *err)
{
	int64_t t0 = now_us();
	if (vm_create(&m->vm, &o->vm, err) < 0 ||
	    virtio_devices_attach(&m->vm, &o->dev, &m->devs, err) < 0)
		return -1;
	int64_t t1 = now_us();
	t->create_us = t1 - t0;
	if (snap_ids_compute(o->vm.kernel, o->vm.initrd, o->kernel_digest, o->initrd_digest, &m->ids,
			     err) < 0)
		return -1;
	t->digests_us = now_us() - t1;
	if (vm_snapshot_restore(&m->vm, &m->devs, f, &m->ids, &t->state, err) < 0)
		return -1;
	return vmgenid_regenerate(&m->vm, err);
}

static int restore(struct vmm *m, struct options *o, struct vm_err *err)
{
	char state[PATH_MAX], mem[PATH_MAX];
	snprintf(state, sizeof(state), "%s/%s", o->restore_dir, SNAP_STATE_NAME);
	snprintf(mem, sizeof(mem), "%s/%s", o->restore_dir, SNAP_MEM_NAME);
	struct vmm_restore_times *t = &m->restore_times;
	int64_t t0 = now_us();
	struct snap_file f;
	if (snap_file_load(state, &f, err) < 0)
		return -1;
	t->load_us = now_us() - t0;
	o->vm.vcpus = (int)f.hdr.vcpus;
	o->vm.mem_bytes = f.hdr.mem_bytes;
	o->vm.mem_file = mem;
	int rc = -1;
	if (f.hdr.vcpus < 1 || f.hdr.vcpus > VM_MAX_VCPUS)
		vm_errf(err, "%s: %u vCPUs", state, f.hdr.vcpus);
	else
		rc = restore_steps(m, o, &f, t, err);
	if (rc < 0)
		vm_err_prefix(err, "%s", o->restore_dir);
	o->vm.mem_file = NULL; /* mem is ours only until here */
	m->vm.cfg.mem_file = NULL;
	m->have_ids = m->restored = rc == 0;
	t->total_us = now_us() - t0;
	snap_file_free(&f);
	return rc;
}

int vmm_build(struct vmm *m, struct options *o, struct vm_err *err)
{
	memset(m, 0, sizeof(*m));
	m->vm.kvm_fd = m->vm.vm_fd = -1;
	snap_crypto_warm_up(); /* before the jail: OpenSSL may open files */
	if (o->restore_dir)
		return restore(m, o, err);
	if (vm_create(&m->vm, &o->vm, err) < 0 ||
	    virtio_devices_attach(&m->vm, &o->dev, &m->devs, err) < 0 || vm_boot(&m->vm, err) < 0)
		return -1;
	/* Only the daemon asks for snapshots; others do not pay for digests. */
	if (o->control_fd >= 0) {
		if (snap_ids_compute(o->vm.kernel, o->vm.initrd, o->kernel_digest, o->initrd_digest, &m->ids,
			     err) < 0)
			return -1;
		m->have_ids = true;
	}
	return 0;
}

void vmm_free(struct vmm *m)
{
	virtio_devices_free(&m->vm, &m->devs); /* device thread has stopped */
	vm_destroy(&m->vm);
}

int vmm_snapshot(void *ctx, int state_fd, int mem_fd, int disk_fd, char *msg, size_t len)
{
	struct vmm *m = ctx;
	struct vm_err err = { "" };
	struct snap_save_stats st;
	if (!m->have_ids) {
		snprintf(msg, len, "no kernel digests: this VM cannot be snapshotted");
		return -1;
	}
	struct snap_files files = { .state_fd = state_fd, .mem_fd = mem_fd, .disk_fd = disk_fd };
	if (vm_snapshot_save(&m->vm, &m->devs, &m->ids, &files, &st, &err) < 0) {
		snprintf(msg, len, "%s", err.msg);
		return -1;
	}
	int n = snprintf(msg, len, "state %llu bytes, memory %llu MiB written, ",
			 (unsigned long long)st.state_bytes,
			 (unsigned long long)(st.mem_bytes_written >> 20));
	if (disk_fd >= 0 && n > 0 && (size_t)n < len)
		n += snprintf(msg + n, len - n, "disk by %s (%llu KiB of data, %lld us), ",
			      fc_how_name(st.disk_how), (unsigned long long)(st.disk_bytes >> 10),
			      (long long)st.disk_us);
	if (n > 0 && (size_t)n < len)
		snprintf(msg + n, len - n, "paused %lld us", (long long)st.paused_us);
	return 0;
}

void vmm_print_restore_stats(const struct vmm *m)
{
	if (!m->restored)
		return;
	const struct vmm_restore_times *t = &m->restore_times;
	fprintf(stderr, "supermachine-vmm: restore: total=%lldus load_state=%lldus "
		"create_and_map=%lldus digests=%lldus kvm=%lldus vcpus=%lldus devices=%lldus\n",
		(long long)t->total_us, (long long)t->load_us, (long long)t->create_us,
		(long long)t->digests_us, (long long)t->state.kvm_us, (long long)t->state.vcpus_us,
		(long long)t->state.devices_us);
}

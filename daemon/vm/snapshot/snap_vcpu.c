/* snap_vcpu.c - save and restore one vCPU's KVM state (snap_vcpu.h). */
#include "daemon/vm/snapshot/snap_vcpu.h"

#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define XSAVE_LEGACY_SIZE 4096

/* Bytes of XSAVE state KVM transfers for this VM. */
static size_t xsave_size(struct vcpu *v)
{
	int n = ioctl(v->vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	return n > XSAVE_LEGACY_SIZE ? (size_t)n : XSAVE_LEGACY_SIZE;
}

/* Indexes KVM offers for saving: the MSR index list and the feature MSRs. */
static uint32_t *msr_indexes(int kvm_fd, uint32_t *count, struct vm_err *err)
{
	static const unsigned long lists[] = { KVM_GET_MSR_INDEX_LIST,
					       KVM_GET_MSR_FEATURE_INDEX_LIST };
	uint32_t *all = calloc(SNAP_MAX_MSRS, sizeof(*all));
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + SNAP_MAX_MSRS * sizeof(uint32_t));
	*count = 0;
	if (!all || !l) {
		free(all);
		free(l);
		vm_errno(err, "MSR list");
		return NULL;
	}
	for (size_t i = 0; i < 2; i++) {
		l->nmsrs = SNAP_MAX_MSRS;
		if (ioctl(kvm_fd, lists[i], l) < 0)
			continue; /* no feature MSRs on this KVM */
		for (uint32_t k = 0; k < l->nmsrs && *count < SNAP_MAX_MSRS; k++)
			all[(*count)++] = l->indices[k];
	}
	free(l);
	return all;
}

/* Read every listed MSR this vCPU has into out (n entries of room);
 * KVM_GET_MSRS stops at the first one it cannot read, which is left out. */
static int read_msrs(struct vcpu *v, const uint32_t *idx, uint32_t n,
		     struct kvm_msr_entry *out, uint32_t *kept, struct vm_err *err)
{
	struct kvm_msrs *b = calloc(1, sizeof(*b) + n * sizeof(b->entries[0]));
	if (!b)
		return vm_errno(err, "MSRs");
	*kept = 0;
	for (uint32_t i = 0; i < n;) {
		b->nmsrs = n - i;
		for (uint32_t k = 0; k < b->nmsrs; k++)
			b->entries[k] = (struct kvm_msr_entry){ .index = idx[i + k] };
		int got = ioctl(v->fd, KVM_GET_MSRS, b);
		if (got < 0) {
			free(b);
			return vm_errno(err, "KVM_GET_MSRS");
		}
		memcpy(out + *kept, b->entries, (size_t)got * sizeof(out[0]));
		*kept += (uint32_t)got;
		i += (uint32_t)got + 1; /* skip the one that failed */
	}
	free(b);
	return 0;
}

static int save_msrs(struct vcpu *v, struct snap_writer *w, struct vm_err *err)
{
	uint32_t n, kept = 0;
	uint32_t *idx = msr_indexes(v->vm->kvm_fd, &n, err);
	struct kvm_msr_entry *e = idx ? calloc(n + 1, sizeof(*e)) : NULL;
	int rc = e ? read_msrs(v, idx, n, e, &kept, err) : -1;
	if (idx && !e)
		vm_errno(err, "MSRs");
	if (rc == 0) {
		snap_put_u32(w, kept);
		for (uint32_t i = 0; i < kept; i++) {
			snap_put_u32(w, e[i].index);
			snap_put_u64(w, e[i].data);
		}
	}
	free(e);
	free(idx);
	return rc;
}

#define GET(req, p, what) \
	(ioctl(v->fd, (req), (p)) < 0 ? vm_errno(err, "%s", what) : 0)

int snap_vcpu_save(struct vcpu *v, struct snap_writer *w, struct vm_err *err)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dbg;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events ev;
	struct kvm_mp_state mp;
	size_t xs = xsave_size(v);
	void *xsave = calloc(1, xs);
	unsigned long xreq = xs > XSAVE_LEGACY_SIZE ? KVM_GET_XSAVE2 : KVM_GET_XSAVE;
	int tsc_khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
	int rc = xsave ? 0 : vm_errno(err, "XSAVE area");
	if (rc == 0 && (GET(KVM_GET_REGS, &regs, "KVM_GET_REGS") < 0 ||
			GET(KVM_GET_SREGS, &sregs, "KVM_GET_SREGS") < 0 ||
			GET(xreq, xsave, "KVM_GET_XSAVE") < 0 ||
			GET(KVM_GET_XCRS, &xcrs, "KVM_GET_XCRS") < 0 ||
			GET(KVM_GET_DEBUGREGS, &dbg, "KVM_GET_DEBUGREGS") < 0 ||
			GET(KVM_GET_LAPIC, &lapic, "KVM_GET_LAPIC") < 0 ||
			GET(KVM_GET_VCPU_EVENTS, &ev, "KVM_GET_VCPU_EVENTS") < 0 ||
			GET(KVM_GET_MP_STATE, &mp, "KVM_GET_MP_STATE") < 0))
		rc = -1;
	if (rc == 0 && tsc_khz <= 0)
		rc = vm_errno(err, "KVM_GET_TSC_KHZ");
	if (rc == 0) {
		size_t h = snap_begin(w, SNAP_TAG_VCPU, SNAP_VCPU_VERSION);
		snap_put_u32(w, (uint32_t)v->id);
		snap_put_u32(w, (uint32_t)tsc_khz);
		snap_put_u32(w, mp.mp_state);
		snap_put_sized(w, &regs, sizeof(regs));
		snap_put_sized(w, &sregs, sizeof(sregs));
		snap_put_sized(w, xsave, (uint32_t)xs);
		snap_put_sized(w, &xcrs, sizeof(xcrs));
		snap_put_sized(w, &dbg, sizeof(dbg));
		snap_put_sized(w, &lapic, sizeof(lapic));
		snap_put_sized(w, &ev, sizeof(ev));
		rc = save_msrs(v, w, err);
		snap_end(w, h);
	}
	free(xsave);
	return rc < 0 ? vm_err_prefix(err, "vCPU %d", v->id) : 0;
}

struct vcpu_state {
	uint32_t id, tsc_khz;
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dbg;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events ev;
	void *xsave;
	struct kvm_msrs *msrs;
};

static bool parse_msrs(struct snap_reader *r, struct vcpu_state *s)
{
	uint32_t n;
	if (!snap_get_u32(r, &n))
		return false;
	if (n > SNAP_MAX_MSRS)
		return snap_fail(r, "%u MSRs (at most %u)", n, SNAP_MAX_MSRS);
	s->msrs = calloc(1, sizeof(*s->msrs) + n * sizeof(s->msrs->entries[0]));
	if (!s->msrs)
		return snap_fail(r, "out of memory");
	s->msrs->nmsrs = n;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t data;
		if (!snap_get_u32(r, &s->msrs->entries[i].index) || !snap_get_u64(r, &data))
			return false;
		s->msrs->entries[i].data = data;
	}
	return true;
}

/* Parse and check the section into s; nothing touches KVM yet. */
static bool parse_vcpu(struct snap_reader *sec, struct vcpu *v, size_t xs, struct vcpu_state *s)
{
	if (!snap_get_u32(sec, &s->id) || !snap_get_u32(sec, &s->tsc_khz) ||
	    !snap_get_u32(sec, &s->mp.mp_state))
		return false;
	if (s->id != (uint32_t)v->id)
		return snap_fail(sec, "section of vCPU %u where vCPU %d was expected", s->id, v->id);
	if (s->mp.mp_state > KVM_MP_STATE_AP_RESET_HOLD || s->tsc_khz == 0)
		return snap_fail(sec, "MP state %u / TSC %u kHz out of range", s->mp.mp_state,
				 s->tsc_khz);
	if (!(s->xsave = calloc(1, xs)))
		return snap_fail(sec, "out of memory");
	if (!snap_get_sized(sec, &s->regs, sizeof(s->regs), "regs") ||
	    !snap_get_sized(sec, &s->sregs, sizeof(s->sregs), "sregs") ||
	    !snap_get_sized(sec, s->xsave, (uint32_t)xs, "XSAVE area") ||
	    !snap_get_sized(sec, &s->xcrs, sizeof(s->xcrs), "XCRs") ||
	    !snap_get_sized(sec, &s->dbg, sizeof(s->dbg), "debug regs") ||
	    !snap_get_sized(sec, &s->lapic, sizeof(s->lapic), "LAPIC") ||
	    !snap_get_sized(sec, &s->ev, sizeof(s->ev), "vCPU events") || !parse_msrs(sec, s))
		return false;
	if (s->xcrs.nr_xcrs > KVM_MAX_XCRS)
		return snap_fail(sec, "%u XCRs (at most %d)", s->xcrs.nr_xcrs, KVM_MAX_XCRS);
	return snap_done(sec, "vCPU section");
}

static int set_tsc_khz(struct vcpu *v, uint32_t khz, struct vm_err *err)
{
	int now = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
	if (now == (int)khz)
		return 0;
	if (ioctl(v->fd, KVM_SET_TSC_KHZ, (unsigned long)khz) < 0)
		return vm_errno(err, "the snapshot's TSC runs at %u kHz, this host's at %d kHz, "
				"and KVM_SET_TSC_KHZ", khz, now);
	return 0;
}

#define SET(req, p, what) \
	(ioctl(v->fd, (req), (p)) < 0 ? vm_errno(err, "%s", what) : 0)

static int apply_vcpu(struct vcpu *v, struct vcpu_state *s, struct vm_err *err)
{
	if (set_tsc_khz(v, s->tsc_khz, err) < 0 || SET(KVM_SET_MP_STATE, &s->mp, "KVM_SET_MP_STATE") < 0 ||
	    SET(KVM_SET_REGS, &s->regs, "KVM_SET_REGS") < 0 ||
	    SET(KVM_SET_SREGS, &s->sregs, "KVM_SET_SREGS") < 0 ||
	    SET(KVM_SET_XSAVE, s->xsave, "KVM_SET_XSAVE") < 0 ||
	    SET(KVM_SET_XCRS, &s->xcrs, "KVM_SET_XCRS") < 0 ||
	    SET(KVM_SET_DEBUGREGS, &s->dbg, "KVM_SET_DEBUGREGS") < 0 ||
	    SET(KVM_SET_LAPIC, &s->lapic, "KVM_SET_LAPIC") < 0)
		return -1;
	int n = ioctl(v->fd, KVM_SET_MSRS, s->msrs);
	if (n < 0)
		return vm_errno(err, "KVM_SET_MSRS");
	if ((uint32_t)n != s->msrs->nmsrs)
		return vm_errf(err, "KVM_SET_MSRS: MSR 0x%x refused", s->msrs->entries[n].index);
	return SET(KVM_SET_VCPU_EVENTS, &s->ev, "KVM_SET_VCPU_EVENTS");
}

int snap_vcpu_restore(struct vcpu *v, struct snap_reader *r, struct vm_err *err)
{
	struct snap_reader sec;
	struct vcpu_state s;
	memset(&s, 0, sizeof(s));
	int rc;
	if (!snap_open(r, SNAP_TAG_VCPU, SNAP_VCPU_VERSION, &sec, NULL))
		rc = vm_errf(err, "%s", r->err);
	else if (!parse_vcpu(&sec, v, xsave_size(v), &s))
		rc = vm_errf(err, "%s", sec.err);
	else
		rc = apply_vcpu(v, &s, err);
	free(s.xsave);
	free(s.msrs);
	return rc < 0 ? vm_err_prefix(err, "vCPU %d", v->id) : 0;
}

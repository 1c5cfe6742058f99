/* kvm_probe.h - is native KVM usable here, and if not, why?
 *
 * The answer comes from the VMM itself: `supermachine-vmm --probe` tries
 * what a VM needs and exits 0 when it can run one, non-zero otherwise,
 * explaining on stdout (a JSON object, used as is) or in its first line of
 * output. The result is cached for a short time so GET /v1/info stays
 * cheap; a missing VMM binary is itself the reason.
 */
#ifndef SM_API_KVM_PROBE_H
#define SM_API_KVM_PROBE_H

#include <jansson.h>

struct kvm_probe;

struct kvm_probe *kvm_probe_new(const char *vmm_path, unsigned ttl_s);
void kvm_probe_free(struct kvm_probe *p);

/* {"usable":bool,"reason":"...","vmm":"path","checked_at":"...",
 *  "details":{...}?} — a new reference. */
json_t *kvm_probe_status(struct kvm_probe *p);

#endif

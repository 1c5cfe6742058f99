/* kvm_probe.h - is native KVM usable here, and if not, why?
 *
 * The answer comes from the VMM itself: `supermachine-vmm --probe` tries
 * what a VM needs and exits 0 when it can run one, non-zero otherwise,
 * explaining on stdout (a JSON object, used as is) or in its first line of
 * output. The probe runs a real guest and may take seconds, so it runs on
 * its own thread: once at start-up, and again in the background when the
 * answer is older than the TTL; a reader gets the last answer at once
 * ("pending" before the first). A missing VMM binary is itself the reason.
 */
#ifndef SM_API_KVM_PROBE_H
#define SM_API_KVM_PROBE_H

#include <jansson.h>

struct kvm_probe;

struct kvm_probe *kvm_probe_new(const char *vmm_path, unsigned ttl_s);
/* Kills a running probe and waits for its thread. */
void kvm_probe_free(struct kvm_probe *p);

/* Starts the first probe in the background. */
void kvm_probe_start(struct kvm_probe *p);

/* {"usable":bool,"reason":"...","vmm":"path","checked_at":"...",
 *  "details":{...}?}, or {"usable":false,"pending":true,...} before the
 *  first answer — a new reference. */
json_t *kvm_probe_status(struct kvm_probe *p);

#endif

# tests/kvmhost/probe.sh - decide whether this host's /dev/kvm boots Linux.
#
# Sourced by tests/kvmhost/run and script/run. kvm_probe BUILD_DIR returns 0
# when `supermachine-vmm --probe` (a tiny guest entered in 64-bit mode that
# must run to HLT) succeeds, 1 otherwise; KVM_PROBE_REASON says why, in a
# form that fits in one line. Never decided by hostname or a flag.
kvm_probe() {
	local vmm=$1/daemon/vm/supermachine-vmm out
	if [ ! -e /dev/kvm ]; then
		KVM_PROBE_REASON="/dev/kvm does not exist"
		return 1
	fi
	if [ ! -x "$vmm" ]; then
		KVM_PROBE_REASON="cannot probe /dev/kvm: $vmm is not built"
		return 1
	fi
	if out=$("$vmm" --probe 2>&1); then
		KVM_PROBE_REASON="/dev/kvm runs a 64-bit guest to HLT"
		return 0
	fi
	KVM_PROBE_REASON="/dev/kvm cannot run a 64-bit guest ($(echo "$out" | tail -n 1))"
	return 1
}

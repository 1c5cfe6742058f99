#!/bin/bash
# GET /v1/info's KVM status comes from `supermachine-vmm --probe`, run in
# the background: stand-in VMMs here say yes (with a JSON report), say no
# (with a reason on stderr), hang (info answers "pending" at once and the
# daemon still stops promptly, killing the probe), or are missing.
. "$(dirname "$0")/lib.sh"

fake() { # NAME BODY
	printf '#!/bin/sh\n[ "$1" = --probe ] || exit 64\n%s\n' "$2" > "$WORK/$1"
	chmod +x "$WORK/$1"
}
kvm_when_done() { # waits for a non-pending answer, leaves it in $WORK/body
	for _ in $(seq 1 100); do
		req GET /v1/info
		[ "$(jbody .kvm.pending)" = true ] || return 0
		sleep 0.05
	done
	fail "the probe never finished: $(body)"
}

note "a VMM that can run guests"
fake yes 'echo "{\"kvm\":\"native\",\"cpu\":\"test\"}"; exit 0'
start_daemon --vmm "$WORK/yes"
kvm_when_done
expect_status 200
[ "$(jbody .kvm.usable)" = true ] || fail "usable: $(body)"
[ "$(jbody .kvm.details.kvm)" = native ] || fail "details: $(body)"
[ "$(jbody .kvm.vmm)" = "$WORK/yes" ] || fail "vmm: $(body)"
stop_daemon

note "a VMM that cannot"
fake no 'echo "supermachine-vmm: probe failed: /dev/kvm: No such file" >&2; exit 1'
start_daemon --vmm "$WORK/no"
kvm_when_done
[ "$(jbody .kvm.usable)" = false ] || fail "usable: $(body)"
jbody .kvm.reason | grep -q "/dev/kvm: No such file" || fail "reason: $(body)"
stop_daemon

note "a probe that hangs: info does not wait, shutdown does not hang"
fake slow 'sleep 60'
start_daemon --vmm "$WORK/slow"
t0=$(date +%s%N)
req GET /v1/info
[ "$(jbody .kvm.pending)" = true ] || fail "want pending: $(body)"
[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 2000 ] || fail "info waited for the probe"
t0=$(date +%s%N)
stop_daemon
[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000 ] || fail "stopping waited for the probe"

note "no VMM at all"
start_daemon --vmm "$WORK/missing"
kvm_when_done
[ "$(jbody .kvm.usable)" = false ] || fail "usable: $(body)"
jbody .kvm.reason | grep -q "cannot run $WORK/missing" || fail "reason: $(body)"
stop_daemon

#!/bin/bash
# tests/kvmhost/t-verdict.sh - the rules of tests/kvmhost/verdict.sh on
# made-up records: which failed VM test runs may go again (the emulated
# host's fault) and which are final (ours, or nothing to blame).
set -uo pipefail
# shellcheck source=tests/kvmhost/verdict.sh
. "$(dirname "$0")/verdict.sh"
work=$(mktemp -d /tmp/sm-verdict.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
log=$work/testlog dmesg=$work/dmesg faults=$work/faults

# expect WANT NAME STATUS [BOOT]: blame_emulated_host on the records as
# they are now; WANT is "again" (0) or "final" (1).
expect() {
	local got=final out
	out=$(blame_emulated_host "$2" "$3" "$log" "$dmesg" "$faults" "${4:-ended}") && got=again
	if [ "$got" != "$1" ]; then
		echo "FAIL: $2: $got, want $1${out:+ ($out)}"
		failures=$((failures + 1))
	else
		echo "ok: $2: $got${out:+ ($out)}"
	fi
}
records() { # TESTLOG DMESG FAULTS
	printf '%b' "$1" > "$log"; printf '%b' "$2" > "$dmesg"; printf '%b' "$3" > "$faults"
}

records 'FAIL: exec failed\n' '' ''
expect final "a plain failure" 1
records '' '' ''
expect again "the emulated host hung" 125
expect again "a frozen emulated host" 124
records 'FAIL\n' '' 'CPU 0/KVM-12 kvm_exit: reason EXIT_SHUTDOWN rip 0xffffffff81000000\n'
expect again "an unasked triple fault" 1
records 'deliberate guest triple fault\n' '' 'CPU 0/KVM-12 kvm_exit: reason EXIT_SHUTDOWN\n'
expect final "a deliberate triple fault" 1
records "dump: virtio-vsock: the guest has not taken this device's interrupt for 9000 ms\n" '' ''
expect again "an interrupt never taken" 1
records 'FAIL\n' '[ 12.5] kvmhost-init: the emulated host stood still for 7.20 s\n' ''
expect again "a 7 s stall" 1
records 'FAIL\n' '[ 12.5] kvmhost-init: the emulated host stood still for 4.90 s\n' ''
expect final "a 4 s stall" 1
records 'FAIL\n' '[ 700.9] watchdog: BUG: soft lockup - CPU#0 stuck for 164s! [kthreadd:2]\n' ''
expect again "a soft lockup" 1
records 'jail: forbidden system call 41 (socket)\n' \
	'[ 12.5] kvmhost-init: the emulated host stood still for 9.00 s\n' ''
expect final "a jail kill despite a stall" 1
records 'FAIL\n' '[ 1.0] potentially unexpected fatal signal 11.\n[ 1.0] CPU: 1 PID: 7 Comm: supermachine-vm Not tainted\n' ''
expect final "a crashed VMM" 1
records 'FAIL: exec failed\n' '' ''
expect again "a plain failure in a boot that hung later" 1 cut
expect final "a plain failure in a boot that ended" 1 ended
records 'jail: forbidden system call 41 (socket)\n' '' ''
expect final "a jail kill in a boot that hung later" 1 cut
records 'FAIL\n' '[ 80.1] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:\n' ''
expect again "an RCU stall" 1
records 'FAIL\n' '[ 80.1] rcu: INFO: rcu_sched self-detected stall on CPU\n' ''
expect again "an RCU self-detected stall" 1
records 'FAIL\n' '[ 80.1] rcu: note: something about rcu\n' ''
expect final "an RCU line that is no stall" 1

[ $failures = 0 ] && echo PASS
exit $((failures > 0))

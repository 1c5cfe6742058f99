# tests/kvmhost/verdict.sh - whose fault a failed VM test run was: ours or the emulated host's.
#
# Sourced by script/vm-tests. The emulated KVM host (QEMU TCG with nested
# SVM) is not flawless: guests of any VMM - ours and QEMU's alike - now and
# then triple-fault while an interrupt is injected (KVM's trace of each one
# is recorded), or have a vCPU that stops taking interrupts (the VMM's state
# dump, which failing VM tests ask for, names the interrupt never taken),
# and rarely the emulated host itself hangs or resets (the runner exits 125
# after its own retry) or freezes with its heartbeat still going (seen in
# vm-api: not even the test's own deadlines fired; a deadline outside ends
# it, exit 124), or stands still for seconds while the machine outside
# gives QEMU no CPU (its init logs such stalls; the kernel's soft lockup
# watchdog names the long ones), which no deadline of a VM test allows
# for. Such a run may go again. A deterministic cause in the same
# run (a process killed by its jail or another crash signal, a sanitizer
# report) is ours to fix, and a rerun would only hide it. Triple faults a
# test causes on purpose (it says "deliberate guest triple fault") are not
# the emulated host's.
#
# The emulated host's failures come in degrees: a guest vCPU that stops
# taking interrupts, a CPU of its own that stops taking timer interrupts
# (its RCU reports the stall), the whole emulated host hanging. A test that
# failed in a boot of the emulated host that later hung, reset or froze
# (a run in a group whose boot never reached its end) is counted as that
# boot's: seen in CI, a test failed with nothing in its own records, the
# next one with a vCPU that stopped taking interrupts, and the one after
# that hung the emulated host.
#
# The evidence of one run: its exit STATUS, meson's TESTLOG of it, the
# emulated host's kernel log of it (DMESG, booted with print-fatal-signals),
# the KVM shutdown exits traced during it (FAULTS, one a line) and, for a
# run in a group, whether its BOOT of the emulated host reached its end
# ("ended") or hung, reset or froze later ("cut").
# shellcheck shell=bash

# A stall this long (seconds) in a run is the emulated host's fault: half
# the shortest deadline the daemon gives a guest's agent (10 s).
STALL_BLAMED_S=5

# deterministic_cause TESTLOG DMESG: what in a run's own output explains its
# failure without the emulated host. Empty if nothing does.
deterministic_cause() {
	grep -m1 -aoE 'jail: forbidden system call [0-9]+ \([a-z0-9_]+\)|worker killed by SIG(SYS|SEGV|ABRT|BUS|ILL|FPE)|ERROR: (Address|Leak)Sanitizer: [a-z-]+|runtime error: [^:]*' \
		"$1" 2>/dev/null && return
	# "potentially unexpected fatal signal 31." then "CPU: 1 PID: 7 Comm: NAME ..."
	awk '/potentially unexpected fatal signal/ { s = $0; sub(/.*potentially/, "potentially", s); next }
	     s && /Comm:/ { c = $0; sub(/.*Comm: /, "", c); sub(/ .*/, "", c); print c ": " s; exit }' \
		"$2" 2>/dev/null
}

# longest_stall DMESG: the longest time the emulated host stood still in a
# run, in whole seconds (its init's stall watch, or the kernel's soft
# lockup watchdog); empty if it never did.
longest_stall() {
	grep -aoE 'the emulated host stood still for [0-9]+|soft lockup - CPU#[0-9]+ stuck for [0-9]+' \
		"$1" 2>/dev/null | grep -oE '[0-9]+$' | sort -n | tail -n 1
}

# emulated_host_fault STATUS TESTLOG DMESG FAULTS [BOOT]: why the emulated
# host, not the test, failed a run. Empty if nothing says so.
emulated_host_fault() {
	local n want
	[ "$1" = 125 ] && echo "the emulated host hung or reset" && return
	[ "$1" = 124 ] && echo "nothing ended it within its deadline (a frozen emulated host)" && return
	[ "${5:-ended}" = cut ] && echo "the emulated host hung, reset or froze later in the same boot" && return
	grep -aqE 'rcu: INFO: rcu_[a-z]+ (self-)?detected stall' "$3" 2>/dev/null &&
		echo "a CPU of the emulated host stalled (its RCU said so)" && return
	n=0
	[ -s "$4" ] && n=$(wc -l < "$4")
	want=$(grep -ac 'deliberate guest triple fault' "$2" 2>/dev/null || true)
	[ "$n" -gt "${want:-0}" ] && echo "$((n - ${want:-0})) guest triple fault(s) no test asked for" && return
	n=$(grep -ac "has not taken this device's interrupt" "$2" 2>/dev/null)
	[ "${n:-0}" -gt 0 ] && echo "a guest vCPU stopped taking interrupts" && return
	n=$(longest_stall "$3")
	[ "${n:-0}" -ge $STALL_BLAMED_S ] && echo "the emulated host itself stood still for $n s"
}

# blame_emulated_host NAME STATUS TESTLOG DMESG FAULTS [BOOT]: after a
# failed run of the VM test NAME, 0 with the emulated host's fault in $why
# if the run may go again; 1, after a line saying why not, if the failure
# is final.
blame_emulated_host() {
	why=$(deterministic_cause "$3" "$4" || true)
	if [ -n "$why" ]; then
		echo "script/vm-tests: $1 failed: $why (a deterministic cause: not run again)"
		return 1
	fi
	why=$(emulated_host_fault "$2" "$3" "$4" "$5" "${6:-ended}" || true)
	if [ -z "$why" ]; then
		echo "script/vm-tests: $1 failed, with no fault of the emulated host in its run: not run again"
		return 1
	fi
}

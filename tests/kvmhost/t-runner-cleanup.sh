#!/bin/bash
# tests/kvmhost/t-runner-cleanup.sh: no QEMU outlives tests/kvmhost/run.
#
# Each case starts `tests/kvmhost/run --timeout 600 sleep 300`, waits until
# its QEMU runs (a descendant named qemu-system-*; the runner's control
# folder is read from the `id=ctl,path=...` in QEMU's arguments, so only
# our own QEMUs are ever looked at) and the emulated host runs CMD (its
# heartbeat file appears in the control folder), ends the runner and then
# checks that within 15 s no process names that control folder any more,
# that the folder is gone and what the runner's exit status was:
#   term     SIGTERM to the runner alone (kill)                  143
#   int      SIGINT to the runner's process group (Ctrl-C)       130
#   timeout  `timeout 600 tests/kvmhost/run ...`, made to expire
#            now by SIGALRM (its own deadline path)              124
#   meson    SIGTERM to the group, SIGKILL 0.5 s later (meson's
#            test timeout)                                      143 or 137
#   kill     SIGKILL to the runner alone (untrappable: its
#            watcher must end QEMU)                              137
# A QEMU left alive fails the test loudly and is then killed here.
# Where /dev/kvm boots Linux the runner starts no QEMU: it becomes CMD
# (exec), so there the test checks that SIGTERM to the runner ends CMD
# (exit 143) and leaves no process of it behind.
set -uo pipefail
src=${SM_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SM_BUILD_ROOT:-$src/build}
run=$src/tests/kvmhost/run

# native_case: the runner on a host whose /dev/kvm boots Linux.
native_case() {
	local tag rpid st i
	tag=sm-runner-native-$$
	"$run" bash -c "exec -a $tag sleep 300" &
	rpid=$!
	for ((i = 0; i < 60; i++)); do pgrep -f "^$tag" > /dev/null && break; sleep 0.5; done
	pgrep -f "^$tag" > /dev/null || { echo "FAIL: native: CMD never started"; exit 1; }
	kill -TERM "$rpid"
	wait "$rpid"
	st=$?
	sleep 1
	if pgrep -f "^$tag" > /dev/null; then
		echo "FAIL: native: CMD outlived its runner"; pkill -KILL -f "^$tag"; exit 1
	fi
	[ "$st" = 143 ] || { echo "FAIL: native: runner exit status $st, expected 143"; exit 1; }
	echo "ok: native: $KVM_PROBE_REASON; SIGTERM to the runner ended CMD (exit 143)"
	exit 0
}

# shellcheck source=tests/kvmhost/probe.sh
. "$src/tests/kvmhost/probe.sh"
if kvm_probe "$build"; then
	native_case
fi

# Job control: each runner gets a process group of its own (so "Ctrl-C"
# can go to its group) and does not start with SIGINT ignored, as
# background jobs of a non-interactive shell otherwise do.
set -m

failed=0 ctls=() cur=''
fail() { echo "FAIL: $*"; failed=1; }
# ours CTL: QEMUs (and their timeout wrappers) naming control folder CTL.
ours() {
	local p comm
	for p in $(pgrep -f -- "id=ctl,path=$1,"); do
		comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
		case $comm in qemu-system*|timeout) echo "$p" ;; esac
	done
}
# Never leave a runner or QEMU behind, even when this test fails or is killed.
finish() {
	local c p
	[ -z "$cur" ] || kill -KILL -- "-$cur" 2>/dev/null
	for c in "${ctls[@]}"; do
		p=$(ours "$c")
		# shellcheck disable=SC2086
		[ -z "$p" ] || kill -KILL $p 2>/dev/null
		rm -rf "$c"
	done
}
trap finish EXIT
trap 'exit 1' INT TERM HUP

# qemu_under PID: pids of qemu-system-* processes descending from PID.
qemu_under() {
	ps -e -o pid=,ppid=,comm= | awk -v root="$1" '
		{ pp[$1] = $2; comm[$1] = $3 }
		END {
			for (p in pp) {
				if (comm[p] !~ /^qemu-system/) continue
				for (q = pp[p]; q in pp && q != root; q = pp[q]) ;
				if (q == root) print p
			}
		}'
}

# one_case NAME EXPECTED_STATUS... : start a runner ($launcher), end it
# with end_runner, check.
one_case() {
	local name=$1 rpid qpid ctl='' t0=$SECONDS st i left
	shift
	echo "--- $name"
	"${launcher[@]}" "$run" --timeout 600 sleep 300 &
	rpid=$! cur=$!
	for ((i = 0; i < 120; i++)); do
		qpid=$(qemu_under "$rpid" | head -n 1)
		if [ -n "$qpid" ]; then
			ctl=$(tr '\0' '\n' < "/proc/$qpid/cmdline" 2>/dev/null |
				sed -n 's/^local,id=ctl,path=\(.*\),security_model=none$/\1/p')
			[ -z "$ctl" ] || break
		fi
		kill -0 "$rpid" 2>/dev/null || break
		sleep 0.5
	done
	if [ -z "$ctl" ]; then
		fail "$name: no QEMU of the runner seen running within 60 s"
		kill -KILL -- "-$rpid" 2>/dev/null
		wait "$rpid" 2>/dev/null
		return
	fi
	ctls+=("$ctl")
	echo "runner $rpid, QEMU $qpid up $((SECONDS - t0)) s after start, control folder $ctl"
	# Killed while CMD runs, as in real use. (Killed earlier, the old
	# runner's removal of the control folder broke the guest's init, and
	# QEMU ended by itself: no test.)
	for ((i = 0; i < 180; i++)); do
		[ ! -e "$ctl/heartbeat" ] || break
		kill -0 "$qpid" 2>/dev/null || break
		sleep 0.5
	done
	sleep 1
	if ! kill -0 "$qpid" 2>/dev/null; then
		fail "$name: QEMU $qpid ended by itself before the runner was stopped"
		kill -KILL -- "-$rpid" 2>/dev/null
		wait "$rpid" 2>/dev/null
		return
	fi
	if [ ! -e "$ctl/heartbeat" ]; then
		fail "$name: the emulated host did not start CMD within 90 s"
	else
		echo "CMD running $((SECONDS - t0)) s after start; ending the runner"
	fi
	end_runner "$rpid"
	wait "$rpid"
	st=$? cur=''
	for ((i = 0; i < 30; i++)); do
		[ -z "$(ours "$ctl")" ] && [ ! -e "$ctl" ] && break
		sleep 0.5
	done
	left=$(ours "$ctl")
	if [ -n "$left" ]; then
		fail "$name: QEMU outlived its runner (runner exit $st); still running 15 s later:"
		# shellcheck disable=SC2086
		ps -o pid,ppid,pgid,etime,pcpu,args -p "$(echo $left | tr ' ' ,)" | cut -c1-200
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null
		rm -rf "$ctl"
	elif [ -e "$ctl" ]; then
		fail "$name: QEMU ended but the control folder $ctl is still there"
	fi
	case " $* " in
	*" $st "*) ;;
	*) fail "$name: runner exit status $st, expected $*" ;;
	esac
	[ -n "$left" ] || echo "ok: no QEMU left $((SECONDS - t0)) s after start (runner exit $st)"
}

launcher=()
end_runner() { kill -TERM "$1"; }
one_case term 143

end_runner() { kill -INT -- "-$1"; }
one_case int 130

# The runner under timeout: timeout's own SIGTERM ends it. SIGALRM is
# how timeout learns its deadline passed; sent now, no waiting for it.
launcher=(timeout 600)
end_runner() { kill -ALRM "$1"; }
one_case timeout 124

launcher=()
end_runner() { kill -TERM -- "-$1"; sleep 0.5; kill -KILL -- "-$1" 2>/dev/null; }
one_case meson 143 137

end_runner() { kill -KILL "$1"; }
one_case kill 137

exit $failed

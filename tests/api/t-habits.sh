#!/bin/bash
# docker's habits that need no VM: `supermachine COMMAND --help` for every
# command (usage on stdout, exit 0, wherever --help is among the options),
# POST /v1/vms "hostname" checked as an RFC 1123 name, and the CLI's
# handling of an exec's error event (a fake daemon sends it): docker's
# message and status for command_not_found (127) and
# command_not_executable (126), the daemon's message otherwise, never
# "not JSON". tests/vm/habits does the same against real VMs.
. "$(dirname "$0")/lib.sh"

note "--help of every command"
cmds=$("$CLI" --help | sed -n 's/^  \([a-z]\+\) .*/\1/p' | sort -u)
[ "$(echo "$cmds" | wc -l)" -ge 20 ] || fail "commands in --help: $cmds"
for c in $cmds; do
	for h in --help -h; do
		st=0; "$CLI" --socket "$WORK/none.sock" "$c" "$h" > "$WORK/out" 2> "$WORK/err" || st=$?
		[ "$st" = 0 ] || fail "$c $h exited $st: $(cat "$WORK/err")"
		head -1 "$WORK/out" | grep -q "^usage: supermachine .*$c" || fail "$c $h: $(cat "$WORK/out")"
		[ -s "$WORK/err" ] && fail "$c $h wrote to stderr: $(cat "$WORK/err")"
	done
done
for args in "run --rm -e A=1 --help" "pool set --help" "snapshot rm -h" "exec -i --help" \
	"create --hostname x --help" "logs -f --help"; do
	"$CLI" --socket "$WORK/none.sock" $args > "$WORK/out" 2> "$WORK/err" || fail "$args: $(cat "$WORK/err")"
	grep -q "^usage: supermachine" "$WORK/out" || fail "$args: $(cat "$WORK/out")"
done
note "--help after the image or VM belongs to the command line"
for args in "run busybox ls --help" "exec vm -- sh -h" "run -e A=1 busybox -h"; do
	st=0; "$CLI" --socket "$WORK/none.sock" $args > "$WORK/out" 2> "$WORK/err" || st=$?
	[ "$st" = 1 ] && grep -q "cannot reach the daemon" "$WORK/err" && [ ! -s "$WORK/out" ] ||
		fail "$args was taken as help: $st $(cat "$WORK/out" "$WORK/err")"
done

note "hostname checks"
start_daemon
bad_host() { # HOSTNAME MESSAGE_PART
	req POST /v1/vms -d "{\"image\":\"busybox\",\"hostname\":\"$1\"}"
	expect_status 400 invalid_field "$2"
}
bad_host "" "must be a non-empty string"
bad_host "$(printf 'a%.0s' $(seq 65))" 'must be 1 to 64 characters'
bad_host "-web" "beginning or ending with '-'"
bad_host "web-" "beginning or ending with '-'"
bad_host "a..b" "empty label"
bad_host ".a" "empty label"
bad_host "web_1" "only letters, digits"
bad_host "$(printf 'a%.0s' $(seq 64)).b" 'must be 1 to 64 characters'
req POST /v1/vms -d '{"image":"busybox","hostname":42}'
expect_status 400 invalid_field '"hostname"'
req POST /v1/vms -d '{"image":"busybox","hostname":"Web-1.example"}'
expect_status 404 not_found   # checked and valid: the image is what is missing
stop_daemon

note "the CLI and an exec's error event"
fake="$WORK/fake.sock"
exec_with() { # CODE MESSAGE -> runs `exec vm -- x` against a fake daemon
	python3 "$(dirname "$0")/fake_exec_daemon.py" "$fake" "$1" "$2" & local fp=$!
	for _ in $(seq 1 100); do [ -S "$fake" ] && break; sleep 0.05; done
	st=0; "$CLI" --socket "$fake" exec vm -- x > "$WORK/out" 2> "$WORK/err" || st=$?
	kill "$fp"; wait "$fp" 2>/dev/null || true
	rm -f "$fake"
	grep -q "not JSON" "$WORK/err" && fail "not JSON: $(cat "$WORK/err")"
	[ "$(cat "$WORK/out")" = "partial output" ] || fail "stdout before the error: $(cat "$WORK/out")"
	[ "$(head -n1 "$WORK/err")" = warn ] || fail "stderr before the error: $(cat "$WORK/err")"
	sed -i 1d "$WORK/err"
	return 0
}
exec_with command_not_found 'exec: "x": executable file not found in $PATH'
[ "$st" = 127 ] || fail "command_not_found: exit $st"
[ "$(cat "$WORK/err")" = 'supermachine: exec: "x": executable file not found in $PATH' ] ||
	fail "command_not_found: $(cat "$WORK/err")"
exec_with command_not_executable 'exec: "/etc/passwd": permission denied'
[ "$st" = 126 ] && grep -qF 'exec: "/etc/passwd": permission denied' "$WORK/err" ||
	fail "command_not_executable: $st $(cat "$WORK/err")"
exec_with exec_failed 'the agent connection broke'
[ "$st" = 1 ] && grep -qF 'exec: the agent connection broke' "$WORK/err" ||
	fail "exec_failed: $st $(cat "$WORK/err")"
echo "t-habits: all passed"

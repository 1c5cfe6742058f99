#!/bin/bash
# The API socket: created 0660, removed on a clean stop (SIGTERM and
# SIGINT); a stale socket left by a crash is replaced; a live one - another
# supermachined, or any process accepting on it - is never stolen; a path
# that is not a socket is left alone; SUPERMACHINE_SOCKET and the XDG
# defaults for a non-root user pick the path; the config file is strict.
. "$(dirname "$0")/lib.sh"

note "created 0660, answering, removed on SIGTERM"
start_daemon
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SOCK")"
[ -S "$SOCK" ] || fail "not a socket"
still_alive
stop_daemon
[ ! -e "$SOCK" ] || fail "socket left after a clean stop"

note "a live supermachined is not replaced"
start_daemon
first=$DPID
if "$DAEMON" --vmm "$NOVMM" --config "$WORK/empty-config.json" --socket "$SOCK" --data-dir "$WORK/data2" \
	> "$WORK/second.log" 2>&1; then
	fail "a second daemon started on a live socket"
fi
grep -q "not taking its socket" "$WORK/second.log" || fail "unclear error: $(cat "$WORK/second.log")"
[ -S "$SOCK" ] || fail "the second daemon removed the live socket"
still_alive
note "SIGINT stops it cleanly too"
kill -INT "$first"
wait "$first" || fail "daemon exited $? on SIGINT"
PIDS=$(echo "$PIDS" | sed "s/\b$first\b//")
[ ! -e "$SOCK" ] || fail "socket left after SIGINT"

note "a socket somebody else accepts on is not replaced"
python3 - "$SOCK" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1)
time.sleep(30)
PY
holder=$!
PIDS="$PIDS $holder"
for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
if "$DAEMON" --vmm "$NOVMM" --config "$WORK/empty-config.json" --socket "$SOCK" --data-dir "$WORK/data" \
	> "$WORK/third.log" 2>&1; then
	fail "started over a live listener"
fi
grep -q "already listening on $SOCK" "$WORK/third.log" || fail "unclear error: $(cat "$WORK/third.log")"
kill "$holder"; wait "$holder" 2>/dev/null || true
rm -f "$SOCK"

note "a stale socket (nobody accepting) is replaced"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
[ -S "$SOCK" ] || fail "could not make a stale socket"
start_daemon
grep -q "replaced a stale socket" "$WORK/daemon.log" || fail "no note of the stale socket"
still_alive
stop_daemon

note "a file that is not a socket is left alone"
echo keep > "$SOCK"
if "$DAEMON" --vmm "$NOVMM" --config "$WORK/empty-config.json" --socket "$SOCK" --data-dir "$WORK/data" \
	> "$WORK/file.log" 2>&1; then
	fail "started over a regular file"
fi
grep -q "not a socket" "$WORK/file.log" || fail "unclear error: $(cat "$WORK/file.log")"
[ "$(cat "$SOCK")" = keep ] || fail "the file was touched"
rm -f "$SOCK"

note "SUPERMACHINE_SOCKET picks the path; --socket wins over it"
SUPERMACHINE_SOCKET="$WORK/env.sock" "$DAEMON" --vmm "$NOVMM" --config "$WORK/empty-config.json" \
	--data-dir "$WORK/data" > "$WORK/daemon.log" 2>&1 &
DPID=$!; PIDS="$PIDS $DPID"
wait_daemon "$WORK/env.sock"
stop_daemon

note "a non-root user gets the XDG paths"
if command -v setpriv > /dev/null && [ "$(id -u)" = 0 ]; then
	u="$WORK/user"; mkdir -p "$u/run" "$u/data" "$u/home"
	chmod 755 "$WORK"; chown -R 65534:65534 "$u"
	env -i PATH="$PATH" HOME="$u/home" XDG_RUNTIME_DIR="$u/run" XDG_DATA_HOME="$u/data" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$DAEMON" --vmm "$NOVMM" \
		> "$WORK/daemon.log" 2>&1 &
	DPID=$!; PIDS="$PIDS $DPID"
	wait_daemon "$u/run/supermachine/supermachined.sock"
	curl -s --unix-socket "$u/run/supermachine/supermachined.sock" http://sm/v1/info |
		jq -e --arg d "$u/data/supermachine" '.data_dir == $d' > /dev/null ||
		fail "data dir is not under XDG_DATA_HOME"
	stop_daemon
else
	note "skipped: needs root and setpriv"
fi

note "the config file is strict and flags override it"
echo '{"limits": {"max_body_bytes": 100}, "colour": "blue"}' > "$WORK/bad.json"
if "$DAEMON" --config "$WORK/bad.json" --socket "$SOCK" > "$WORK/cfg.log" 2>&1; then
	fail "an unknown config key was accepted"
fi
grep -q 'unknown key "colour"' "$WORK/cfg.log" || fail "unclear error: $(cat "$WORK/cfg.log")"
echo '{"default_vcpus": "two"}' > "$WORK/bad.json"
if "$DAEMON" --config "$WORK/bad.json" --socket "$SOCK" > "$WORK/cfg.log" 2>&1; then
	fail "a wrong type was accepted"
fi
grep -q '"default_vcpus"' "$WORK/cfg.log" || fail "unclear error: $(cat "$WORK/cfg.log")"
cat > "$WORK/good.json" <<EOF
{"socket": "$SOCK", "data_dir": "$WORK/data", "default_vcpus": 2,
 "default_memory_mib": 256, "insecure_registries": ["reg.lan:5000"],
 "limits": {"max_body_bytes": 100, "max_connections": 64}}
EOF
"$DAEMON" --vmm "$NOVMM" --config "$WORK/good.json" --vcpus 4 > "$WORK/daemon.log" 2>&1 &
DPID=$!; PIDS="$PIDS $DPID"
wait_daemon "$SOCK"
req GET /v1/info
jbody '[.defaults.vcpus, .defaults.memory_mib, .limits.max_body_bytes,
	.limits.max_connections, .insecure_registries[0]] | @tsv' > "$WORK/got"
printf '4\t256\t100\t64\treg.lan:5000\n' | cmp -s - "$WORK/got" || fail "settings: $(cat "$WORK/got")"
stop_daemon

#!/bin/bash
# systemd socket activation: the socket is created by the activator
# (systemd-socket-activate, which sets LISTEN_FDS/LISTEN_PID exactly as
# systemd does), the first connection starts the daemon, which serves on
# fd 3 and leaves the socket file to its owner when it stops; and the
# sd_notify protocol of the Type=notify service.
. "$(dirname "$0")/lib.sh"

command -v systemd-socket-activate > /dev/null || { echo "FAIL: no systemd-socket-activate (package systemd)" >&2; exit 1; }

systemd-socket-activate -l "$SOCK" "$DAEMON" --vmm "$NOVMM" --config "$WORK/empty-config.json" \
	--data-dir "$WORK/data" > "$WORK/daemon.log" 2>&1 &
DPID=$!
PIDS="$PIDS $DPID"
for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || fail "the activator made no socket"
# the first request is accepted by the activator's socket and served by
# the daemon it then execs
req GET /v1/info
expect_status 200
[ "$(jbody .socket)" = "(socket activation)" ] || fail "not activated: $(body)"
grep -q "serving on (socket activation)" "$WORK/daemon.log" || fail "log: $(cat "$WORK/daemon.log")"
for i in $(seq 1 5); do still_alive; done
stop_daemon
[ -S "$SOCK" ] || fail "an activated daemon must not remove its activator's socket"

note "LISTEN_PID for another process is ignored"
rm -f "$SOCK"
LISTEN_FDS=1 LISTEN_PID=1 start_daemon
still_alive
stop_daemon

note "Type=notify: READY=1 once serving, STOPPING=1 on SIGTERM"
python3 - "$WORK/notify.sock" > "$WORK/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
for _ in range(2):
    print(s.recv(256).decode(), flush=True)
PY
listener=$!
PIDS="$PIDS $listener"
for _ in $(seq 1 100); do [ -S "$WORK/notify.sock" ] && break; sleep 0.05; done
NOTIFY_SOCKET="$WORK/notify.sock" start_daemon
for _ in $(seq 1 100); do grep -q READY=1 "$WORK/notify.out" && break; sleep 0.05; done
grep -qx READY=1 "$WORK/notify.out" || fail "no READY=1: $(cat "$WORK/notify.out")"
stop_daemon
wait "$listener" || fail "no second notification"
[ "$(sed -n 2p "$WORK/notify.out")" = STOPPING=1 ] || fail "no STOPPING=1: $(cat "$WORK/notify.out")"

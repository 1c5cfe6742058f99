# lib.sh - helpers for the api suite (sourced by tests/api/t-*.sh).
#
# Each test starts its own supermachined on a socket in a temp dir, talks
# to it with curl (and the CLI), and checks status codes and JSON bodies
# with jq. The daemon runs under ASan when the build is sanitized; it is
# stopped with SIGTERM and must exit 0 (so a leak or a crash at shutdown
# fails the test). Sourced after tests/store/lib.sh, it reuses that
# file's WORK dir, PIDS list and EXIT trap.
set -eu

: "${SM_BUILD_ROOT:?run through meson test}"
: "${SM_SOURCE_ROOT:?run through meson test}"
DAEMON="$SM_BUILD_ROOT/daemon/supermachined"
CLI="$SM_BUILD_ROOT/client/supermachine"

if [ -z "${WORK:-}" ]; then
	WORK=$(mktemp -d /tmp/sm-api-test.XXXXXX)
	PIDS=""
	api_cleanup() {
		for p in $PIDS; do kill "$p" 2>/dev/null || true; done
		for p in $PIDS; do wait "$p" 2>/dev/null || true; done
		rm -rf "$WORK"
	}
	trap api_cleanup EXIT
	fail() { echo "FAIL: $*" >&2; exit 1; }
	note() { echo "# $*"; }
fi

SOCK="$WORK/sm.sock"
echo '{}' > "$WORK/empty-config.json"
# No VMM by default: the real one's KVM probe boots a guest, which is slow
# on emulated hosts and beside the point here (t-info.sh tests the probe).
NOVMM="$WORK/no-vmm"

# start_daemon [FLAGS...]: starts supermachined on $SOCK, sets DPID.
# DAEMON_WRAP (words) runs it under a tool, e.g. valgrind.
start_daemon() {
	start_daemon_config "$WORK/empty-config.json" "$@"
}

# start_daemon_config CONFIG_FILE [FLAGS...]: start_daemon with that
# configuration file.
start_daemon_config() {
	local config="$1"; shift
	${DAEMON_WRAP:-} "$DAEMON" --config "$config" --socket "$SOCK" \
		--data-dir "$WORK/data" --vmm "$NOVMM" "$@" > "$WORK/daemon.log" 2>&1 &
	DPID=$!
	PIDS="$PIDS $DPID"
	wait_daemon "$SOCK"
}

wait_daemon() { # SOCKET
	for _ in $(seq 1 200); do
		if curl -sf --unix-socket "$1" http://sm/v1/version > /dev/null 2>&1; then
			return 0
		fi
		kill -0 "$DPID" 2>/dev/null || { cat "$WORK/daemon.log" >&2; fail "daemon died"; }
		sleep 0.05
	done
	cat "$WORK/daemon.log" >&2
	fail "daemon not answering on $1"
}

# stop_daemon: SIGTERM, and the daemon must exit 0 within 30 s.
stop_daemon() {
	kill -TERM "$DPID"
	local rc=0
	wait "$DPID" || rc=$?
	PIDS=$(echo "$PIDS" | sed "s/\b$DPID\b//")
	if [ "$rc" != 0 ]; then
		cat "$WORK/daemon.log" >&2
		fail "daemon exited $rc on SIGTERM"
	fi
}

# seed_vms N: N VM rows in $WORK/data/vms.db as daemon/vms/vms_db.c writes
# them (a previous daemon run's VMs): the next daemon lists them as gone,
# so VM lists have rows without a boot. Labels: bench=yes, n=<i>.
seed_vms() {
	mkdir -p "$WORK/data"
	python3 - "$WORK/data/vms.db" "$1" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE IF NOT EXISTS vms (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")
for i in range(int(sys.argv[2])):
    vm = {"id": "%016x" % (0xbe9c400000000000 + i), "image": "bench/img1:v1",
          "image_id": "sha256:" + "ab" * 32, "state": "exited", "vcpus": 1,
          "memory_mib": 512, "labels": {"bench": "yes", "n": str(i)}, "env": ["A=1"],
          "cmd": None, "workdir": "", "user": "", "auto_remove": False,
          "created": "2026-11-27T00:00:00Z", "started": "2026-11-27T00:00:01Z",
          "exited": "2026-11-27T00:00:02Z"}
    db.execute("INSERT OR REPLACE INTO vms VALUES (?, ?)", (vm["id"], json.dumps(vm)))
db.commit()
PY
}

# req METHOD PATH [CURL ARGS...]: sets STATUS; the body is in $WORK/body.
req() {
	local m="$1" p="$2"; shift 2
	STATUS=$(curl -s --path-as-is --unix-socket "$SOCK" -X "$m" -o "$WORK/body" \
		-w '%{http_code}' "$@" "http://sm$p") || STATUS="curl-failed-$?"
}

body() { cat "$WORK/body"; }
jbody() { jq -r "$1" "$WORK/body"; }
jb() { jq "$@" "$WORK/body"; } # jb [JQ ARGS...]: jq on the body, JSON out

# import_busybox: the bundled image (daemon/store/layer/busybox-oci) into
# the running daemon; sets bb_id to its image id.
import_busybox() {
	local layout="$SM_BUILD_ROOT/daemon/store/layer/busybox-oci"
	[ -f "$layout/index.json" ] || fail "no bundled image at $layout"
	req POST /v1/images/import -d "{\"path\": \"$layout\"}"
	tail -1 "$WORK/body" | jq -e '.type == "image"' > /dev/null || fail "import: $(body)"
	bb_id=$(tail -1 "$WORK/body" | jq -r .image.id)
}

# expect_status CODE [ERROR_CODE [MESSAGE_SUBSTRING]]: checks the last req.
expect_status() {
	[ "$STATUS" = "$1" ] || fail "want HTTP $1, got $STATUS: $(body)"
	if [ $# -ge 2 ]; then
		local code; code=$(jbody '.error.code')
		[ "$code" = "$2" ] || fail "want error code $2, got '$code': $(body)"
	fi
	if [ $# -ge 3 ]; then
		jbody '.error.message' | grep -qF -- "$3" || fail "message lacks '$3': $(body)"
	fi
}

# still_alive: the daemon answers a plain request.
still_alive() {
	req GET /v1/version
	expect_status 200
	[ "$(jbody .api_version)" = v1 ] || fail "version body: $(body)"
}

# metric NAME_WITH_LABELS: its value from /metrics (empty if absent).
metric() {
	curl -s --unix-socket "$SOCK" http://sm/metrics | awk -v m="$1 " 'index($0, m) == 1 { print $NF }'

}

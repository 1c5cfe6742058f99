#!/bin/bash
# The supermachine CLI against a real daemon and registry: version, info,
# pull (plain lines when piped, bars on a terminal), import of a layout
# directory and of a tar, images as a table, -q and --json, rmi, and the
# message and exit code when the daemon is not running.
. "$SM_SOURCE_ROOT/tests/store/lib.sh"
. "$(dirname "$0")/lib.sh"

export SUPERMACHINE_SOCKET="$SOCK"
cli() { "$CLI" "$@"; }

note "a daemon that is not running"
if cli info > "$WORK/out" 2> "$WORK/err"; then fail "info succeeded without a daemon"; fi
grep -q "is supermachined running? socket $SOCK" "$WORK/err" || fail "message: $(cat "$WORK/err")"

start_registry reg
simple_image "$WORK/one" 2 gzip
push "$WORK/one" test/one:v1
start_daemon

note "version and info"
cli version | grep -q '^Daemon:  0\.' || fail "version: $(cli version)"
cli version --json | jq -e '.daemon.api_version == "v1"' > /dev/null || fail "version --json"
cli info | grep -q '^KVM: ' || fail "info: $(cli info)"
cli info --json | jq -e '.images == 0' > /dev/null || fail "info --json"
cli images | head -1 | grep -q '^IMAGE *ID *CREATED *SIZE$' || fail "table header: $(cli images)"

note "pull, piped: one plain line per phase change"
cli pull "$REG/test/one:v1" > "$WORK/pull.out" || fail "pull failed"
grep -Eq '^[0-9a-f]{12}: download$' "$WORK/pull.out" || fail "no phase lines: $(cat "$WORK/pull.out")"
grep -q $'\033' "$WORK/pull.out" && fail "escape codes in piped output"
id=$(sed -n 's/^pulled \(sha256:[0-9a-f]*\) .*/\1/p' "$WORK/pull.out")
[ -n "$id" ] || fail "no 'pulled' line: $(cat "$WORK/pull.out")"

note "pull on a terminal draws bars"
if command -v script > /dev/null; then
	script -qec "$CLI pull --platform linux/amd64 $REG/test/one:v1" /dev/null > "$WORK/tty.out" ||
		fail "tty pull failed: $(cat "$WORK/tty.out")"
	grep -q $'\033\\[2K' "$WORK/tty.out" || fail "no redraws on a terminal"
fi

note "images: table, -q, --json"
cli images | grep -q "^$REG/test/one:v1 *${id:7:12} " || fail "table row: $(cli images)"
[ "$(cli images -q)" = "${id:7:12}" ] || fail "images -q: $(cli images -q)"
cli images --json | jq -e --arg id "$id" '.[0].id == $id' > /dev/null || fail "images --json"
cli --json images | jq -e 'length == 1' > /dev/null || fail "global --json"

note "import a directory and a tar"
simple_image "$WORK/two" 1 gzip
cli import --tag local/two:v1 "$WORK/two" | grep -q '^imported sha256:[0-9a-f]* docker.io/local/two:v1$' ||
	fail "import dir"
simple_image "$WORK/three" 1 none
tar -C "$WORK/three" -cf "$WORK/three.tar" .
cli import --json --tag local/three:v1 "$WORK/three.tar" > "$WORK/imp.json"
jq -e '.tags == ["docker.io/local/three:v1"] or (.tags | length == 1)' "$WORK/imp.json" > /dev/null ||
	fail "import tar: $(cat "$WORK/imp.json")"
[ "$(cli images -q | wc -l)" = 3 ] || fail "3 images expected"

note "rmi, followed by events"
"$CLI" events --type image. > "$WORK/events.out" &
evpid=$!
PIDS="$PIDS $evpid"
for _ in $(seq 1 50); do
	[ "$(metric supermachine_event_subscribers)" = 1 ] && break
	sleep 0.1
done
cli rmi local/two:v1 | grep -q '^removed local/two:v1$' || fail "rmi"
if cli rmi local/two:v1 2> "$WORK/err"; then fail "rmi of a missing image succeeded"; fi
grep -q "no such image" "$WORK/err" || fail "rmi message: $(cat "$WORK/err")"
cli rmi -f local/three:v1 > /dev/null || fail "rmi -f"
[ "$(cli images -q | wc -l)" = 1 ] || fail "1 image expected"
for _ in $(seq 1 50); do
	[ "$(grep -c image.removed "$WORK/events.out")" = 2 ] && break
	sleep 0.1
done
grep -q "image.removed  *[0-9a-f]\{12\}  local/two:v1$" "$WORK/events.out" ||
	fail "events: $(cat "$WORK/events.out")"
kill "$evpid"

note "usage errors exit 2"
set +e
cli frobnicate 2> /dev/null; [ $? = 2 ] || fail "unknown command"
cli pull 2> /dev/null; [ $? = 2 ] || fail "pull without an image"
cli images --bogus 2> /dev/null; [ $? = 2 ] || fail "unknown option"
set -e

stop_daemon

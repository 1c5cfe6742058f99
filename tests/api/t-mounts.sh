#!/bin/bash
# POST /v1/vms "mounts" (shared host folders) without a VM: every refusal
# is a 400 invalid_field naming the mount and the reason - a host_path
# outside the daemon's "shared_folders", a symlink inside a shared folder
# pointing out of it, a missing path, a file, a relative path, bad guest
# paths, more than 4 mounts, a guest path given twice, mounts with
# "from_snapshot" - and a good one passes the body checks (then 404 for an
# unknown image, 503 for KVM: this daemon has no VMM). The config file's
# "shared_folders" is checked (type, absolute paths) and defaults to the
# daemon user's home. The CLI's -v resolves a relative HOST against its cwd.
. "$(dirname "$0")/lib.sh"

layout="$SM_BUILD_ROOT/daemon/store/layer/busybox-oci"
[ -f "$layout/index.json" ] || fail "no bundled image at $layout"

mkdir -p "$WORK/share/app/sub" "$WORK/share2" "$WORK/outside/secret"
echo hi > "$WORK/share/app/file.txt"
ln -s "$WORK/outside" "$WORK/share/escape"          # absolute, out
ln -s ../outside/secret "$WORK/share/escape-rel"    # relative, out
ln -s app/sub "$WORK/share/inside-link"             # stays inside
# A folder whose name starts like the shared one's: not beneath it.
mkdir -p "$WORK/share-not"
cat > "$WORK/config.json" <<JSON
{"shared_folders": ["$WORK/share", "$WORK/share2/"]}
JSON
start_daemon_config "$WORK/config.json"
req POST /v1/images/import -d "{\"path\": \"$layout\"}"
tail -1 "$WORK/body" | jq -e '.type == "image"' > /dev/null || fail "import: $(body)"
req GET /v1/info
jb -e --arg a "$WORK/share" --arg b "$WORK/share2/" '.shared_folders == [$a, $b]' > /dev/null ||
	fail "info: shared_folders: $(jb -c .shared_folders)"

# bad_mounts MOUNTS_JSON MESSAGE_PART: POST /v1/vms with those mounts is a
# 400 invalid_field whose message has MESSAGE_PART.
bad_mounts() {
	req POST /v1/vms -d "{\"image\":\"busybox\",\"mounts\":$1}"
	expect_status 400 invalid_field "$2"
}
m() { # HOST GUEST [EXTRA]: one mount object
	printf '{"host_path":"%s","guest_path":"%s"%s}' "$1" "$2" "${3:-}"
}

note "refused host paths"
bad_mounts "[$(m "$WORK/outside" /app)]" "is not inside a folder the daemon may share"
jbody .error.message | grep -qF "$WORK/share" || fail "the message lists no shared folder: $(body)"
bad_mounts "[$(m "$WORK/share-not" /app)]" "is not inside a folder the daemon may share"
bad_mounts "[$(m / /app)]" "is not inside a folder the daemon may share"
bad_mounts "[$(m "$WORK/share/.." /app)]" "is not inside a folder the daemon may share"
bad_mounts "[$(m "$WORK/share/app/../../outside" /app)]" "is not inside"
bad_mounts "[$(m "$WORK/share/escape" /app)]" "($WORK/outside) is not inside"
bad_mounts "[$(m "$WORK/share/escape/secret" /app)]" "is not inside"
bad_mounts "[$(m "$WORK/share/escape-rel" /app)]" "($WORK/outside/secret) is not inside"
bad_mounts "[$(m "$WORK/share/missing" /app)]" "no such folder"
bad_mounts "[$(m "$WORK/share/app/file.txt" /app)]" "is not a folder"
bad_mounts "[$(m share/app /app)]" "host_path \"share/app\" must be absolute"
bad_mounts "[$(m ./share /app)]" "must be absolute"

note "refused guest paths"
bad_mounts "[$(m "$WORK/share" app)]" "guest_path \"app\" must be absolute"
bad_mounts "[$(m "$WORK/share" /)]" "must not be / itself"
bad_mounts "[$(m "$WORK/share" /app/../etc)]" "must not have a . or .. component"
bad_mounts "[$(m "$WORK/share" /app/..)]" "must not have a . or .. component"
bad_mounts "[$(m "$WORK/share" /./app)]" "must not have a . or .. component"
bad_mounts "[$(m "$WORK/share" //app)]" "empty component"
bad_mounts "[$(m "$WORK/share" /app/)]" "empty component"

note "the list and its items"
bad_mounts "[$(m "$WORK/share" /a),$(m "$WORK/share" /b),$(m "$WORK/share" /c),$(m "$WORK/share" /d),$(m "$WORK/share" /e)]" \
	"at most 4 mounts, not 5"
bad_mounts "[$(m "$WORK/share/app" /app),$(m "$WORK/share2" /app)]" \
	"field \"mounts\"[1]: guest_path \"/app\" is given twice"
bad_mounts '"/x"' 'field "mounts" must be an array'
bad_mounts '["/x"]' 'field "mounts"[0]: expected an object'
bad_mounts "[$(m "$WORK/share" /app ',"ro":true')]" 'unknown field "ro"'
bad_mounts "[$(m "$WORK/share" /app ',"readonly":"yes"')]" '"readonly" must be a boolean'
bad_mounts "[$(m "$WORK/share" /app ',"watch":1')]" '"watch" must be a boolean'
bad_mounts "[{\"guest_path\":\"/app\"}]" 'missing "host_path"'
bad_mounts "[{\"host_path\":\"$WORK/share\"}]" 'missing "guest_path"'
bad_mounts "[{\"host_path\":\"\",\"guest_path\":\"/app\"}]" '"host_path" must be a non-empty string'
req POST /v1/vms -d "{\"from_snapshot\":\"s\",\"mounts\":[$(m "$WORK/share" /app)]}"
expect_status 400 invalid_field 'cannot be given with "from_snapshot"'

note "good mounts pass the body checks"
good="[$(m "$WORK/share" /app),$(m "$WORK/share/app/sub" /app/sub ',"readonly":true,"watch":false'),$(m "$WORK/share/inside-link" /data),$(m "$WORK/share2" /x/y/z)]"
req POST /v1/vms -d "{\"image\":\"no/such:image\",\"mounts\":$good}"
expect_status 404 not_found
req POST /v1/vms -d "{\"image\":\"busybox\",\"mounts\":$good}"
expect_status 503 kvm_unavailable
req POST /v1/vms -d '{"image":"busybox","mounts":[]}'
expect_status 503 kvm_unavailable
req GET /v1/vms
[ "$(jbody '.vms | length')" = 0 ] || fail "a refused create left a VM: $(body)"

note "the CLI: -v HOST:GUEST[:ro], a relative HOST (with a /) against the cwd"
cli() { (cd "$1" && shift && SUPERMACHINE_SOCKET="$SOCK" "$CLI" "$@") > "$WORK/out" 2>&1; }
rc=0; cli "$WORK/share" create -v ./app:/app busybox || rc=$?
grep -q "KVM cannot run guests here" "$WORK/out" || fail "create -v ./app:/app (rc $rc): $(cat "$WORK/out")"
rc=0; cli "$WORK/share/app" create -v ../../outside:/app:ro busybox || rc=$?
[ "$rc" != 0 ] && grep -qF "host_path \"$WORK/outside\" is not inside" "$WORK/out" ||
	fail "create -v ../../outside: rc $rc: $(cat "$WORK/out")"
rc=0; cli "$WORK/share" create -v nosuch:/app busybox || rc=$?
[ "$rc" != 0 ] && grep -q "nosuch" "$WORK/out" || fail "-v nosuch: rc $rc: $(cat "$WORK/out")"
for bad in app app: :/app app:/app:rw app:/app:ro:x; do
	rc=0; cli "$WORK/share" create -v "$bad" busybox || rc=$?
	[ "$rc" = 2 ] || fail "-v '$bad': want usage error 2, got $rc: $(cat "$WORK/out")"
	grep -q -- "-v" "$WORK/out" || fail "-v '$bad': $(cat "$WORK/out")"
done
rc=0; cli "$WORK/share" run -v app:/a -v app:/b -v app:/c -v app:/d -v app:/e busybox || rc=$?
[ "$rc" = 2 ] || fail "five -v: want 2, got $rc: $(cat "$WORK/out")"
"$CLI" run --help | grep -q -- "-v, --volume HOST:GUEST\[:ro\]" || fail "run --help lacks -v"
"$CLI" create --help | grep -q -- "--volume" || fail "create --help lacks -v"
still_alive
stop_daemon

note "the config file: shared_folders checked, defaults to the daemon user's home"
for cfg in '{"shared_folders": "/tmp"}' '{"shared_folders": ["tmp"]}' '{"shared_folders": [1]}'; do
	echo "$cfg" > "$WORK/bad.json"
	rc=0
	"$DAEMON" --config "$WORK/bad.json" --socket "$SOCK" --data-dir "$WORK/data" \
		--vmm "$NOVMM" > "$WORK/out" 2>&1 || rc=$?
	[ "$rc" = 2 ] && grep -q '"shared_folders"' "$WORK/out" ||
		fail "config $cfg: rc $rc: $(cat "$WORK/out")"
done
home=$(getent passwd "$(id -u)" | cut -d: -f6)
start_daemon
req GET /v1/info
jb -e --arg h "$home" '.shared_folders == [$h]' > /dev/null ||
	fail "info: default shared_folders: $(jb -c .shared_folders), want [$home]"
case "$WORK" in "$home"/*) note "the temp dir is under $home: skipping the default check" ;;
*)	req POST /v1/vms -d "{\"image\":\"busybox\",\"mounts\":[$(m "$WORK/share" /app)]}"
	expect_status 400 invalid_field "\"shared_folders\": $home)"
	;;
esac
if [ -d "$home" ]; then
	req POST /v1/vms -d "{\"image\":\"busybox\",\"mounts\":[$(m "$home" /home)]}"
	expect_status 503 kvm_unavailable
fi
stop_daemon
echo '{"shared_folders": []}' > "$WORK/none.json"
start_daemon_config "$WORK/none.json"
req POST /v1/vms -d "{\"image\":\"busybox\",\"mounts\":[$(m "$WORK/share" /app)]}"
expect_status 400 invalid_field "\"shared_folders\": none)"
stop_daemon
echo ok

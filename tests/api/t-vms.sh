#!/bin/bash
# The VM routes' answers that need no running VM, natively: every body,
# query and path check (400), unknown VMs (404), an image without a command
# or a request whose "entrypoint" leaves none (422: docker's --entrypoint
# drops the image's cmd), KVM unusable (503: this daemon's VMM is missing,
# so its probe says no on any host) - each with its status and error code,
# the daemon still answering afterwards, and /metrics and /v1/info showing
# no VM; a previous run's VMs show their entrypoint and cmd. Running VMs
# are the vm suite's (tests/vm/api, tests/vm/habits), through the kvmhost
# runner.
. "$(dirname "$0")/lib.sh"

layout="$SM_BUILD_ROOT/daemon/store/layer/busybox-oci"
[ -f "$layout/index.json" ] || fail "no bundled image at $layout"
cp -r "$layout" "$WORK/bb"
{ umoci config --image "$WORK/bb:latest" --clear=config.cmd --tag nocmd &&
	umoci rm --image "$WORK/bb:latest"; } > /dev/null ||
	fail "umoci: an image without a cmd"
start_daemon
req POST /v1/images/import -d "{\"path\": \"$layout\"}"
tail -1 "$WORK/body" | jq -e '.type == "image"' > /dev/null || fail "import: $(body)"
req POST /v1/images/import -d "{\"path\": \"$WORK/bb\", \"tag\": \"local/nocmd:v1\"}"
tail -1 "$WORK/body" | jq -e '.type == "image" and .image.cmd == []' > /dev/null ||
	fail "import nocmd: $(body)"

note "POST /v1/vms: the body"
bad_create() { # BODY MESSAGE_PART
	req POST /v1/vms -d "$1"
	expect_status 400
	case $(jbody .error.code) in invalid_json|invalid_field) ;; *) fail "code: $(body)" ;; esac
	jbody .error.message | grep -qF -- "$2" || fail "message lacks '$2': $(body)"
}
bad_create '{"image":' 'malformed JSON'
bad_create '[]' 'must be a JSON object'
bad_create '{}' 'missing required field "image"'
bad_create '{"image":"busybox","cpus":2}' 'unknown field "cpus"'
bad_create '{"image":"busybox","vcpus":"2"}' '"vcpus"'
bad_create '{"image":"busybox","vcpus":0}' '"vcpus" must be 1 to 64'
bad_create '{"image":"busybox","vcpus":65}' '"vcpus" must be 1 to 64'
bad_create '{"image":"busybox","memory":16}' '"memory" (MiB)'
bad_create '{"image":"busybox","storage_mib":0}' '"storage_mib" (the writable layer, MiB) must be 64 to 1048576'
bad_create '{"image":"busybox","storage_mib":63}' 'must be 64 to 1048576'
bad_create '{"image":"busybox","storage_mib":-1}' '"storage_mib"'
bad_create '{"image":"busybox","storage_mib":1048577}' 'must be 64 to 1048576'
bad_create '{"image":"busybox","storage_mib":99999999999999}' 'must be 64 to 1048576'
bad_create '{"image":"busybox","storage_mib":1e3}' '"storage_mib"'
bad_create '{"image":"busybox","storage_mib":"10G"}' '"storage_mib"'
bad_create '{"image":"busybox","env":["NOEQUALS"]}' 'is not KEY=VALUE'
bad_create '{"image":"busybox","env":"A=1"}' '"env"'
bad_create '{"image":"busybox","labels":{"a":1}}' 'label "a" must be a string'
bad_create '{"image":"busybox","cmd":[]}' '"cmd" must not be empty'
bad_create '{"image":"busybox","entrypoint":"/bin/echo"}' '"entrypoint" must be an array of strings'
bad_create '{"image":"busybox","entrypoint":["/bin/echo",1]}' '"entrypoint" must be an array of strings'
bad_create '{"image":"busybox","entrypoint":null}' '"entrypoint" must be an array of strings'
bad_create '{"image":"busybox","entrypoint":{"a":"b"}}' '"entrypoint" must be an array of strings'
bad_create '{"image":"busybox","auto_remove":"yes"}' '"auto_remove"'
req POST '/v1/vms?x=1' -d '{"image":"busybox"}'
expect_status 400 invalid_query

note "POST /v1/vms: the image, its command, then KVM"
req POST /v1/vms -d '{"image":"no/such:image"}'
expect_status 404 not_found
req POST /v1/vms -d '{"image":"local/nocmd:v1"}'
expect_status 422 no_command "neither an entrypoint nor a cmd"
req POST /v1/vms -d '{"image":"busybox"}'
expect_status 503 kvm_unavailable "KVM cannot run guests here"
req POST /v1/vms -d '{"image":"local/nocmd:v1","cmd":["sh"]}'
expect_status 503 kvm_unavailable
note "an entrypoint given drops the image's cmd (docker's --entrypoint): [] or [\"\"] leaves none"
for ep in '[]' '[""]'; do
	req POST /v1/vms -d "{\"image\":\"busybox\",\"entrypoint\":$ep}"
	expect_status 422 no_command 'clears the entrypoint of image busybox ("entrypoint" empty) and gives no "cmd"'
done
req POST /v1/vms -d '{"image":"local/nocmd:v1","entrypoint":[]}'
expect_status 422 no_command "clears the entrypoint"
req POST /v1/vms -d '{"image":"busybox","entrypoint":[],"cmd":["ls"]}'
expect_status 503 kvm_unavailable
req POST /v1/vms -d '{"image":"local/nocmd:v1","entrypoint":["/bin/echo"]}'
expect_status 503 kvm_unavailable
req GET /v1/vms
expect_status 200
[ "$(jbody '.vms | length')" = 0 ] || fail "a refused create left a VM: $(body)"

note "listing filters"
req GET '/v1/vms?state=running&label=a=b&label=c'
expect_status 200
[ "$(jbody '.vms | length')" = 0 ] || fail "filtered list: $(body)"
req GET '/v1/vms?state=sleeping'
expect_status 400 invalid_query "state \"sleeping\""
req GET '/v1/vms?all=1'
expect_status 400 invalid_query

note "unknown VMs"
for p in /v1/vms/0123456789abcdef /v1/vms/abcd /v1/vms/abcd/logs \
	'/v1/vms/abcd/logs?follow=1' '/v1/vms/abcd/logs?source=main&follow=1' \
	'/v1/vms/abcd/logs?source=console' '/v1/vms/abcd/files?path=/etc/hostname'; do
	req GET "$p"
	expect_status 404 not_found "no such VM"
done
req GET /v1/vms/ab   # too short to be a prefix
expect_status 404 not_found
req DELETE /v1/vms/abcd
expect_status 404 not_found
req DELETE '/v1/vms/abcd?force=1'
expect_status 404 not_found
req POST /v1/vms/abcd/stop
expect_status 404 not_found
req POST /v1/vms/abcd/main
expect_status 404 not_found
req POST /v1/vms/abcd/wait
expect_status 404 not_found
req GET /v1/vms/abcd/stats
expect_status 404 not_found
req GET '/v1/vms/abcd/stats?all=1'
expect_status 400 invalid_query
req POST /v1/vms/abcd/exec -d '{"argv":["true"]}'
expect_status 404 not_found
req POST /v1/vms/abcd/exec/0011223344556677/signal -d '{"signal":2}'
expect_status 404 not_found
req PUT '/v1/vms/abcd/files?path=/tmp/x' --data-binary 'data'
expect_status 404 not_found

note "exec, signal and file checks come before the VM lookup"
bad_exec() { # BODY MESSAGE_PART
	req POST /v1/vms/abcd/exec -d "$1"
	expect_status 400
	jbody .error.message | grep -qF -- "$2" || fail "message lacks '$2': $(body)"
}
bad_exec '{"argv":[]}' '"argv" must not be empty'
bad_exec '{"argv":"ls"}' '"argv"'
bad_exec '{"argv":["ls"],"env":["=x"]}' 'is not KEY=VALUE'
bad_exec '{"argv":["ls"],"timeout":-1}' '"timeout"'
bad_exec '{"argv":["ls"],"timeout":90000}' 'at most 86400'
bad_exec '{"argv":["ls"],"tty":true}' 'unknown field "tty"'
req POST /v1/vms/abcd/exec/0011/signal -d '{"signal":0}'
expect_status 400 invalid_field "signal number"
req POST /v1/vms/abcd/exec/0011/signal -d '{}'
expect_status 400 invalid_field "signal"
for q in '' 'path=relative' 'path=/a/../etc/passwd' 'path=/a/./b' 'path=/x&bogus=1'; do
	req GET "/v1/vms/abcd/files?$q"
	expect_status 400
done
req PUT '/v1/vms/abcd/files?path=/tmp/x&mode=999' --data-binary 'data'
expect_status 400 invalid_query "octal"
req GET '/v1/vms/abcd/logs?follow=maybe'
expect_status 400 invalid_query
req GET '/v1/vms/abcd/logs?source=mian'
expect_status 400 invalid_query '"console" or "main"'
req POST '/v1/vms/abcd/main?argv=sh'
expect_status 400 invalid_query
req POST '/v1/vms/abcd/wait?timeout=1'
expect_status 400 invalid_query

note "the pty exec and resize routes"
req POST /v1/vms/abcd/exec/tty -d '{"argv":["sh"]}'
expect_status 400 upgrade_required "Upgrade: supermachine-tty"
up=(-H 'Connection: Upgrade' -H 'Upgrade: supermachine-tty')
req POST /v1/vms/abcd/exec/tty "${up[@]}" -d '{"argv":["sh"],"rows":0}'
expect_status 400 invalid_field '"rows" must be 1 to 65535'
req POST /v1/vms/abcd/exec/tty "${up[@]}" -d '{"argv":["sh"],"stdin":"eA=="}'
expect_status 400 invalid_field 'unknown field "stdin"'
req POST /v1/vms/abcd/exec/tty "${up[@]}" -d '{"argv":["sh"],"rows":30,"cols":100}'
expect_status 404 not_found
req POST /v1/vms/abcd/exec/0011/resize -d '{"rows":30}'
expect_status 400 invalid_field 'missing required field "cols"'
req POST /v1/vms/abcd/exec/0011/resize -d '{"rows":0,"cols":10}'
expect_status 400 invalid_field
req POST /v1/vms/abcd/exec/0011/resize -d '{"rows":30,"cols":100}'
expect_status 404 not_found
st=0; "$CLI" --socket "$SOCK" exec -it abcd -- sh > "$WORK/out" 2>&1 < /dev/null || st=$?
[ "$st" = 1 ] && grep -q "no such VM: abcd" "$WORK/out" || fail "cli exec -it: $st $(cat "$WORK/out")"

note "methods"
req PATCH /v1/vms/abcd
expect_status 405
req GET /v1/vms/abcd/stop
expect_status 405

note "the CLI says the same"
export SUPERMACHINE_SOCKET="$SOCK"
st=0; "$CLI" run --rm busybox -- echo hi > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "KVM cannot run guests here" "$WORK/out" || fail "cli run: $st $(cat "$WORK/out")"
st=0; "$CLI" run local/nocmd:v1 > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "neither an entrypoint nor a cmd" "$WORK/out" || fail "cli run nocmd: $(cat "$WORK/out")"
st=0; "$CLI" exec abcd -- true > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "no such VM: abcd" "$WORK/out" || fail "cli exec: $st $(cat "$WORK/out")"
for c in run create; do
	st=0; "$CLI" "$c" --entrypoint "" busybox > "$WORK/out" 2>&1 || st=$?
	[ "$st" = 1 ] && grep -q "clears the entrypoint of image busybox" "$WORK/out" ||
		fail "cli $c --entrypoint '': $st $(cat "$WORK/out")"
	st=0; "$CLI" "$c" --entrypoint=/bin/echo local/nocmd:v1 -- hi > "$WORK/out" 2>&1 || st=$?
	[ "$st" = 1 ] && grep -q "KVM cannot run guests here" "$WORK/out" ||
		fail "cli $c --entrypoint /bin/echo: $st $(cat "$WORK/out")"
done
st=0; "$CLI" exec --entrypoint /bin/echo abcd -- true > "$WORK/out" 2>&1 || st=$?
[ "$st" = 2 ] || fail "cli exec --entrypoint: $st $(cat "$WORK/out")"
"$CLI" run --help | grep -q -- '--entrypoint CMD' || fail "run --help lacks --entrypoint"
"$CLI" create --help | grep -q -- '--entrypoint' || fail "create --help lacks --entrypoint"
st=0; "$CLI" exec abcd > "$WORK/out" 2>&1 || st=$?
[ "$st" = 2 ] || fail "cli exec without a command: $st $(cat "$WORK/out")"
st=0; "$CLI" run --cpus 0 busybox > "$WORK/out" 2>&1 || st=$?
[ "$st" = 2 ] || fail "cli run --cpus 0: $st $(cat "$WORK/out")"
st=0; "$CLI" cp /etc/hostname /tmp/x > "$WORK/out" 2>&1 || st=$?
[ "$st" = 2 ] || fail "cli cp between two host paths: $st $(cat "$WORK/out")"
st=0; "$CLI" cp abcd:/etc/hostname "$WORK/x" > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "no such VM" "$WORK/out" || fail "cli cp: $st $(cat "$WORK/out")"
st=0; "$CLI" rm -f abcd > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] || fail "cli rm: $st $(cat "$WORK/out")"
"$CLI" ps | grep -q '^VM ID' || fail "ps header: $("$CLI" ps)"
[ "$("$CLI" --json ps -a)" = "[]" ] || fail "ps -a --json: $("$CLI" --json ps -a)"

still_alive
[ "$(metric 'supermachine_vms{state="running"}')" = 0 ] || fail "vms gauge: $(metric 'supermachine_vms{state="running"}')"
[ "$(metric supermachine_exec_duration_seconds_count)" = 0 ] || fail "exec histogram"
req GET /v1/info
jbody '.vms.running == 0 and (.guest.kernel | type) == "string"' | grep -qx true ||
	fail "info: $(body)"
stop_daemon

note "a previous run's VMs: listed as gone, filtered, inspected, removed"
seed_vms 3
start_daemon
req GET /v1/vms
expect_status 200
jbody '[.vms[] | .state] == ["gone","gone","gone"] and (.vms[0].labels.bench == "yes")' |
	grep -qx true || fail "list of gone VMs: $(body)"
req GET '/v1/vms?state=gone&label=n=1'
[ "$(jbody '[.vms[].id] | join(",")')" = be9c400000000001 ] || fail "filtered list: $(body)"
req GET '/v1/vms?state=running'
[ "$(jbody '.vms | length')" = 0 ] || fail "running list: $(body)"
req GET /v1/vms/be9c4000
expect_status 400 ambiguous
note "a VM that is not running has no main process to start, wait for or read"
req POST /v1/vms/be9c400000000001/main
expect_status 409 vm_not_running
req POST /v1/vms/be9c400000000001/wait
expect_status 409 no_main_process
req GET '/v1/vms/be9c400000000001/logs?source=main'
expect_status 409 no_main_process
req GET /v1/vms/be9c400000000001/stats
expect_status 409 vm_not_running
[ "$("$CLI" --json stats)" = "[]" ] || fail "stats of no running VM: $("$CLI" --json stats)"
req GET /v1/vms/be9c400000000001
jbody 'has("main") | not' | grep -qx true || fail "a main field without a main process: $(body)"
st=0; "$CLI" wait be9c400000000001 > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "has no main process" "$WORK/out" || fail "cli wait: $st $(cat "$WORK/out")"
"$CLI" logs be9c400000000001 > "$WORK/out" 2>&1 || fail "cli logs falls back to the console: $(cat "$WORK/out")"
req DELETE /v1/vms/be9c400000000002
expect_status 200
[ "$("$CLI" --json ps -a | jq -r '[.[].id] | join(",")')" = be9c400000000000,be9c400000000001 ] ||
	fail "ps -a after a removal: $("$CLI" --json ps -a)"
stop_daemon

note "a previous run's VMs show their entrypoint and cmd (null: the image's)"
python3 - "$WORK/data/vms.db" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for i, ep, cmd in ((0xe0, ["/bin/echo", "-n"], ["hi"]), (0xe1, [], ["ls"]), (0xe2, None, None)):
    vm = {"id": "%016x" % (0xbe9c400000000000 + i), "image": "busybox", "image_id": "sha256:" + "ab" * 32,
          "state": "exited", "vcpus": 1, "memory_mib": 256, "labels": {}, "env": ["A=1"],
          "cmd": cmd, "entrypoint": ep, "workdir": "", "user": "", "auto_remove": False,
          "created": "2026-11-27T00:00:00Z", "started": None, "exited": None}
    if ep is None:
        del vm["entrypoint"]   # a row from before the field: the image's
    db.execute("INSERT OR REPLACE INTO vms VALUES (?, ?)", (vm["id"], json.dumps(vm)))
db.commit()
PY
start_daemon
req GET /v1/vms/be9c4000000000e0
expect_status 200
jbody '.entrypoint == ["/bin/echo","-n"] and .cmd == ["hi"] and .env == ["A=1"]' | grep -qx true ||
	fail "entrypoint of a gone VM: $(body)"
req GET /v1/vms/be9c4000000000e1
jbody '.entrypoint == [] and .cmd == ["ls"]' | grep -qx true || fail "empty entrypoint: $(body)"
req GET /v1/vms/be9c4000000000e2
jbody '.entrypoint == null and .cmd == null and has("entrypoint")' | grep -qx true ||
	fail "a row without entrypoint: $(body)"
"$CLI" --json ps -a | jq -e '[.[] | select(.id == "be9c4000000000e0")][0].entrypoint == ["/bin/echo","-n"]' \
	> /dev/null || fail "ps -a --json: $("$CLI" --json ps -a)"
stop_daemon

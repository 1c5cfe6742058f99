#!/bin/bash
# Named volumes without VMs, natively: POST /v1/volumes makes a sparse
# ext4 disk in the store (a real filesystem: dumpe2fs reads it) and a row
# that survives a restart and gc; bad names (/, .., empty, too long, a
# leading dot) and sizes are 400 naming the problem; a taken name is 409;
# GET and DELETE of an unknown volume are 404; DELETE removes row and
# file. POST /v1/vms checks its "volumes" before KVM (unknown volume 404,
# bad path or field 400, with from_snapshot 400). The CLI's volume
# create/ls/inspect/rm and -v NAME:/path. Attaching to running VMs (the
# read-write exclusion, data kept across VMs) is the vm suite's
# (tests/vm/storage).
. "$(dirname "$0")/lib.sh"

start_daemon
store="$WORK/data"

note "none yet; bad names and sizes"
req GET /v1/volumes
expect_status 200
[ "$(jbody '.volumes | length')" = 0 ] || fail "list: $(body)"
long=$(printf 'a%.0s' $(seq 1 65))
for n in 'a/b' '..' '.hidden' '-x' 'sp ace' "$long" 'é'; do
	req POST /v1/volumes -d "$(jq -nc --arg n "$n" '{name:$n}')"
	expect_status 400 invalid_name
done
req POST /v1/volumes -d '{"name":""}'
expect_status 400
req POST /v1/volumes -d '{}'
expect_status 400 invalid_field
req POST /v1/volumes -d '{"name":"v","size":3}'
expect_status 400 invalid_field
for s in 0 15 16777217 '"64"' -1 1.5; do
	req POST /v1/volumes -d "{\"name\":\"v\",\"size_mib\":$s}"
	expect_status 400
done
req GET /v1/volumes/a..b
expect_status 404 not_found
req GET '/v1/volumes/..'
[ "$STATUS" = 400 ] || [ "$STATUS" = 404 ] || fail "GET ..: $STATUS $(body)"
req DELETE /v1/volumes/nope
expect_status 404 not_found "no such volume: nope"
req DELETE "/v1/volumes/$long"
expect_status 400 invalid_name

note "create: a sparse ext4 disk"
req POST /v1/volumes -d '{"name":"data","size_mib":64}'
expect_status 201
[ "$(jbody .name)" = data ] && [ "$(jbody .size_mib)" = 64 ] || fail "create: $(body)"
path=$(jbody .path)
[ "$path" = "$store/volumes/data.ext4" ] || fail "path $path"
[ "$(stat -c %s "$path")" = $((64 << 20)) ] || fail "size $(stat -c %s "$path")"
used=$(( $(stat -c %b "$path") * 512 ))
[ "$used" -lt $((8 << 20)) ] || fail "not sparse: $used bytes used"
/usr/sbin/dumpe2fs -h "$path" 2>/dev/null | grep -q 'has_journal' || fail "no ext4 with a journal"
/usr/sbin/dumpe2fs -h "$path" 2>/dev/null | grep -q '^Reserved block count: *0$' ||
	fail "blocks reserved for root"
req POST /v1/volumes -d '{"name":"data"}'
expect_status 409 conflict "volume data already exists"
req POST /v1/volumes -d '{"name":"cache.v1-x_y"}'
expect_status 201
[ "$(jbody .size_mib)" = 1024 ] || fail "default size: $(body)"
req GET /v1/volumes
[ "$(jbody '[.volumes[].name] | join(",")')" = "cache.v1-x_y,data" ] || fail "list: $(body)"
req GET /v1/volumes/data
expect_status 200
[ "$(jbody .path)" = "$path" ] && [ "$(jbody .used_by)" = null ] || fail "inspect: $(body)"

note "POST /v1/vms checks volumes before KVM"
import_busybox
req POST /v1/vms -d '{"image":"busybox","volumes":[{"name":"nope","path":"/d"}]}'
expect_status 404 not_found "no such volume: nope"
for v in '{"name":"data"}' '{"path":"/d"}' '{"name":"data","path":"d"}' \
	'{"name":"data","path":"/"}' '{"name":"data","path":"/a/../b"}' \
	'{"name":"data","path":"/a b"}' '{"name":"data","path":"/a:b"}' \
	'{"name":"data","path":"/a,b"}' '{"name":"data","path":"/d","readonly":1}' \
	'{"name":"data","path":"/d","x":1}' '{"name":"a/b","path":"/d"}' '"data"'; do
	req POST /v1/vms -d "{\"image\":\"busybox\",\"volumes\":[$v]}"
	expect_status 400 invalid_field "volumes"
done
req POST /v1/vms -d '{"image":"busybox","volumes":[{"name":"data","path":"/d"},{"name":"cache.v1-x_y","path":"/d"}]}'
expect_status 400 invalid_field 'path "/d" is given twice'
req POST /v1/vms -d '{"image":"busybox","volumes":[{"name":"data","path":"/d"},{"name":"data","path":"/e"},{"name":"data","path":"/f"},{"name":"data","path":"/g"},{"name":"data","path":"/h"}]}'
expect_status 400 invalid_field "at most 4 volumes"
req POST /v1/vms -d '{"from_snapshot":"s","volumes":[{"name":"data","path":"/d"}]}'
expect_status 400 invalid_field '"volumes" cannot be given with "from_snapshot"'
req POST /v1/vms -d '{"image":"busybox","volumes":[{"name":"data","path":"/d","readonly":true}]}'
expect_status 503 kvm_unavailable

note "gc and a restart keep volumes; a stray file is collected"
: > "$store/volumes/stray.ext4"
req POST /v1/system/gc
expect_status 200
[ -e "$path" ] && [ ! -e "$store/volumes/stray.ext4" ] || fail "gc: $(ls "$store/volumes")"
stop_daemon
start_daemon
req GET /v1/volumes/data
expect_status 200
[ "$(jbody .size_mib)" = 64 ] || fail "after restart: $(body)"

note "the CLI"
cli() { SUPERMACHINE_SOCKET="$SOCK" "$CLI" "$@" > "$WORK/out" 2>&1; }
cli volume create --size 32M logs || fail "volume create: $(cat "$WORK/out")"
[ "$(cat "$WORK/out")" = logs ] || fail "volume create printed $(cat "$WORK/out")"
cli volume create --size=2G big || fail "volume create --size=2G: $(cat "$WORK/out")"
cli --json volume inspect big && [ "$(jq -r .size_mib "$WORK/out")" = 2048 ] ||
	fail "volume inspect: $(cat "$WORK/out")"
rc=0; cli volume create --size 1k tiny || rc=$?
[ "$rc" = 2 ] && grep -q "expected a size from 16 MiB" "$WORK/out" || fail "--size 1k: $rc $(cat "$WORK/out")"
rc=0; cli volume create 'a/b' || rc=$?
[ "$rc" = 1 ] && grep -q "has '/'" "$WORK/out" || fail "create a/b: $rc $(cat "$WORK/out")"
cli volume ls || fail "volume ls: $(cat "$WORK/out")"
head -1 "$WORK/out" | grep -q '^NAME *SIZE *USED *CREATED' || fail "ls header: $(cat "$WORK/out")"
grep -Eq "^logs +33.6 MB" "$WORK/out" || fail "ls row: $(cat "$WORK/out")"
cli volume --help && grep -q "volume create \[--size SIZE\] NAME" "$WORK/out" ||
	fail "volume --help: $(cat "$WORK/out")"
rc=0; cli create -v data:/data busybox || rc=$?
grep -q "KVM cannot run guests here" "$WORK/out" || fail "create -v data:/data: $rc $(cat "$WORK/out")"
rc=0; cli create -v nope:/data busybox || rc=$?
[ "$rc" = 1 ] && grep -q "no such volume: nope" "$WORK/out" || fail "create -v nope: $rc $(cat "$WORK/out")"
cli volume rm logs big || fail "volume rm: $(cat "$WORK/out")"
rc=0; cli volume rm logs || rc=$?
[ "$rc" = 1 ] && grep -q "no such volume: logs" "$WORK/out" || fail "rm again: $rc $(cat "$WORK/out")"
[ ! -e "$store/volumes/logs.ext4" ] || fail "logs.ext4 left behind"

note "DELETE"
req DELETE /v1/volumes/data
expect_status 200
[ "$(jbody .deleted)" = data ] && [ ! -e "$path" ] || fail "delete: $(body)"
req GET /v1/volumes/data
expect_status 404
stop_daemon

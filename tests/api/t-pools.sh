#!/bin/bash
# Warm pools without VMs, natively: PUT /v1/pools/{image} checks its body
# (400 naming the field: min and max required, 0 <= min <= max, 1 <= max
# <= 64, idle_timeout, vcpus, memory in range, no unknown field), then the
# image (404 for an unknown one, 400 for a name that is no reference);
# GET and DELETE of an unknown pool are 404; a pool is created (201) and
# changed (200), found by any name of its image, kept under the canonical
# reference, saved across a restart; a pool that cannot restore (no VMM
# here) counts its failures and shows the error; the config file's pools
# ("source": "config", checked strictly: a bad one stops the daemon at
# start); DELETE removes a pool for good; the CLI's pool set/ls/inspect/rm
# and their usage errors. Pools with running VMs are the vm suite's
# (tests/vm/pool).
. "$(dirname "$0")/lib.sh"

start_daemon
import_busybox
bb=docker.io/library/busybox:latest

note "no pools yet"
req GET /v1/pools
expect_status 200
[ "$(jbody '.pools | length')" = 0 ] || fail "list: $(body)"
req GET '/v1/pools?x=1'
expect_status 400 invalid_query

note "PUT: the body first"
for b in '{}' '{"min":1}' '{"max":1}' '{"min":"1","max":2}' '{"min":-1,"max":2}' \
	'{"min":1,"max":2,"size":3}' '[1]' 'nope'; do
	req PUT /v1/pools/busybox -d "$b"
	expect_status 400
done
req PUT /v1/pools/busybox -d '{"min":3,"max":2}'
expect_status 400 invalid_field 'field "min" (3) must not be above "max" (2)'
req PUT /v1/pools/busybox -d '{"min":0,"max":0}'
expect_status 400 invalid_field '"max" must be an integer from 1 to 64'
req PUT /v1/pools/busybox -d '{"min":0,"max":65}'
expect_status 400 invalid_field '"max" must be an integer from 1 to 64'
req PUT /v1/pools/busybox -d '{"min":65,"max":64}'
expect_status 400 invalid_field '"min" must be an integer from 0 to 64'
req PUT /v1/pools/busybox -d '{"min":1,"max":2,"idle_timeout":86401}'
expect_status 400 invalid_field '"idle_timeout"'
req PUT /v1/pools/busybox -d '{"min":1,"max":2,"vcpus":0}'
expect_status 400 invalid_field '"vcpus"'
req PUT /v1/pools/busybox -d '{"min":1,"max":2,"vcpus":65}'
expect_status 400 invalid_field '"vcpus"'
req PUT /v1/pools/busybox -d '{"min":1,"max":2,"memory":63}'
expect_status 400 invalid_field '"memory"'
req PUT /v1/pools/busybox?x=1 -d '{"min":1,"max":2}'
expect_status 400 invalid_query

note "then the image"
req PUT /v1/pools/no/such/image:v1 -d '{"min":0,"max":2}'
expect_status 404 not_found "no such image"
req PUT /v1/pools/sha256:$(printf 'ab%.0s' $(seq 1 32)) -d '{"min":0,"max":2}'
expect_status 404 not_found
req PUT /v1/pools/Not_A_Reference -d '{"min":0,"max":2}'
expect_status 400 invalid_reference
req GET /v1/pools/busybox
expect_status 404 not_found "no pool for image busybox"
req DELETE /v1/pools/busybox
expect_status 404 not_found
req DELETE /v1/pools/no/such/image:v1
expect_status 404 not_found
req POST /v1/pools/busybox
expect_status 405

note "a pool: created, changed, found by any name of its image"
req PUT /v1/pools/busybox -d '{"min":0,"max":2,"idle_timeout":30}'
expect_status 201
jb --arg bb "$bb" --arg id "$bb_id" '.image == $bb and .image_id == $id and .min == 0 and
	.max == 2 and .idle_timeout == 30 and .vcpus == 1 and .memory_mib == 512 and
	.source == "api" and .ready == 0 and .in_use == 0 and .restoring == 0 and .hits == 0 and
	.misses == 0 and .restores == 0 and .failures == 0 and .acquire_ms_avg == 0 and
	.error == null' | grep -qx true || fail "new pool: $(body)"
req PUT "/v1/pools/$bb" -d '{"min":0,"max":3,"vcpus":2,"memory":256}'
expect_status 200
jbody '.max == 3 and .vcpus == 2 and .memory_mib == 256 and .idle_timeout == 300' |
	grep -qx true || fail "changed pool: $(body)"
for name in busybox "$bb" "$bb_id" "${bb_id#sha256:}" "${bb_id:7:12}"; do
	req GET "/v1/pools/$name"
	expect_status 200
	[ "$(jbody .image)" = "$bb" ] || fail "GET /v1/pools/$name: $(body)"
done
req GET /v1/pools
[ "$(jbody '[.pools[].image] | join(",")')" = "$bb" ] || fail "list: $(body)"
req POST /v1/vms -d '{"image":"busybox","vcpus":2,"memory":256}'
expect_status 503 kvm_unavailable

note "a pool that cannot restore counts its failures and says why"
req PUT /v1/pools/busybox -d '{"min":1,"max":2,"vcpus":2,"memory":256}'
expect_status 200
for _ in $(seq 1 100); do
	req GET /v1/pools/busybox
	[ "$(jbody .failures)" -ge 1 ] && break
	sleep 0.1
done
jbody '.failures >= 1 and .ready == 0 and .restores == 0 and
	(.error | test("restoring a VM: baking image"))' | grep -qx true ||
	fail "a pool without a VMM: $(body)"
req GET /v1/vms
[ "$(jbody '.vms | length')" = 0 ] || fail "the pool's failed VMs are listed: $(body)"
[ "$(ls "$WORK/data/vms")" = "" ] || fail "the pool's failed VMs left files: $(ls "$WORK/data/vms")"
req PUT /v1/pools/busybox -d '{"min":0,"max":3,"vcpus":2,"memory":256}'
expect_status 200
stop_daemon

note "saved across a restart"
start_daemon
req GET /v1/pools/busybox
expect_status 200
jbody '.min == 0 and .max == 3 and .vcpus == 2 and .memory_mib == 256 and .source == "api"' |
	grep -qx true || fail "after a restart: $(body)"

note "the CLI"
export SUPERMACHINE_SOCKET="$SOCK"
"$CLI" pool ls > "$WORK/out" || fail "pool ls: $(cat "$WORK/out")"
head -1 "$WORK/out" | grep -q '^IMAGE  *MIN  *MAX  *READY  *IN USE' || fail "pool ls header: $(cat "$WORK/out")"
grep -q "^$bb  *0  *3  *0  *0  *2  *256 MiB" "$WORK/out" || fail "pool ls: $(cat "$WORK/out")"
"$CLI" pool set busybox --min 0 --max 4 --idle-timeout 9 > "$WORK/out" || fail "pool set: $(cat "$WORK/out")"
grep -q "^$bb: min 0, max 4, idle timeout 9 s, 1 vCPUs, 512 MiB" "$WORK/out" || fail "pool set: $(cat "$WORK/out")"
[ "$("$CLI" --json pool ls | jq -r '.[0].max')" = 4 ] || fail "pool ls --json"
"$CLI" pool inspect busybox | jq -e '.idle_timeout == 9' > /dev/null || fail "pool inspect"
for args in "set busybox --min 3 --max 2" "set busybox --max 2" "set busybox --min 0" \
	"set busybox --min 0 --max 65" "set --min 0 --max 1" "set busybox --min x --max 1" \
	"set busybox --min 0 --max 1 --bogus 1" "frob" "" "inspect" "rm"; do
	st=0; "$CLI" pool $args > "$WORK/out" 2>&1 || st=$?
	[ "$st" = 2 ] || fail "pool $args: exit $st: $(cat "$WORK/out")"
done
st=0; "$CLI" pool set no/such:image --min 0 --max 1 > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "no such image" "$WORK/out" || fail "pool set of an unknown image: $st $(cat "$WORK/out")"
st=0; "$CLI" pool rm nope:v1 > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "no pool for image nope:v1" "$WORK/out" || fail "pool rm unknown: $st $(cat "$WORK/out")"
"$CLI" pool --help > "$WORK/out" || fail "pool --help exited $?"
grep -q "^usage: supermachine .*pool set IMAGE --min N --max M" "$WORK/out" &&
	grep -q -- "--idle-timeout" "$WORK/out" || fail "pool --help: $(cat "$WORK/out")"
"$CLI" --help | grep -q '^  pool set' || fail "--help lacks pool"
"$CLI" pool rm busybox > "$WORK/out" || fail "pool rm: $(cat "$WORK/out")"
[ "$(cat "$WORK/out")" = busybox ] || fail "pool rm printed $(cat "$WORK/out")"
req GET /v1/pools/busybox
expect_status 404 not_found
stop_daemon

note "removed for good; the config file's pools"
cat > "$WORK/pools.json" <<JSON
{"pools": {"busybox": {"min": 0, "max": 5, "idle_timeout": 7}, "other/img:v2": {"min": 0, "max": 1}}}
JSON
start_daemon_config "$WORK/pools.json"
req GET /v1/pools
jb --arg bb "$bb" '[.pools[] | {image, max, source, image_id: (.image_id != null)}] | sort_by(.image) ==
	[{"image": $bb, "max": 5, "source": "config", "image_id": true},
	 {"image": "docker.io/other/img:v2", "max": 1, "source": "config", "image_id": false}]' |
	grep -qx true ||
	fail "config pools: $(body)"
stop_daemon
for bad in '{"pools": {"busybox": {"min": 5, "max": 2}}}' '{"pools": {"busybox": {"max": 2}}}' \
	'{"pools": {"busybox": {"min": 0, "max": 2, "size": 1}}}' '{"pools": []}' '{"bake": 1}'; do
	echo "$bad" > "$WORK/bad.json"
	st=0; "$DAEMON" --config "$WORK/bad.json" --socket "$SOCK" --data-dir "$WORK/data" \
		--vmm "$NOVMM" > "$WORK/out" 2>&1 || st=$?
	[ "$st" = 2 ] && grep -q 'bad.json: "\(pools\|bake\)"' "$WORK/out" ||
		fail "config $bad: exit $st: $(cat "$WORK/out")"
done
start_daemon
req GET /v1/pools
[ "$(jbody '.pools | length')" = 0 ] || fail "a removed pool came back: $(body)"
still_alive
stop_daemon

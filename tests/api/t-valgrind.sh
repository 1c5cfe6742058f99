#!/bin/bash
# The daemon's paths are valgrind-clean: under memcheck, every route, bad
# bodies, an import, a pull that fails, streams cut by their clients and a
# shutdown with a stream still open leave no memory error and no leak.
# (The snapshot and pool routes too, up to where a running VM would be
# needed.)
# Needs a build without -Dsanitize=true (valgrind cannot run ASan code):
# it is the suite 'valgrind', which script/test runs in an unsanitized build.
. "$SM_SOURCE_ROOT/tests/store/lib.sh"
. "$(dirname "$0")/lib.sh"

command -v valgrind > /dev/null || fail "valgrind is not installed"
if nm "$DAEMON" 2> /dev/null | grep -q __asan_init; then
	fail "sanitized build: run the valgrind suite in a build without -Dsanitize=true"
fi
simple_image "$WORK/img" 2 gzip
seed_vms 3     # a previous run's VMs: the lists below have rows
DAEMON_WRAP="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --child-silent-after-fork=yes
	--log-file=$WORK/valgrind.log"
start_daemon
for p in /v1/version /v1/info /metrics /v1/images /v1/images/busybox /v1/nope '/v1/info?x=1'; do
	req GET "$p"
done
req PUT /v1/info
req POST /v1/images/pull -d '{"reference": "x'
req POST /v1/images/pull -d '{"reference": "busybox", "extra": 1}'
head -c 3000000 /dev/zero | tr '\0' ' ' > "$WORK/big"
req POST /v1/images/pull --data-binary @"$WORK/big"
req POST /v1/images/import -d "{\"path\": \"$WORK/img\", \"tag\": \"vg/img:v1\"}"
tail -1 "$WORK/body" | grep -q '"type":"image"' || fail "import: $(body)"
req GET /v1/images/vg/img:v1
expect_status 200
# VM routes up to where a VM would be needed (this daemon has no VMM).
req POST /v1/vms -d '{"image":"vg/img:v1","env":["A=1"],"labels":{"a":"b"},"cmd":["sh"]}'
expect_status 503
req POST /v1/vms -d '{"image":"no/such:img"}'
for p in /v1/vms '/v1/vms?state=gone&label=n=1' '/v1/vms?state=running&label=a=b&label=c' \
	/v1/vms/abcd /v1/vms/be9c4000 /v1/vms/abcd/logs \
	'/v1/vms/abcd/files?path=/etc/passwd' '/v1/vms/abcd/files?path=../x'; do
	req GET "$p"
done
req POST /v1/vms/abcd/exec -d '{"argv":["true"],"env":["A=1"],"stdin":"eA=="}'
req POST /v1/vms/abcd/exec -d '{"argv":[]}'
req POST /v1/vms/abcd/exec/tty -d '{"argv":["sh"]}'
req POST /v1/vms/abcd/exec/tty -H 'Connection: Upgrade' -H 'Upgrade: supermachine-tty' -d '{"rows":3}'
req POST /v1/vms/abcd/exec/0011/resize -d '{"rows":3,"cols":4}'
req PUT '/v1/vms/abcd/files?path=/tmp/x' --data-binary 'data'
# folder uploads: a hostile tar, a good one (checked, then no such VM), garbage
mkdir -p "$WORK/tree/sub" && echo x > "$WORK/tree/sub/f" && ln -sf sub/f "$WORK/tree/l"
tar -cf "$WORK/good.tar" -C "$WORK" tree
ln -s /etc "$WORK/tree/abs"
tar -cf "$WORK/bad.tar" -C "$WORK" tree
for t in good.tar:404 bad.tar:400 big:400; do
	req PUT '/v1/vms/abcd/files?path=/srv' -H 'Content-Type: application/x-tar' \
		--data-binary @"$WORK/${t%:*}"
	expect_status "${t#*:}"
done
# snapshot routes up to where a running VM would be needed
req GET /v1/snapshots
req GET /v1/snapshots/nope
req DELETE /v1/snapshots/nope
req POST /v1/vms/abcd/snapshot -d '{"name":"ok"}'
req POST /v1/vms/abcd/snapshot -d '{"name":"-bad"}'
req POST /v1/vms/be9c400000000000/snapshot -d '{"name":"ok"}'
expect_status 409
req POST /v1/vms/be9c400000000000/fork -d '{"count":2,"labels":{"a":"b"}}'
expect_status 409
req POST /v1/vms -d '{"from_snapshot":"nope","env":["A=1"]}'
expect_status 404
req POST /v1/vms -d '{"from_snapshot":"nope","image":"vg/img:v1"}'
expect_status 400
# pool routes: a pool whose restores fail (no VMM: its thread bakes, fails,
# backs off), changed, removed, another left to the shutdown; gc
req GET /v1/pools
req PUT /v1/pools/vg/img:v1 -d '{"min":1,"max":2,"idle_timeout":1}'
expect_status 201
req PUT /v1/pools/vg/img:v1 -d '{"min":3,"max":2}'
expect_status 400
req PUT /v1/pools/no/such:img -d '{"min":0,"max":1}'
expect_status 404
sleep 2
req GET /v1/pools/vg/img:v1
expect_status 200
req PUT /v1/pools/vg/img:v1 -d '{"min":0,"max":2,"vcpus":2}'
expect_status 200
req DELETE /v1/pools/vg/img:v1
expect_status 200
req PUT /v1/pools/vg/img:v1 -d '{"min":1,"max":1}'
expect_status 201
req POST /v1/system/gc
expect_status 200
req DELETE '/v1/vms/abcd?force=1'
req DELETE /v1/vms/be9c400000000001
expect_status 200
req GET '/v1/vms?label=bench=yes'
[ "$(jbody '.vms | length')" = 2 ] || fail "VMs after a removal: $(body)"

req DELETE /v1/images/vg/img:v1
expect_status 200
curl -s -N --max-time 1 --unix-socket "$SOCK" http://sm/v1/events > /dev/null || true
curl -s -N --max-time 1 --unix-socket "$SOCK" -X POST -d '{"reference": "127.0.0.1:9/a:1"}' \
	http://sm/v1/images/pull > /dev/null || true
curl -s -N --unix-socket "$SOCK" http://sm/v1/events > /dev/null &
PIDS="$PIDS $!"
sleep 0.5
stop_daemon    # fails on exit status 99: a memcheck error or a leak
if grep -q "ERROR SUMMARY: [1-9]\|definitely lost: [1-9]" "$WORK/valgrind.log"; then
	cat "$WORK/valgrind.log" >&2
	fail "memcheck found errors"
fi
note "memcheck: no errors, no leaks"

#!/bin/bash
# bench/api: requests per second and p50/p99 latency of GET /v1/info,
# GET /v1/images (3 images in the store) and GET /v1/vms (16 VMs) with 1
# and 16 concurrent keep-alive clients (sm-loadgen), then the instructions
# one request costs
# the daemon, from callgrind: the daemon's total instruction count with
# N+1000 requests minus that with N requests, divided by 1000 (start-up
# and shutdown cancel out). A sanitized build is measured but flagged, and
# callgrind (which cannot run ASan binaries) is skipped for it. No VMM is
# given, so the KVM probe (a guest boot) stays out of the figures.
# Ends with one `result: NAME VALUE` line per figure compared across runs
# (api_info_rps_1, api_info_rps_16, api_images_rps_16: requests/s), after
# everything else; a figure that cannot be measured fails the benchmark.
#
# The VMs are rows of DATA/vms.db written before the daemon starts, as a
# previous daemon run leaves them (same table, same JSON document): the
# daemon loads them as "gone" VMs, so the list has rows without a boot.
# GET /v1/vms is served from the daemon's memory; the rows only count.
set -eu
: "${SM_BUILD_ROOT:?run through meson benchmark (or set SM_BUILD_ROOT/SM_SOURCE_ROOT)}"
. "$SM_SOURCE_ROOT/tests/store/lib.sh"
. "$SM_SOURCE_ROOT/tests/api/lib.sh"
LOADGEN="$SM_BUILD_ROOT/bench/sm-loadgen"
SECS=${SM_BENCH_SECONDS:-5}

sanitized=no
nm "$DAEMON" 2> /dev/null | grep -q __asan_init && sanitized=yes
echo "bench/api: supermachined $("$DAEMON" --version | cut -d' ' -f2), sanitized=$sanitized," \
	"$(nproc) cores, ${SECS}s per run"

for i in 1 2 3; do simple_image "$WORK/img$i" 2 gzip; done
seed_vms 16
start_daemon
[ "$(curl -s --unix-socket "$SOCK" http://sm/v1/vms | jq '.vms | length')" = 16 ] ||
	fail "the seeded VMs are not listed"
for i in 1 2 3; do
	req POST /v1/images/import -d "{\"path\": \"$WORK/img$i\", \"tag\": \"bench/img$i:v1\"}"
	tail -1 "$WORK/body" | grep -q '"type":"image"' || fail "import: $(body)"
done
"$LOADGEN" "$SOCK" /v1/info 1 1 > /dev/null   # warm up (and the cached KVM probe)

# the result lines, printed last: "NAME VALUE" each
results=()
printf '%-12s %8s %10s %10s %10s\n' route clients req/s p50_us p99_us
for path in /v1/info /v1/images /v1/vms; do
	for c in 1 16; do
		line=$("$LOADGEN" "$SOCK" "$path" "$c" "$SECS") || fail "loadgen: $line"
		v() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
		rps=$(v rps)
		printf '%-12s %8s %10s %10s %10s\n' "$path" "$c" "$rps" "$(v p50_us)" "$(v p99_us)"
		case "$path $c" in
		"/v1/info 1") name=api_info_rps_1 ;;
		"/v1/info 16") name=api_info_rps_16 ;;
		"/v1/images 16") name=api_images_rps_16 ;;
		*) continue ;;
		esac
		if ! [[ $rps =~ ^[0-9]+$ ]] || [ "$rps" = 0 ]; then
			fail "GET $path with $c clients: no request rate measured (loadgen said: $line)"
		fi
		results+=("$name $rps")
	done
done
stop_daemon

# total Ir of a daemon run that served COUNT requests of PATH
run_callgrind() { # PATH COUNT
	local out="$WORK/cg.$2.out"
	valgrind --tool=callgrind --callgrind-out-file="$out" "$DAEMON" --vmm "$NOVMM" \
		--config "$WORK/empty-config.json" --socket "$SOCK" --data-dir "$WORK/data" \
		> "$WORK/cg.log" 2>&1 &
	DPID=$!
	PIDS="$PIDS $DPID"
	wait_daemon "$SOCK"
	"$LOADGEN" "$SOCK" "$1" 1 0 "$2" > /dev/null || fail "loadgen under callgrind"
	stop_daemon
	sed -n 's/^summary: *//p; s/^totals: *//p' "$out" | head -1 | cut -d' ' -f1
}
if [ "$sanitized" = yes ] || ! command -v valgrind > /dev/null; then
	echo "callgrind: skipped (needs valgrind and a build without -Dsanitize=true)"
else
	for path in /v1/vms /v1/images /v1/info; do
		base=$(run_callgrind "$path" 100)
		more=$(run_callgrind "$path" 1100)
		echo "callgrind: GET $path costs the daemon $(( (more - base) / 1000 )) instructions per request" \
			"(keep-alive connection; $base Ir for 100 requests, $more Ir for 1100)"
	done
fi

[ "${#results[@]}" = 3 ] || fail "expected 3 result figures, measured ${#results[@]}"
for r in "${results[@]}"; do echo "result: $r"; done

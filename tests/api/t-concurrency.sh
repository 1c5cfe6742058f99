#!/bin/bash
# 50 clients at once list and inspect images while two event streams and
# a slow pull stream stay open: every request is answered correctly and
# within its own 20 s limit (none waits for the streams), and the streams
# are still there afterwards.
. "$SM_SOURCE_ROOT/tests/store/lib.sh"
. "$(dirname "$0")/lib.sh"

simple_image "$WORK/img" 1 gzip
start_daemon
req POST /v1/images/import -d "{\"path\": \"$WORK/img\", \"tag\": \"local/img:v1\"}"
tail -1 "$WORK/body" | jq -e '.type == "image"' > /dev/null || fail "import: $(body)"
id=$(tail -1 "$WORK/body" | jq -r .image.id)

for s in 1 2; do
	curl -s -N --unix-socket "$SOCK" http://sm/v1/events > "$WORK/ev$s" &
	PIDS="$PIDS $!"
done
# a pull that sits in connection retries for seconds
curl -s -N --unix-socket "$SOCK" -X POST -d '{"reference": "127.0.0.1:9/slow/pull:1"}' \
	http://sm/v1/images/pull > "$WORK/slow" &
PIDS="$PIDS $!"
sleep 0.3

start=$(date +%s%N)
for i in $(seq 1 50); do
	(
		if [ $((i % 2)) = 0 ]; then path=/v1/images; else path=/v1/images/local/img:v1; fi
		for k in 1 2 3 4; do
			out=$(curl -s --max-time 20 --unix-socket "$SOCK" -w '\n%{http_code}' "http://sm$path")
			code=$(echo "$out" | tail -1)
			[ "$code" = 200 ] || { echo "client $i: HTTP $code" >&2; exit 1; }
			case "$out" in
			*"\"id\":\"$id\""*) ;;
			*) echo "client $i: wrong body: $out" >&2; exit 1 ;;
			esac
		done
	) > "$WORK/client$i.log" 2>&1 &
	CPIDS="${CPIDS:-} $!"
done
bad=0
for p in $CPIDS; do wait "$p" || bad=$((bad + 1)); done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$bad" = 0 ] || { cat "$WORK"/client*.log >&2; fail "$bad of 50 clients failed"; }
note "50 clients x 4 requests answered in ${ms} ms with 3 streams open"
[ "$(metric supermachine_event_subscribers)" = 2 ] || fail "event streams dropped"
still_alive
stop_daemon

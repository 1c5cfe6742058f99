#!/bin/bash
# Bad requests get the right status and an {"error":{code,message}} body
# that names what is wrong, and the daemon keeps answering after each:
# malformed JSON, wrong types, unknown and missing fields, oversized
# bodies (declared and chunked), unknown routes, methods and query
# parameters, ".." in paths, unknown images, clients that hang up in the
# middle of a stream, a stop with a stream open, and an upload the disk
# cannot hold.
. "$(dirname "$0")/lib.sh"

start_daemon --max-body 256

note "malformed and wrong JSON"
req POST /v1/images/pull -d '{"reference": "busybox"'
expect_status 400 invalid_json "malformed JSON"
req POST /v1/images/pull -d '[1,2]'
expect_status 400 invalid_json "must be a JSON object"
req POST /v1/images/pull
expect_status 400 invalid_json "empty"
req POST /v1/images/pull -d '{"reference": 42}'
expect_status 400 invalid_field '"reference" must be a non-empty string'
req POST /v1/images/pull -d '{"reference": ""}'
expect_status 400 invalid_field '"reference"'
req POST /v1/images/pull -d '{"reference": "busybox", "tag": "x"}'
expect_status 400 invalid_field 'unknown field "tag"'
req POST /v1/images/pull -d '{"platform": "linux/amd64"}'
expect_status 400 invalid_field 'missing required field "reference"'
req POST /v1/images/pull -d '{"reference": "busybox", "reference": "alpine"}'
expect_status 400 invalid_json "duplicate"
req POST /v1/images/pull -d '{"reference": "UPPER/Case!!"}'
expect_status 400 invalid_reference
req POST /v1/images/pull -d '{"reference": "busybox", "platform": "linux"}'
expect_status 400 invalid_field '"platform"'
req POST /v1/images/pull -d '{"reference": "busybox", "username": "u"}'
expect_status 400 invalid_field '"password"'
req POST /v1/images/import -d '{"path": "relative/dir"}'
expect_status 400 invalid_field "absolute"
req POST /v1/images/import -d "{\"path\": \"$WORK/does-not-exist\"}"
expect_status 400 invalid_field "No such file"
still_alive

note "bodies over the limit (256 bytes here)"
head -c 4096 /dev/zero | tr '\0' ' ' > "$WORK/big"
req POST /v1/images/pull --data-binary @"$WORK/big" -H 'Content-Type: application/json'
expect_status 413 body_too_large "256"
req POST /v1/images/pull --data-binary @"$WORK/big" -H 'Transfer-Encoding: chunked'
expect_status 413 body_too_large "256"
still_alive

note "routes, methods, paths and query parameters"
req GET /v1/nothing
expect_status 404 not_found "no route"
req GET /v2/images
expect_status 404 not_found
req PUT /v1/info
expect_status 405 method_not_allowed
curl -s -i --unix-socket "$SOCK" -X DELETE http://sm/v1/version | grep -qi '^Allow: GET' ||
	fail "405 without an Allow header"
req GET /v1/images/../info
expect_status 400 invalid_path
req GET /v1/images/%2e%2e/info
expect_status 400 invalid_path
req GET /v1/images//busybox
expect_status 400 invalid_path
req GET /v1/images/a/./b
expect_status 400 invalid_path
req GET '/v1/info?verbose=1'
expect_status 400 invalid_query 'unknown query parameter "verbose"'
req DELETE '/v1/images/busybox?force=maybe'
expect_status 400 invalid_query '"force"'
still_alive

note "unknown images"
req GET /v1/images/busybox
expect_status 404 not_found "busybox"
req GET /v1/images/sha256:0000000000000000000000000000000000000000000000000000000000000000
expect_status 404 not_found
req GET /v1/images/0123456789abcdef
expect_status 404 not_found
req DELETE /v1/images/127.0.0.1:5000/some/image:tag
expect_status 404 not_found
req GET '/v1/images/Bad!Name'
expect_status 400 invalid_reference
still_alive

note "a client that hangs up mid-stream frees its connection"
base=$(metric supermachine_http_connections)
for i in 1 2 3; do
	curl -s -N --max-time 0.5 --unix-socket "$SOCK" http://sm/v1/events > /dev/null || true
done
# a pull stream: the registry port refuses, the client leaves early
curl -s -N --max-time 0.3 --unix-socket "$SOCK" -X POST \
	-d '{"reference": "127.0.0.1:9/none/such:1"}' http://sm/v1/images/pull > /dev/null || true
for _ in $(seq 1 50); do
	[ "$(metric supermachine_event_subscribers)" = 0 ] && break
	sleep 0.1
done
[ "$(metric supermachine_event_subscribers)" = 0 ] || fail "event subscribers left behind"
now=$(metric supermachine_http_connections)
[ "$now" -le "$((base + 1))" ] || fail "connections went from $base to $now"
still_alive

note "metrics count what happened"
[ "$(metric 'supermachine_http_requests_total{route="unmatched",code="404"}')" -ge 2 ] ||
	fail "404s not counted"
[ "$(metric 'supermachine_http_requests_total{route="POST /v1/images/pull",code="413"}')" = 2 ] ||
	fail "413s not counted"

note "stopping ends open streams cleanly and cancels a pull, promptly"
(curl -s -N --unix-socket "$SOCK" http://sm/v1/events > /dev/null; echo $? > "$WORK/ev.rc") &
# this pull retries a refused connection for seconds
(curl -s -N --unix-socket "$SOCK" -X POST -d '{"reference": "127.0.0.1:9/never/there:1"}' \
	http://sm/v1/images/pull > "$WORK/pull.out"; echo $? > "$WORK/pull.rc") &
for _ in $(seq 1 50); do
	[ "$(metric supermachine_event_subscribers)" = 1 ] && [ -s "$WORK/pull.out" ] && break
	sleep 0.1
done
t0=$(date +%s%N)
stop_daemon
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
for _ in $(seq 1 50); do [ -s "$WORK/ev.rc" ] && [ -s "$WORK/pull.rc" ] && break; sleep 0.1; done
[ "$(cat "$WORK/ev.rc")" = 0 ] || fail "curl exited $(cat "$WORK/ev.rc") on a daemon stop"
[ "$(cat "$WORK/pull.rc")" = 0 ] || fail "the pull's curl exited $(cat "$WORK/pull.rc")"
tail -1 "$WORK/pull.out" | jq -e '.type == "error" and (.error.message | test("cancel"))' \
	> /dev/null || fail "the pull stream did not end with its cancellation: $(cat "$WORK/pull.out")"
[ "$ms" -lt 4000 ] || fail "stopping took $ms ms with a pull running"

note "an upload the disk cannot hold is a 500 that says why, not a dropped connection"
if command -v prlimit > /dev/null; then
	DAEMON_WRAP="prlimit --fsize=1048576:1048576" start_daemon
	head -c 3000000 /dev/urandom > "$WORK/big.tar"
	req POST /v1/images/import -H 'Content-Type: application/x-tar' --data-binary @"$WORK/big.tar"
	expect_status 500 internal "spooling the upload"
	jbody .error.message | grep -q "File too large" || fail "no reason: $(body)"
	[ -z "$(ls "$WORK/data/uploads")" ] || fail "the partial upload was left"
	still_alive
	stop_daemon
fi

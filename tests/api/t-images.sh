#!/bin/bash
# Every image route against a real docker-registry on 127.0.0.1 (started
# with the store suite's helpers): pull with NDJSON progress, list, inspect
# by reference, id and id prefix, import from a layout path and from an
# uploaded tar, remove, the event feed announcing each, and the metrics
# counting them. Uploads a crashed daemon left behind are removed at start.
. "$SM_SOURCE_ROOT/tests/store/lib.sh"
. "$(dirname "$0")/lib.sh"

start_registry reg
simple_image "$WORK/one" 2 gzip
push "$WORK/one" test/one:v1
mkdir -p "$WORK/data/uploads"
echo half > "$WORK/data/uploads/upload-AbC123"   # as a crash mid-upload leaves
start_daemon
[ ! -e "$WORK/data/uploads/upload-AbC123" ] || fail "a crashed run's upload was kept"

curl -s -N --unix-socket "$SOCK" 'http://sm/v1/events?type=image.' > "$WORK/events" &
EVPID=$!
PIDS="$PIDS $EVPID"

note "pull streams progress and ends with the image"
req POST /v1/images/pull -d "{\"reference\": \"$REG/test/one:v1\"}"
expect_status 200
head -1 "$WORK/body" | jq -e '.type == "start"' > /dev/null || fail "first line: $(head -1 "$WORK/body")"
grep -q '"type":"progress"' "$WORK/body" || fail "no progress lines: $(body)"
grep -q '"phase":"download"' "$WORK/body" || fail "no download progress: $(body)"
last=$(tail -1 "$WORK/body")
echo "$last" | jq -e '.type == "image"' > /dev/null || fail "last line: $last"
id=$(echo "$last" | jq -r .image.id)
echo "$last" | jq -e --arg t "$REG/test/one:v1" '.image.tags | index($t)' > /dev/null ||
	fail "tag missing: $last"
[ "$(echo "$last" | jq '.image.layers | length')" = 2 ] || fail "2 layers expected: $last"
note "pulled $id"

req GET /v1/info
[ "$(jbody .images)" = 1 ] || fail "info counts $(jbody .images) images, not 1"

note "list and inspect"
req GET /v1/images
expect_status 200
[ "$(jbody '.images | length')" = 1 ] || fail "list: $(body)"
[ "$(jbody '.images[0].id')" = "$id" ] || fail "list id: $(body)"
[ "$(jbody '.images[0].size')" -gt 0 ] || fail "list size: $(body)"
for name in "$REG/test/one:v1" "$id" "${id#sha256:}" "$(echo "${id#sha256:}" | cut -c1-12)"; do
	req GET "/v1/images/$name"
	expect_status 200
	[ "$(jbody .id)" = "$id" ] || fail "inspect $name: $(body)"
	[ "$(jbody '.cmd[0]')" = "echo hello" ] || fail "cmd: $(body)"
	[ "$(jbody .workdir)" = /srv ] || fail "workdir: $(body)"
	[ "$(jbody .user)" = 1000:1000 ] || fail "user: $(body)"
	jbody '.env | index("GREETING=hi there")' | grep -qv null || fail "env: $(body)"
done

note "a tag the registry does not have ends with an error event"
req POST /v1/images/pull -d "{\"reference\": \"$REG/test/one:nope\"}"
expect_status 200
tail -1 "$WORK/body" | jq -e '.type == "error" and .error.code == "pull_failed"' > /dev/null ||
	fail "want an error event: $(body)"

note "import from an OCI layout directory and from an uploaded tar"
simple_image "$WORK/two" 1 gzip
req POST /v1/images/import -d "{\"path\": \"$WORK/two\", \"tag\": \"local/two:v1\"}"
expect_status 200
tail -1 "$WORK/body" | jq -e '.type == "image"' > /dev/null || fail "import: $(body)"
two=$(tail -1 "$WORK/body" | jq -r .image.id)
simple_image "$WORK/three" 1 zstd
tar -C "$WORK/three" -cf "$WORK/three.tar" .
req POST '/v1/images/import?tag=local/three:v1' -H 'Content-Type: application/x-tar' \
	--data-binary @"$WORK/three.tar"
expect_status 200
tail -1 "$WORK/body" | jq -e '.type == "image"' > /dev/null || fail "tar import: $(body)"
[ -z "$(ls "$WORK/data/uploads")" ] || fail "upload left behind: $(ls "$WORK/data/uploads")"
req GET /v1/images/local/three:v1
expect_status 200
req GET /v1/images
[ "$(jbody '.images | length')" = 3 ] || fail "3 images expected: $(body)"
req GET /v1/info
[ "$(jbody .images)" = 3 ] || fail "info counts $(jbody .images) images, not 3"
req POST /v1/images/import -H 'Content-Type: application/x-tar' --data-binary 'not a tar'
expect_status 200
tail -1 "$WORK/body" | jq -e '.type == "error" and .error.code == "import_failed"' \
	> /dev/null || fail "bad tar: $(body)"

note "remove"
req DELETE "/v1/images/$two"
expect_status 200
[ "$(jbody .id)" = "$two" ] || fail "delete: $(body)"
req GET "/v1/images/$two"
expect_status 404 not_found
req DELETE '/v1/images/local/three:v1?force=1'
expect_status 200
req DELETE "/v1/images/$two"
expect_status 404 not_found

note "counters and events"
[ "$(metric 'supermachine_image_pulls_total{result="ok"}')" = 1 ] || fail "pulls ok"
[ "$(metric 'supermachine_image_pulls_total{result="error"}')" = 1 ] || fail "pulls error"
[ "$(metric 'supermachine_image_imports_total{result="ok"}')" = 2 ] || fail "imports ok"
[ "$(metric supermachine_image_pull_bytes_total)" -gt 20000 ] || fail "pull bytes"
[ "$(metric supermachine_images)" = 1 ] || fail "images gauge"
for _ in $(seq 1 50); do
	[ "$(grep -c . "$WORK/events")" -ge 5 ] && break
	sleep 0.1
done
jq -s -e 'map(.type) == ["image.pulled","image.imported","image.imported",
	"image.removed","image.removed"]' "$WORK/events" > /dev/null ||
	fail "events: $(cat "$WORK/events")"
jq -s -e --arg id "$id" '.[0].id == $id and (.[1].seq > .[0].seq)' "$WORK/events" \
	> /dev/null || fail "event fields: $(cat "$WORK/events")"

note "a layout of two images without platforms: chosen by ref, refused with the refs listed"
mkdir -p "$WORK/pair"
rootfs "$WORK/px" px
lx=$(make_layer "$WORK/pair" "$WORK/px" gzip)
set -- $(make_manifest "$WORK/pair" amd64 "" "$lx"); hx=$1; sx=$2
rootfs "$WORK/py" py
set -- $(make_manifest "$WORK/pair" amd64 "" "$(make_layer "$WORK/pair" "$WORK/py" gzip)"); hy=$1; sy=$2
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"x"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"y"}}]}' \
	"$hx" "$sx" "$hy" "$sy" > "$WORK/pair/index.json"
req POST /v1/images/import -d "{\"path\": \"$WORK/pair\"}"
tail -1 "$WORK/body" | jq -e '.type == "error" and .error.code == "import_failed" and
	(.error.message | contains("2 images in the layout fit: x (linux/amd64), y (linux/amd64)"))' \
	> /dev/null || fail "two images without a ref: $(body)"
req POST /v1/images/import -d "{\"path\": \"$WORK/pair\", \"ref\": \"y\", \"platform\": \"linux/amd64\"}"
tail -1 "$WORK/body" | jq -e --arg id "sha256:$hy" '.image.id == $id and .image.tags == ["docker.io/library/pair:y"]' \
	> /dev/null || fail "ref y: $(body)"
tar -C "$WORK/pair" -cf "$WORK/pair.tar" .
SUPERMACHINE_SOCKET="$SOCK" "$CLI" import --ref x "$WORK/pair.tar" > "$WORK/out" || fail "cli --ref: $(cat "$WORK/out")"
grep -q "^imported sha256:$hx docker.io/library/pair:x$" "$WORK/out" || fail "cli --ref x: $(cat "$WORK/out")"
SUPERMACHINE_SOCKET="$SOCK" "$CLI" import --tag local/pair:y "$WORK/pair.tar" > "$WORK/out" || fail "cli --tag: $(cat "$WORK/out")"
grep -q "^imported sha256:$hy " "$WORK/out" || fail "cli --tag NAME:y: $(cat "$WORK/out")"
req GET /v1/images/local/pair:y
expect_status 200
if SUPERMACHINE_SOCKET="$SOCK" "$CLI" import --ref nope "$WORK/pair.tar" > "$WORK/out" 2>&1; then
	fail "cli --ref nope succeeded"
fi
grep -q 'no image with ref "nope" in the layout (it holds: x (linux/amd64), y (linux/amd64))' "$WORK/out" ||
	fail "cli --ref nope: $(cat "$WORK/out")"

note "bad import options are refused before anything runs"
req POST /v1/images/import -d "{\"path\": \"$WORK/pair\", \"ref\": \"a b\"}"
expect_status 400 invalid_field
req POST /v1/images/import -d "{\"path\": \"$WORK/pair\", \"ref\": \"\"}"
expect_status 400 invalid_field
req POST /v1/images/import -d "{\"path\": \"$WORK/pair\", \"platform\": \"linux\"}"
expect_status 400 invalid_field
req POST /v1/images/import -d "{\"path\": \"$WORK/pair\", \"ref\": 3}"
expect_status 400
req POST '/v1/images/import?platform=amd64' -H 'Content-Type: application/x-tar' --data-binary @"$WORK/pair.tar"
expect_status 400 invalid_field
req POST '/v1/images/import?bogus=1' -H 'Content-Type: application/x-tar' --data-binary @"$WORK/pair.tar"
expect_status 400
[ -z "$(ls "$WORK/data/uploads")" ] || fail "refused upload left behind: $(ls "$WORK/data/uploads")"

stop_daemon

#!/bin/bash
# Network faults between the store and a real registry, injected by
# faultproxy: 429 and 503 then success, retries giving up, a connection cut
# mid-blob then resumed with Range, a redirect for blobs, a tampered blob
# that must fail with both digests named and leave nothing stored, and a
# tampered manifest.
. "$(dirname "$0")/lib.sh"

start_registry reg
mkdir -p "$WORK/big/x"
head -c 600000 /dev/urandom > "$WORK/big/x/random.bin"
mkdir -p "$WORK/img"
l1=$(make_layer "$WORK/img" "$WORK/big" gzip)
rootfs "$WORK/small" s1
l2=$(make_layer "$WORK/img" "$WORK/small" zstd)
m=$(make_manifest "$WORK/img" amd64 "" "$l1" "$l2")
write_index "$WORK/img" v1 "$m application/vnd.oci.image.manifest.v1+json"
push "$WORK/img" test/img:v1
big=$(echo "$l1" | cut -d' ' -f1)

note "429 then 503 then success"
start_proxy "fail429 2
fail503 1"
sm pull "$PROXY/test/img:v1" --delay 10 > /dev/null || fail "pull after 429/503"
[ "$(grep -c 'status=429' "$PLOG")" = 2 ] || fail "expected two 429s: $(cat "$PLOG")"
grep -q 'status=503' "$PLOG" || fail "expected a 503"
sm fsck > /dev/null || fail fsck
rm -rf "$WORK/store"

note "retries exhausted"
start_proxy "fail503 1000"
expect_fail "HTTP 503" sm pull "$PROXY/test/img:v1" --retries 3 --delay 10
[ "$(grep -c 'status=503' "$PLOG")" = 3 ] || fail "expected exactly 3 attempts"
store_empty
rm -rf "$WORK/store"

note "connection dropped mid-blob, resumed with Range"
start_proxy "drop_blob 200000"
sm pull "$PROXY/test/img:v1" --delay 10 --parallel 1 > /dev/null || fail "pull with a drop"
grep -q "GET /v2/test/img/blobs/sha256:$big range=bytes=200000- status=206" "$PLOG" ||
	fail "no resumed Range request: $(cat "$PLOG")"
[ "$(grep -c "blobs/sha256:$big range=- status=200" "$PLOG")" = 1 ] ||
	fail "blob fetched from scratch more than once"
sm fsck > /dev/null || fail fsck
rm -rf "$WORK/store"

note "a corrupt partial left by an earlier run: resumed, caught, refetched whole"
mkdir -p "$WORK/store/tmp"
head -c 100000 /dev/urandom > "$WORK/store/tmp/$big.partial"
start_proxy ""
sm pull "$PROXY/test/img:v1" > /dev/null || fail "pull over a corrupt partial"
grep -q "blobs/sha256:$big range=bytes=100000- status=206" "$PLOG" || fail "partial not resumed"
grep -q "blobs/sha256:$big range=- status=200" "$PLOG" || fail "corrupt blob not refetched whole"
sm fsck > /dev/null || fail fsck
rm -rf "$WORK/store"

note "blobs redirected"
start_proxy "redirect_blobs 1"
sm pull "$PROXY/test/img:v1" > /dev/null || fail "pull through redirect"
grep -q "status=307" "$PLOG" && grep -q "GET /_r/v2/test/img/blobs/" "$PLOG" ||
	fail "redirect not followed: $(cat "$PLOG")"
rm -rf "$WORK/store"

note "tampered blob"
start_proxy "tamper_blob 1"
expect_fail "digest mismatch" sm pull "$PROXY/test/img:v1"
grep -E -q "expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}" "$WORK/err" ||
	fail "error must name both digests: $(cat "$WORK/err")"
store_empty
sm fsck > /dev/null || fail fsck

note "tampered layer: other blobs may stay, the bad one and the image do not"
rm -rf "$WORK/store"
start_proxy "tamper_blob 500000"
expect_fail "digest mismatch for blob sha256:$big" sm pull "$PROXY/test/img:v1"
[ -z "$(sm ls)" ] || fail "image recorded despite a bad layer"
[ ! -e "$WORK/store/blobs/sha256/$big" ] || fail "tampered blob stored"
[ "$(count_files "$WORK/store/tmp")" = 0 ] || fail "partial of the bad blob kept"
[ "$(count_files "$WORK/store/layers")" -le 1 ] || fail "unexpected layer images"
sm fsck > /dev/null || fail fsck

note "tampered manifest: by tag (registry's digest header) and by digest"
rm -rf "$WORK/store"
start_proxy "tamper_manifest 1"
expect_fail "manifest digest mismatch: registry says sha256:[0-9a-f]*, content is sha256:" \
	sm pull "$PROXY/test/img:v1"
mhex=$(echo "$m" | cut -d' ' -f1)
expect_fail "manifest digest mismatch: expected sha256:$mhex, got sha256:" \
	sm pull "$PROXY/test/img@sha256:$mhex"
store_empty

note "registry healthy again: the same store pulls fine"
start_proxy ""
sm pull "$PROXY/test/img:v1" > /dev/null || fail "pull after tamper"
sm fsck > /dev/null || fail fsck
note ok

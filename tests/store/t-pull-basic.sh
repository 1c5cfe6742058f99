#!/bin/bash
# Pull single- and multi-layer images (gzip, zstd, uncompressed layers)
# from a real docker-registry; check config fields, layer order, erofs
# images (fsck.erofs), the store's invariants, idempotent re-pull, and a
# clean error for a missing tag.
. "$(dirname "$0")/lib.sh"

start_registry reg
simple_image "$WORK/one" 1 gzip
push "$WORK/one" test/one:v1
simple_image "$WORK/multi" 3 zstd
push "$WORK/multi" test/multi:v1
simple_image "$WORK/plain" 2 none
push "$WORK/plain" test/plain:v1

id=$(sm pull "$REG/test/one:v1")
note "pulled one: $id"
sm inspect "$REG/test/one:v1" > "$WORK/insp"
grep -qx "id=$id" "$WORK/insp" || fail "inspect id"
grep -qx "entrypoint=/bin/sh -c" "$WORK/insp" || fail "entrypoint"
grep -qx "cmd=echo hello" "$WORK/insp" || fail "cmd"
grep -qx "env=GREETING=hi there" "$WORK/insp" || fail "env"
grep -qx "workdir=/srv" "$WORK/insp" || fail "workdir"
grep -qx "user=1000:1000" "$WORK/insp" || fail "user"
grep -qx "ports=8080/tcp" "$WORK/insp" || fail "ports"
[ "$(grep -c '^layer=' "$WORK/insp")" = 1 ] || fail "one layer expected"

mid=$(sm pull "$REG/test/multi:v1" --progress 2> "$WORK/progress")
grep -q " download " "$WORK/progress" || fail "no download progress events"
grep -q " convert " "$WORK/progress" || fail "no convert progress events"
# every blob's download events end at its full size, and every layer is "done"
for l in $(jq -r '.layers[].digest' "$WORK/multi/blobs/sha256/$(jq -r '.manifests[0].digest' "$WORK/multi/index.json" | cut -d: -f2)"); do
	size=$(stat -c %s "$WORK/multi/blobs/sha256/${l#sha256:}")
	grep -q "^progress $l download $size/$size\$" "$WORK/progress" || fail "no final progress for $l"
	grep -q "^progress $l done " "$WORK/progress" || fail "no done event for $l"
done
sm inspect "$mid" > "$WORK/insp"
# layer order = manifest order
want=$(jq -r '.layers[].digest' "$WORK/multi/blobs/sha256/$(jq -r '.manifests[0].digest' "$WORK/multi/index.json" | cut -d: -f2)" | cut -d: -f2)
got=$(grep '^layer=' "$WORK/insp" | sed 's|.*/||; s|\.erofs$||')
[ "$want" = "$got" ] || fail "layer order: want $want got $got"
for f in $(grep '^layer=' "$WORK/insp" | cut -d= -f2); do
	fsck.erofs "$f" > /dev/null 2>&1 || fail "fsck.erofs $f"
done
# a file of the middle layer is in its erofs image
l2=$(grep '^layer=' "$WORK/insp" | sed -n 2p | cut -d= -f2)
rm -rf "$WORK/x"; fsck.erofs --extract="$WORK/x" "$l2" > /dev/null 2>&1 || fail "extract"
ls "$WORK/x/etc/"*.conf > /dev/null || fail "layer 2 content missing"

sm pull "$REG/test/plain:v1" > /dev/null
sm ls > "$WORK/ls"
[ "$(wc -l < "$WORK/ls")" = 3 ] || fail "3 images expected: $(cat "$WORK/ls")"
grep -q "$REG/test/plain:v1" "$WORK/ls" || fail "tag missing in ls"

# re-pull: nothing downloaded again
sm pull "$REG/test/multi:v1" --progress 2> "$WORK/progress2" > /dev/null
grep -q " download " "$WORK/progress2" && fail "re-pull downloaded again"
grep -q " exists " "$WORK/progress2" || fail "re-pull did not reuse blobs"

# one image, two tags: removing a tag keeps the image until the last one
push "$WORK/one" test/again:v1
[ "$(sm pull "$REG/test/again:v1")" = "$id" ] || fail "same manifest, different id"
grep -q "^$id [0-9]* $REG/test/again:v1,$REG/test/one:v1\$" <(sm ls) || fail "two tags: $(sm ls)"
sm rm "$REG/test/one:v1"
sm inspect "$REG/test/again:v1" > /dev/null || fail "image removed with its first tag"
expect_fail "no such image" sm inspect "$REG/test/one:v1"
sm rm "$REG/test/again:v1"
expect_fail "no such image" sm inspect "$id"
short=$(echo "$mid" | cut -c8-20)
sm inspect "$short" | grep -qx "id=$mid" || fail "inspect by id prefix"

expect_fail "HTTP 404" sm pull "$REG/test/one:nope"
expect_fail "HTTP 404" sm pull "$REG/test/absent:v1"
sm fsck > /dev/null || fail "fsck"
note ok

#!/bin/bash
# Crash safety and garbage collection: a pull killed with SIGKILL in the
# middle of its downloads leaves a store that reopens consistent (fsck),
# a cancelled pull stops promptly, and a repeated pull resumes the
# partial blobs and completes; gc after
# deleting one of two images sharing a layer frees exactly the unshared
# blobs and layer images, and nothing else.
. "$(dirname "$0")/lib.sh"

start_registry reg

# Images a and b share their base layer.
mkdir -p "$WORK/a" "$WORK/b/blobs/sha256"
rootfs "$WORK/base" base
base=$(make_layer "$WORK/a" "$WORK/base" gzip)
cp "$WORK/a/blobs/sha256/$(echo "$base" | cut -d' ' -f1)" "$WORK/b/blobs/sha256/"
rootfs "$WORK/sa" onlya; la=$(make_layer "$WORK/a" "$WORK/sa" gzip)
rootfs "$WORK/sb" onlyb; lb=$(make_layer "$WORK/b" "$WORK/sb" zstd)
ma=$(make_manifest "$WORK/a" amd64 "" "$base" "$la")
mb=$(make_manifest "$WORK/b" amd64 "" "$base" "$lb")
write_index "$WORK/a" v1 "$ma application/vnd.oci.image.manifest.v1+json"
write_index "$WORK/b" v1 "$mb application/vnd.oci.image.manifest.v1+json"
push "$WORK/a" test/a:v1
push "$WORK/b" test/b:v1

# A big image, slowed down by the proxy so the kill lands mid-download.
mkdir -p "$WORK/big"
specs=()
for i in 1 2 3; do
	mkdir -p "$WORK/bsrc$i"; head -c 1500000 /dev/urandom > "$WORK/bsrc$i/r$i.bin"
	specs+=("$(make_layer "$WORK/big" "$WORK/bsrc$i" gzip)")
done
mbig=$(make_manifest "$WORK/big" amd64 "" "${specs[@]}")
write_index "$WORK/big" v1 "$mbig application/vnd.oci.image.manifest.v1+json"
push "$WORK/big" test/big:v1

note "kill -9 in the middle of a pull"
start_proxy "throttle 400000"
"$SMSTORE" "$WORK/store" pull "$PROXY/test/big:v1" --parallel 3 > /dev/null 2>&1 &
victim=$!
for _ in $(seq 1 100); do
	sz=$(du -sb "$WORK/store/tmp" 2> /dev/null | cut -f1 || echo 0)
	[ "${sz:-0}" -gt 600000 ] && break
	sleep 0.1
done
kill -9 "$victim"; wait "$victim" 2>/dev/null || true
partials=$(find "$WORK/store/tmp" -name '*.partial' -size +0 -printf '%f:%s\n')
[ -n "$partials" ] || fail "kill came too late: no partial files"
sm fsck > /dev/null || fail "store inconsistent after kill -9"
[ -z "$(sm ls)" ] || fail "half-pulled image listed"

note "a cancelled pull stops soon, records nothing, keeps partials (on a copy)"
cp -a "$WORK/store" "$WORK/store-copy"
start=$(date +%s)
expect_fail "cancelled" "$SMSTORE" "$WORK/store-copy" pull "$PROXY/test/big:v1" --cancel-after 700
[ $(( $(date +%s) - start )) -le 15 ] || fail "cancel took too long"
[ -z "$("$SMSTORE" "$WORK/store-copy" ls)" ] || fail "cancelled pull recorded an image"
"$SMSTORE" "$WORK/store-copy" fsck > /dev/null || fail "fsck after cancel"
[ -n "$(find "$WORK/store-copy/tmp" -name '*.partial' -size +0)" ] || fail "cancel lost the partials"

note "pull again: resumes every partial blob where it stopped, and completes"
start_proxy ""
sm pull "$PROXY/test/big:v1" > /dev/null || fail "pull after crash"
for p in $partials; do
	hex=${p%%.partial:*}; size=${p##*:}
	# resumed at its size (or, if it was already complete, not fetched)
	! grep -q "blobs/sha256:$hex range=- " "$PLOG" ||
		fail "partial $hex ($size bytes) fetched from scratch: $(cat "$PLOG")"
	! grep "blobs/sha256:$hex " "$PLOG" | grep -qv "range=bytes=$size- status=206" ||
		fail "partial $hex ($size bytes) not resumed at its size: $(cat "$PLOG")"
done
sm fsck > /dev/null || fail "fsck after re-pull"
[ "$(sm inspect "$PROXY/test/big:v1" | grep -c '^layer=')" = 3 ] || fail "big image layers"
[ "$(count_files "$WORK/store/tmp")" = 0 ] || fail "partials left after success"

note "concurrent pulls sharing a layer fetch it once"
rm -rf "$WORK/store"
start_proxy ""
sm pullall "$PROXY/test/a:v1" "$PROXY/test/b:v1" "$PROXY/test/a:v1" || fail "concurrent pulls"
[ "$(grep -c "blobs/sha256:$(echo "$base" | cut -d' ' -f1) range=- status=200" "$PLOG")" = 1 ] ||
	fail "shared layer fetched more than once: $(cat "$PLOG")"
[ "$(sm ls | wc -l)" = 2 ] || fail "two images expected"
sm fsck > /dev/null || fail "fsck after concurrent pulls"

note "gc frees exactly the unshared blobs"
rm -rf "$WORK/store"
sm pull "$REG/test/a:v1" > /dev/null
sm pull "$REG/test/b:v1" > /dev/null
# blobs: base, la, lb, cfg a, cfg b = 5; layer images: base, la, lb = 3
[ "$(count_files "$WORK/store/blobs")" = 5 ] || fail "5 blobs expected"
[ "$(count_files "$WORK/store/layers")" = 3 ] || fail "3 layer images expected"
out=$(sm gc); [ "$out" = "blobs=0 layers=0 files=0 bytes=0" ] || fail "gc with all referenced: $out"
cfga=$(sm inspect "$REG/test/a:v1" | sed -n 's/^config=sha256://p')
sm rm "$REG/test/a:v1"
expect_fail "no such image" sm inspect "$REG/test/a:v1"
out=$(sm gc)
note "gc: $out"
case "$out" in "blobs=2 layers=1 files=3 "*) ;; *) fail "gc removed the wrong amount: $out" ;; esac
h() { echo "$1" | cut -d' ' -f1; }
[ ! -e "$WORK/store/blobs/sha256/$(h "$la")" ] || fail "a's own layer blob kept"
[ ! -e "$WORK/store/layers/sha256/$(h "$la").erofs" ] || fail "a's own layer image kept"
[ ! -e "$WORK/store/blobs/sha256/$cfga" ] || fail "a's config kept"
[ -e "$WORK/store/blobs/sha256/$(h "$base")" ] || fail "shared base blob removed"
[ -e "$WORK/store/layers/sha256/$(h "$base").erofs" ] || fail "shared base layer removed"
[ -e "$WORK/store/layers/sha256/$(h "$lb").erofs" ] || fail "b's layer removed"
for f in $(sm inspect "$REG/test/b:v1" | sed -n 's/^layer=//p'); do
	[ -e "$f" ] || fail "b's layer $f missing"
done
sm fsck > /dev/null || fail "fsck after gc"

note "stray files from a crash are swept"
echo junk > "$WORK/store/blobs/sha256/$(printf '%064d' 7)"
echo junk > "$WORK/store/tmp/$(printf '%064d' 8).partial"
out=$(sm gc); case "$out" in "blobs=0 layers=0 files=2 "*) ;; *) fail "sweep: $out" ;; esac

note "deleting by id removes all tags"
id=$(sm inspect "$REG/test/b:v1" | sed -n 's/^id=//p')
sm rm "$id"
[ -z "$(sm ls)" ] || fail "image left after rm by id"
sm gc > /dev/null
[ "$(count_files "$WORK/store/blobs")" = 0 ] && [ "$(count_files "$WORK/store/layers")" = 0 ] ||
	fail "files left after removing every image"
sm fsck > /dev/null || fail fsck
note ok

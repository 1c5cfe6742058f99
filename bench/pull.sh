#!/bin/bash
# bench/pull.sh - pull benchmark: a multi-layer image of at least
# SM_BENCH_MB (default 200) MB of real files (directories of this machine's
# /usr, one gzip layer each, plus a small top layer) served by a local
# docker-registry. Ours: `smstore pull` (download, verify, convert every
# layer to erofs, record in SQLite). Theirs: `skopeo copy` to an OCI
# layout followed by `umoci unpack`. Prints both wall times and the ratio
# ours/theirs (goal: <= 0.8). The built layout is cached in the build dir.
# Ends with `result: pull_over_skopeo_umoci RATIO` (the same ratio, for
# comparing runs); fails instead when a time could not be measured.
# Arguments: --sanitized when the build uses ASan (figures are then only
# indicative; configure with -Dsanitize=false to measure).
. "$SM_SOURCE_ROOT/tests/store/lib.sh"

MB=${SM_BENCH_MB:-200}
CACHE="$SM_BUILD_ROOT/bench-cache/pull-$MB"

build_image() {
	local out="$CACHE.tmp" total=0 specs=()
	rm -rf "$out"; mkdir -p "$out"
	for d in /usr/include /usr/lib/python3.11 /usr/libexec /usr/lib/gcc /usr/share/doc \
		 /usr/bin; do
		[ -d "$d" ] || continue
		rm -rf "$WORK/l"; mkdir -p "$WORK/l$(dirname "$d")"
		cp -a "$d" "$WORK/l$(dirname "$d")/"
		total=$((total + $(du -sm "$WORK/l" | cut -f1)))
		specs+=("$(make_layer "$out" "$WORK/l" gzip)")
		rm -rf "$WORK/l"
		[ "$total" -ge "$MB" ] && break
	done
	rootfs "$WORK/top" top
	specs+=("$(make_layer "$out" "$WORK/top" gzip)")
	local m; m=$(make_manifest "$out" amd64 "" "${specs[@]}")
	write_index "$out" v1 "$m application/vnd.oci.image.manifest.v1+json"
	echo "$total" > "$out/total-mb"
	mv "$out" "$CACHE"
}

now() { date +%s.%N; }

[ -f "$CACHE/index.json" ] || { note "building a ${MB} MB image (cached in $CACHE)"; build_image; }
layers=$(jq '.layers | length' "$CACHE/blobs/sha256/$(jq -r '.manifests[0].digest' "$CACHE/index.json" | cut -d: -f2)")
compressed=$(du -sm "$CACHE/blobs" | cut -f1)
start_registry reg
push "$CACHE" bench/img:v1

t0=$(now)
sm pull "$REG/bench/img:v1" --parallel 3 > /dev/null || fail "our pull"
t1=$(now)
skopeo copy -q --src-tls-verify=false "docker://$REG/bench/img:v1" "oci:$WORK/oci:v1" > /dev/null ||
	fail "skopeo copy"
umoci unpack $UMOCI_ROOTLESS --image "$WORK/oci:v1" "$WORK/bundle" > /dev/null 2>&1 || fail "umoci unpack"
t2=$(now)

ours=$(awk "BEGIN { print $t1 - $t0 }"); theirs=$(awk "BEGIN { print $t2 - $t1 }")
awk -v o="$ours" -v t="$theirs" 'BEGIN { exit !(o > 0 && t > 0) }' ||
	fail "no usable wall times (ours '$ours' s, theirs '$theirs' s)"
ratio=$(awk -v o="$ours" -v t="$theirs" 'BEGIN { printf "%.4f", o / t }')
printf 'image: %s MB of files in %s layers, %s MB compressed\n' "$(cat "$CACHE/total-mb")" "$layers" "$compressed"
printf 'ours   (pull + verify + erofs + sqlite):  %6.2f s\n' "$ours"
printf 'theirs (skopeo copy + umoci unpack):      %6.2f s\n' "$theirs"
printf 'ratio ours/theirs: %.2f (goal <= 0.80)\n' "$ratio"
if [ "${1:-}" = --sanitized ]; then
	echo "note: ASan/UBSan build; configure with -Dsanitize=false for real figures"
fi
echo "result: pull_over_skopeo_umoci $ratio"

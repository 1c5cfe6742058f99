#!/bin/bash
# Manifest kinds and platforms: an OCI index with amd64, amd64/v3 and
# arm64/v8 images (default, variant and other-arch choices, and a clear
# error for a platform that is not there), the same as Docker schema-2
# manifest list + manifests (converted by skopeo), digest references, and
# a clear error for a layer media type we cannot unpack.
. "$(dirname "$0")/lib.sh"

# layer_has REF PATH: the image's (only) layer image contains PATH.
layer_has() {
	rm -rf "$WORK/x"
	fsck.erofs --extract="$WORK/x" "$(sm inspect "$1" | sed -n 's/^layer=//p')" > /dev/null 2>&1 ||
		fail "extract $1"
	[ -e "$WORK/x/$2" ] || fail "$1: $2 not in its layer (has: $(ls "$WORK/x/etc"))"
}

start_registry reg
mkdir -p "$WORK/multi"
entries=()
for p in "amd64::" "amd64:v3:" "arm64:v8:"; do
	arch=${p%%:*}; v=${p#*:}; v=${v%:}
	rootfs "$WORK/src-$arch$v" "$arch$v"
	l=$(make_layer "$WORK/multi" "$WORK/src-$arch$v" gzip)
	m=$(make_manifest "$WORK/multi" "$arch" "$v" "$l")
	plat="{\"os\":\"linux\",\"architecture\":\"$arch\"${v:+,\"variant\":\"$v\"}}"
	entries+=("$m application/vnd.oci.image.manifest.v1+json $plat")
	eval "man_${arch}${v}=$(echo "$m" | cut -d' ' -f1)"
done
# An index inside the layout's index.json.
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' \
	"$(for e in "${entries[@]}"; do set -- $e; printf '{"mediaType":"%s","digest":"sha256:%s","size":%s,"platform":%s},' "$3" "$1" "$2" "$4"; done | sed 's/,$//')" \
	> "$WORK/idx.tmp"
isize=$(fsize "$WORK/idx.tmp"); ihex=$(add_blob "$WORK/multi" "$WORK/idx.tmp")
write_index "$WORK/multi" v1 "$ihex $isize application/vnd.oci.image.index.v1+json"
push "$WORK/multi" test/multi:v1 --all
push "$WORK/multi" test/dmulti:v1 --all --format v2s2

for repo in multi dmulti; do
	note "$repo: default platform linux/amd64 (no variant preferred)"
	sm pull "$REG/test/$repo:v1" > /dev/null
	[ "$(sm inspect "$REG/test/$repo:v1" | sed -n 's/^arch=//p')" = amd64 ] || fail "arch"
	layer_has "$REG/test/$repo:v1" etc/amd64.conf
	note "$repo: arm64/v8 and amd64/v3 on request"
	sm pull "$REG/test/$repo:v1" --platform linux/arm64 > /dev/null
	[ "$(sm inspect "$REG/test/$repo:v1" | sed -n 's/^arch=//p')" = arm64 ] || fail "arm64"
	layer_has "$REG/test/$repo:v1" etc/arm64v8.conf
	sm pull "$REG/test/$repo:v1" --platform linux/amd64/v3 > /dev/null
	layer_has "$REG/test/$repo:v1" etc/amd64v3.conf
	expect_fail "no image for platform linux/s390x.*available: linux/amd64, linux/amd64/v3, linux/arm64/v8" \
		sm pull "$REG/test/$repo:v1" --platform linux/s390x
done
grep -q "docker.distribution.manifest.v2" <(curl -s -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' "http://$REG/v2/test/dmulti/manifests/v1") ||
	fail "dmulti is not a docker manifest list"

note "pull by digest"
id=$(sm pull "$REG/test/multi@sha256:$man_arm64v8")
[ "$id" = "sha256:$man_arm64v8" ] || fail "pull by digest gave $id"
sm inspect "$REG/test/multi@sha256:$man_arm64v8" | grep -qx "arch=arm64" || fail "inspect by digest"
expect_fail "HTTP 404\|manifest unknown" sm pull "$REG/test/multi@sha256:$(printf '%064d' 1)"

note "unsupported layer media type"
mkdir -p "$WORK/helm"
l=$(make_layer "$WORK/helm" "$WORK/src-amd64" gzip | sed 's|application/vnd.oci.image.layer.v1.tar+gzip|application/vnd.cncf.helm.chart.content.v1.tar+gzip|')
m=$(make_manifest "$WORK/helm" amd64 "" "$l")
write_index "$WORK/helm" v1 "$m application/vnd.oci.image.manifest.v1+json"
push "$WORK/helm" test/helm:v1
expect_fail "unsupported media type \"application/vnd.cncf.helm" sm pull "$REG/test/helm:v1"
sm fsck > /dev/null || fail fsck
note ok

#!/bin/bash
# Offline import without a registry: an OCI image layout folder, a tar of
# one, a `docker save` tar written by hand, a busybox image built with
# umoci from Debian's busybox-static (the bundled default image's recipe),
# and bad input: corrupted blobs, paths and symlinks leading outside the
# archive, and folders that are no image at all. Bad input fails with a
# clear error and stores nothing.
. "$(dirname "$0")/lib.sh"

note "OCI layout folder"
simple_image "$WORK/one" 2 gzip
id=$(sm import "$WORK/one" local/one:v1)
want="sha256:$(jq -r '.manifests[0].digest' "$WORK/one/index.json" | cut -d: -f2)"
[ "$id" = "$want" ] || fail "id $id, manifest $want"
sm inspect local/one:v1 | grep -qx "workdir=/srv" || fail "config not read"
[ "$(sm inspect local/one:v1 | grep -c '^layer=')" = 2 ] || fail "layers"

note "tar of an OCI layout, named by its annotation"
simple_image "$WORK/two" 1 zstd
tmpidx=$(jq '.manifests[0].annotations["org.opencontainers.image.ref.name"]="example.com/two:1"' "$WORK/two/index.json")
echo "$tmpidx" > "$WORK/two/index.json"
tar -C "$WORK/two" -cf "$WORK/two.tar" .
(cd "$WORK" && "$SMSTORE" "$WORK/store" import two.tar > /dev/null) || fail "import of a relative tar path"
sm inspect example.com/two:1 > /dev/null || fail "annotation name not used"
[ "$(ls "$WORK/store/tmp" | wc -l)" = 0 ] || fail "extraction dir left behind"

note "a layout holding two tagged images: the wanted tag picks one"
simple_image "$WORK/ab" 1 gzip
rootfs "$WORK/srcb" bee
mb=$(make_manifest "$WORK/ab" amd64 "" "$(make_layer "$WORK/ab" "$WORK/srcb" gzip)")
set -- $mb
jq --arg d "sha256:$1" --argjson s "$2" '.manifests += [{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":$d,"size":$s,"annotations":{"org.opencontainers.image.ref.name":"b"}}]' \
	"$WORK/ab/index.json" > "$WORK/ab/index.new" && mv "$WORK/ab/index.new" "$WORK/ab/index.json"
[ "$(sm import "$WORK/ab" local/ab:b)" = "sha256:$1" ] || fail "tag b not picked"
[ "$(sm import "$WORK/ab" local/ab:v1)" != "sha256:$1" ] || fail "tag v1 not picked"
expect_fail "2 images in the layout fit: v1 (linux/amd64), b (linux/amd64); choose one" \
	sm import "$WORK/ab" local/ab:other

note "umoci's layout with three images (refs a, b, c; no platforms): chosen by ref"
umoci init --layout "$WORK/multi" && umoci new --image "$WORK/multi:a"
umoci unpack $UMOCI_ROOTLESS --image "$WORK/multi:a" "$WORK/mbundle" > /dev/null
rootfs "$WORK/mbundle/rootfs" multi
umoci repack $UMOCI_ROOTLESS --image "$WORK/multi:a" "$WORK/mbundle" > /dev/null
umoci tag --image "$WORK/multi:a" b && umoci tag --image "$WORK/multi:a" c
for r in a b c; do umoci config --image "$WORK/multi:$r" --config.cmd "/bin/$r"; done
jq -e '[.manifests[] | select(.platform)] == []' "$WORK/multi/index.json" > /dev/null ||
	fail "umoci wrote platforms: $(cat "$WORK/multi/index.json")"
expect_fail "3 images in the layout fit: a (linux/amd64), b (linux/amd64), c (linux/amd64); choose one by its ref" \
	sm import "$WORK/multi"
expect_fail 'no image with ref "zz" in the layout (it holds: a (linux/amd64), b (linux/amd64), c (linux/amd64))' \
	sm import "$WORK/multi" --ref zz
sm import "$WORK/multi" --ref b > /dev/null
sm inspect multi:b | grep -qx "cmd=/bin/b" || fail "--ref b: not named multi:b from the layout's name"
sm import "$WORK/multi" local/m:c > /dev/null
sm inspect local/m:c | grep -qx "cmd=/bin/c" || fail "the REF of NAME:REF did not pick c"
sm import "$WORK/multi" local/m:v9 --ref a > /dev/null
sm inspect local/m:v9 | grep -qx "cmd=/bin/a" || fail "--ref a with another tag"
tar -C "$WORK/multi" -cf "$WORK/Multi Layout.tar" .
sm import "$WORK/Multi Layout.tar" --ref c > /dev/null
sm inspect multi-layout:c | grep -qx "cmd=/bin/c" || fail "tar name not used: $(sm ls)"

note "a layout with two platforms and no refs: the platform chooses (from the configs)"
mkdir -p "$WORK/plat"
rootfs "$WORK/p1" p1
l=$(make_layer "$WORK/plat" "$WORK/p1" gzip)
set -- $(make_manifest "$WORK/plat" amd64 "" "$l"); pa=$1; sa=$2
set -- $(make_manifest "$WORK/plat" arm64 v8 "$l"); pr=$1; sr=$2
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' \
	"$pr" "$sr" "$pa" "$sa" > "$WORK/plat/index.json"
[ "$(sm import "$WORK/plat" local/plat:1)" = "sha256:$pa" ] || fail "amd64 not chosen"
[ "$(sm import "$WORK/plat" local/plat:2 --platform linux/arm64)" = "sha256:$pr" ] || fail "arm64 not chosen"
expect_fail "no image for platform linux/s390x in the layout (available: no ref (linux/arm64/v8), no ref (linux/amd64))" \
	sm import "$WORK/plat" local/plat:3 --platform linux/s390x

note "a ref naming a nested index of two platforms, beside another ref"
idx=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"os":"linux","architecture":"amd64"}}]}' \
	"$pr" "$sr" "$pa" "$sa")
printf '%s' "$idx" > "$WORK/nested.tmp"
ni=$(add_blob "$WORK/plat" "$WORK/nested.tmp")
rootfs "$WORK/p2" p2
set -- $(make_manifest "$WORK/plat" amd64 "" "$(make_layer "$WORK/plat" "$WORK/p2" gzip)"); po=$1
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"both"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"other"}}]}' \
	"$ni" "${#idx}" "$po" "$2" > "$WORK/plat/index.json"
[ "$(sm import "$WORK/plat" --ref both)" = "sha256:$pa" ] || fail "ref both: amd64 not chosen"
sm inspect plat:both > /dev/null || fail "not named plat:both"
[ "$(sm import "$WORK/plat" local/p:both --platform linux/arm64)" = "sha256:$pr" ] || fail "ref both: arm64"
[ "$(sm import "$WORK/plat" --ref other)" = "sha256:$po" ] || fail "ref other"
expect_fail "2 images in the layout fit: both (linux/amd64), other (linux/amd64); choose one" \
	sm import "$WORK/plat"
expect_fail "no image for platform linux/amd64/v9 in the layout (available: both (linux/arm64/v8), both (linux/amd64), other (linux/amd64))" \
	sm import "$WORK/plat" --platform linux/amd64/v9

note "docker save tar"
mkdir -p "$WORK/ds/0a1b" "$WORK/dsrc"
rootfs "$WORK/dsrc" saved
tar --sort=name -C "$WORK/dsrc" -cf "$WORK/ds/0a1b/layer.tar" .
diff=$(sha "$WORK/ds/0a1b/layer.tar")
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/saved"],"Env":["X=1"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff" > "$WORK/ds/cfg.json"
chex=$(sha "$WORK/ds/cfg.json"); mv "$WORK/ds/cfg.json" "$WORK/ds/$chex.json"
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/second"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff" > "$WORK/ds/cfg2.json"
c2hex=$(sha "$WORK/ds/cfg2.json"); mv "$WORK/ds/cfg2.json" "$WORK/ds/$c2hex.json"
printf '[{"Config":"%s.json","RepoTags":["saved/app:1.0"],"Layers":["0a1b/layer.tar"]},{"Config":"%s.json","RepoTags":["saved/second:2"],"Layers":["0a1b/layer.tar"]}]' \
	"$chex" "$c2hex" > "$WORK/ds/manifest.json"
tar -C "$WORK/ds" -cf "$WORK/ds.tar" .
sm import "$WORK/ds.tar" > /dev/null
sm inspect saved/app:1.0 > "$WORK/insp" || fail "docker save image not tagged"
grep -qx "cmd=/bin/saved" "$WORK/insp" || fail "docker save config"
grep -qx "config=sha256:$chex" "$WORK/insp" || fail "config digest"
rm -rf "$WORK/x"; fsck.erofs --extract="$WORK/x" "$(sed -n 's/^layer=//p' "$WORK/insp")" > /dev/null 2>&1
[ -e "$WORK/x/etc/saved.conf" ] || fail "docker save layer content"
sm import "$WORK/ds.tar" docker.io/saved/second:2 > /dev/null
sm inspect saved/second:2 | grep -qx "cmd=/bin/second" || fail "RepoTags did not pick the second image"

note "busybox image built with umoci"
umoci init --layout "$WORK/bb" && umoci new --image "$WORK/bb:latest"
umoci unpack $UMOCI_ROOTLESS --image "$WORK/bb:latest" "$WORK/bundle" > /dev/null
mkdir -p "$WORK/bundle/rootfs/bin"
cp /bin/busybox "$WORK/bundle/rootfs/bin/"; ln -s busybox "$WORK/bundle/rootfs/bin/sh"
umoci repack $UMOCI_ROOTLESS --image "$WORK/bb:latest" "$WORK/bundle" > /dev/null
umoci config --image "$WORK/bb:latest" --config.cmd /bin/sh --config.env PATH=/bin
sm import "$WORK/bb" supermachine/busybox:latest > /dev/null
sm inspect supermachine/busybox > "$WORK/insp"
grep -qx "cmd=/bin/sh" "$WORK/insp" || fail "busybox cmd"
rm -rf "$WORK/x"; fsck.erofs --extract="$WORK/x" "$(sed -n 's/^layer=//p' "$WORK/insp" | tail -1)" > /dev/null 2>&1
cmp "$WORK/x/bin/busybox" /bin/busybox || fail "busybox binary differs"
sm fsck > /dev/null || fail fsck

note "the bundled default image (build dir busybox-oci) imports offline"
bundled="$SM_BUILD_ROOT/daemon/store/layer/busybox-oci"
[ -f "$bundled/index.json" ] || fail "bundled image not built: $bundled"
bid=$(sm import "$bundled")
sm inspect busybox:latest > "$WORK/insp" || fail "bundled image not named busybox:latest: $(sm ls)"
grep -qx "id=$bid" "$WORK/insp" || fail "bundled image id"
rm -rf "$WORK/x"; for l in $(sed -n 's/^layer=//p' "$WORK/insp"); do
	fsck.erofs --extract="$WORK/x" "$l" > /dev/null 2>&1 || fail "extract bundled layer"
done
[ -e "$WORK/x/bin/busybox" ] || fail "bundled image has no /bin/busybox"
before=$(sm ls)

note "bad input"
# umoci 0.4.7's `insert` of a lone file writes a tar without its final
# padding: a truncated layer must fail cleanly, recording nothing.
umoci init --layout "$WORK/trunc" && umoci new --image "$WORK/trunc:latest"
umoci insert --image "$WORK/trunc:latest" /bin/busybox /bin/busybox
expect_fail "converting layer.*[Tt]runcated" sm import "$WORK/trunc" trunc/img:v1
[ "$(sm ls)" = "$before" ] || fail "truncated layer changed the image list"
cp -r "$WORK/one" "$WORK/bad"
lay=$(jq -r '.layers[0].digest' "$WORK/bad/blobs/sha256/$(jq -r '.manifests[0].digest' "$WORK/bad/index.json" | cut -d: -f2)" | cut -d: -f2)
printf 'X' | dd of="$WORK/bad/blobs/sha256/$lay" bs=1 seek=10 conv=notrunc 2> /dev/null
rm -rf "$WORK/store"
expect_fail "digest mismatch for blob sha256:$lay" sm import "$WORK/bad" bad/img:v1
[ -z "$(sm ls)" ] && [ ! -e "$WORK/store/blobs/sha256/$lay" ] || fail "corrupt import stored"
rm "$WORK/bad/blobs/sha256/$lay"; ln -s /etc/passwd "$WORK/bad/blobs/sha256/$lay"
expect_fail "outside the archive" sm import "$WORK/bad" bad/img:v1
printf '[{"Config":"../../../etc/passwd","RepoTags":["x/y:z"],"Layers":[]}]' > "$WORK/ds/manifest.json"
tar -C "$WORK/ds" -cf "$WORK/ds-evil.tar" .
expect_fail "outside the archive" sm import "$WORK/ds-evil.tar"
mkdir -p "$WORK/evil"; ln -s /etc "$WORK/evil/link"
tar -C "$WORK/evil" -cf "$WORK/evil.tar" link
printf 'x' > "$WORK/evil/f"; tar -C "$WORK/evil" -rf "$WORK/evil.tar" --transform 's|^f$|link/evil-file|' f
expect_fail "" sm import "$WORK/evil.tar"
[ ! -e /etc/evil-file ] || fail "wrote through a symlink out of the archive"
mkdir -p "$WORK/mis"
rootfs "$WORK/m1" m1; rootfs "$WORK/m2" m2
set -- $(make_manifest "$WORK/mis" amd64 "" "$(make_layer "$WORK/mis" "$WORK/m1" gzip)" \
	"$(make_layer "$WORK/mis" "$WORK/m2" gzip)")
jq -c 'del(.layers[1])' "$WORK/mis/blobs/sha256/$1" > "$WORK/mis.tmp"
msize=$(fsize "$WORK/mis.tmp")
write_index "$WORK/mis" v1 "$(add_blob "$WORK/mis" "$WORK/mis.tmp") $msize application/vnd.oci.image.manifest.v1+json"
expect_fail "config lists 2 layers (rootfs.diff_ids) but the manifest has 1" sm import "$WORK/mis" mis/img:v1
mkdir -p "$WORK/empty"
expect_fail "neither an OCI image layout" sm import "$WORK/empty"
expect_fail "No such file" sm import "$WORK/absent"
[ -z "$(sm ls)" ] || fail "bad input stored an image"
sm fsck > /dev/null || fail fsck
note ok

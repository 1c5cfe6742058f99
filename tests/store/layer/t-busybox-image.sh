#!/bin/bash
# t-busybox-image.sh LAYOUT SM_LAYER2EROFS MAKE_BUSYBOX_IMAGE BUSYBOX
#
# The bundled busybox OCI layout built by meson: skopeo and umoci accept
# it, the unpacked rootfs runs /bin/sh, a second build is byte-identical
# (stable digests), and its layer converts to an erofs image that
# fsck.erofs accepts and whose /bin/sh links to /bin/busybox.
set -euo pipefail
layout=$1 conv=$2 maker=$3 busybox=$4
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smlayer-bb-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

skopeo inspect "oci:$layout:latest" >"$tmp/inspect.json"
skopeo inspect --config "oci:$layout:latest" >"$tmp/config.json"
python3 - "$tmp" <<'PY' || fail "skopeo inspect output"
import json, sys
d = sys.argv[1]
i = json.load(open(d + "/inspect.json"))
c = json.load(open(d + "/config.json"))
assert len(i["Layers"]) == 1, i
assert c["config"]["Cmd"] == ["sh"], c
assert any(e.startswith("PATH=") for e in c["config"]["Env"]), c
assert c["os"] == "linux" and c["rootfs"]["type"] == "layers", c
PY
grep -q '"io.containerd.image.name":"docker.io/library/busybox:latest"' \
	"$layout/index.json" || fail "index.json lacks the image name"

umoci unpack --image "$layout:latest" "$tmp/bundle" >/dev/null 2>&1 \
	|| fail "umoci unpack"
root=$tmp/bundle/rootfs
[ "$(readlink "$root/bin/sh")" = /bin/busybox ] || fail "bin/sh link"
[ "$(stat -c %a "$root/tmp")" = 1777 ] || fail "tmp mode"
grep -q '^root:x:0:0:' "$root/etc/passwd" || fail "etc/passwd"
cmp -s "$root/bin/busybox" "$busybox" || fail "bin/busybox content"
out=$(chroot "$root" /bin/sh -c 'echo hello from $(basename $0)' 2>&1) \
	|| fail "chroot sh: $out"
[ "$out" = "hello from sh" ] || fail "sh said: $out"

python3 "$maker" --busybox "$busybox" "$tmp/again"
diff -r "$layout" "$tmp/again" >/dev/null || fail "second build differs"

layer=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))
print(m["layers"][0]["digest"].split(":")[1])' \
	"$layout/blobs/sha256/$(python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["manifests"][0]["digest"].split(":")[1])' \
	"$layout/index.json")")
"$conv" "$layout/blobs/sha256/$layer" "$tmp/layer.erofs" >/dev/null
fsck.erofs "$tmp/layer.erofs" >/dev/null 2>&1 || fail "fsck.erofs"
fsck.erofs --extract="$tmp/ext" "$tmp/layer.erofs" >/dev/null 2>&1
[ "$(readlink "$tmp/ext/bin/sh")" = /bin/busybox ] || fail "erofs bin/sh"
cmp -s "$tmp/ext/bin/busybox" "$busybox" || fail "erofs bin/busybox"
echo "ok: busybox layout $(basename "$layout") checks out"

#!/bin/bash
# The bundled default image (daemon/store/layer/busybox-oci, built from
# Debian's busybox-static) goes in through the CLI with no network, the way
# script/run will use it, and the API shows what a VM of it will run.
. "$(dirname "$0")/lib.sh"

layout="$SM_BUILD_ROOT/daemon/store/layer/busybox-oci"
[ -f "$layout/index.json" ] || fail "no bundled image at $layout"
start_daemon
SUPERMACHINE_SOCKET="$SOCK" "$CLI" import "$layout" > "$WORK/out" || fail "import: $(cat "$WORK/out")"
grep -q '^imported sha256:[0-9a-f]* docker.io/library/busybox:latest$' "$WORK/out" ||
	fail "import output: $(cat "$WORK/out")"
req GET /v1/images/busybox
expect_status 200
jbody '.cmd == ["sh"] and (.layers | length) == 1 and .os == "linux" and .arch == "amd64"' |
	grep -qx true || fail "busybox config: $(body)"
jbody '.env[]' | grep -q '^PATH=' || fail "no PATH: $(body)"
[ -s "$(jbody '.layers[0]')" ] || fail "layer image missing: $(jbody '.layers[0]')"
SUPERMACHINE_SOCKET="$SOCK" "$CLI" images | grep -q '^docker.io/library/busybox:latest ' ||
	fail "images: $(SUPERMACHINE_SOCKET="$SOCK" "$CLI" images)"
stop_daemon

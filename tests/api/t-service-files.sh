#!/bin/bash
# The service files: the launchd plist parses as a property list and says
# what a LaunchDaemon with a socket needs; systemd-analyze verify accepts
# the socket and service units without a single warning (a typo'd key or
# value only warns, so any output fails). The unit's ExecStart is pointed
# at the built daemon, since verify checks that the binary exists.
. "$(dirname "$0")/lib.sh"

plist="$SM_BUILD_ROOT/daemon/dev.supermachine.supermachined.plist"
python3 - "$plist" <<'PY' || fail "plist check failed"
import plistlib, sys
with open(sys.argv[1], "rb") as f:
    p = plistlib.load(f)
assert p["Label"] == "dev.supermachine.supermachined", p["Label"]
assert p["ProgramArguments"][0].endswith("/supermachined"), p["ProgramArguments"]
lst = p["Sockets"]["Listeners"]
assert lst["SockPathName"].endswith("/supermachined.sock"), lst
assert lst["SockPathMode"] == 0o660, oct(lst["SockPathMode"])
assert "KeepAlive" in p
assert p["StandardErrorPath"].startswith("/var/log/"), p["StandardErrorPath"]
print("# plist ok:", p["Label"])
PY

if ! command -v systemd-analyze > /dev/null; then
	note "systemd-analyze not installed: units not verified"
	exit 0
fi
units="$WORK/units"
mkdir -p "$units"
cp "$SM_SOURCE_ROOT/systemd/supermachined.socket" "$units/"
sed "s|^ExecStart=.*supermachined|ExecStart=$DAEMON|" \
	"$SM_BUILD_ROOT/daemon/supermachined.service" > "$units/supermachined.service"
grep -q "^ExecStart=$DAEMON\$" "$units/supermachined.service" || fail "ExecStart not found"
(cd "$units" && systemd-analyze verify --man=no supermachined.socket supermachined.service) \
	> "$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log" >&2; fail "systemd-analyze verify failed"; }
if [ -s "$WORK/verify.log" ]; then
	cat "$WORK/verify.log" >&2
	fail "systemd-analyze verify warned"
fi
note "systemd units verified"
grep -q '^ListenStream=/run/supermachine/supermachined.sock$' "$units/supermachined.socket" ||
	fail "the socket unit does not listen where the daemon's default is"

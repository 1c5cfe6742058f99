#!/bin/bash
# Bakes without VMs, natively: bake rows seeded in vms.db as
# daemon/vms/vms_snap_db.c and vms_bake.c write them (a snapshot row named
# _bake-<hex>, files in DATA/bakes/NAME): start-up keeps them, GET
# /v1/snapshots lists them with "kind": "bake" and "stale" (the key's
# digests are those /v1/info's "bake" shows, with the image id, vCPUs,
# memory and the writable layer's size), the CLI hides them unless -a;
# POST /v1/system/gc removes stale bakes and bakes of images no longer in
# the store but keeps a current one; deleting the image removes its bake (row and files); `supermachined
# --no-bake` and the config's "bake": false turn baking off. Baking itself
# is the vm suite's (tests/vm/pool).
. "$(dirname "$0")/lib.sh"

start_daemon
import_busybox
req GET /v1/info
jbody '.bake.enabled == true and .bake.vmm == "unreadable" and
	(.bake.initrd | test("^(sha256:[0-9a-f]{64}|unreadable)$"))' | grep -qx true ||
	fail "info's bake: $(body)"
jbody .bake > "$WORK/digests.json"
stop_daemon

note "seeded bakes"
bakes=$WORK/data/bakes
python3 - "$WORK/data/vms.db" "$bb_id" "$WORK/digests.json" > "$WORK/names" <<'PY'
import hashlib, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
d = json.load(open(sys.argv[3]))
def name(image_id, vcpus, mem, storage=8192):
    key = ("supermachine bake 3\nnet\nimage %s\nvcpus %d\nmemory %d\nstorage %d\nkernel %s\n"
           "initrd %s\nvmm %s\n") % (image_id, vcpus, mem, storage, d["kernel"], d["initrd"],
                                     d["vmm"])
    return "_bake-" + hashlib.sha256(key.encode()).hexdigest()[:32]
def snap(n, image_id, vcpus=1, mem=512):
    db.execute("INSERT INTO snapshots (name, source_vm, image, image_id, vcpus, memory_mib, env, cmd, "
               "workdir, user, created, state_bytes, memory_bytes, memory_disk_bytes, temporary, "
               "storage_mib, upper_disk_bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               (n, "0123456789abcdef", "busybox", image_id, vcpus, mem, "[]", None, "", "",
                1800000000, 4096, mem << 20, 8192, 0, 8192, 4 << 20))
    print(n)
current = name(sys.argv[2], 1, 512)
snap(current, sys.argv[2])                                   # kept by gc
snap("_bake-" + "0" * 32, sys.argv[2])                        # stale: another key
gone = "sha256:" + "cd" * 32
snap(name(gone, 1, 512), gone)                                # its image is gone
db.commit()
PY
current=$(sed -n 1p "$WORK/names") stale=$(sed -n 2p "$WORK/names") orphan=$(sed -n 3p "$WORK/names")
for s in "$current" "$stale" "$orphan" .tmp-half-Ab12Cd _bake-ffffffffffffffffffffffffffffffff; do
	mkdir -p "$bakes/$s"
	echo state > "$bakes/$s/vm.state"
	truncate -s 512M "$bakes/$s/vm.mem"
	truncate -s 8G "$bakes/$s/upper.img"
done
echo boot > "$bakes/$current/console.log"
echo failed > "$bakes/.failed-$stale.console.log"
start_daemon
req GET /v1/snapshots
expect_status 200
jb --arg c "$current" --arg s "$stale" --arg o "$orphan" '[.snapshots[] | {name, kind, stale}] |
	sort_by(.name) == ([{"name": $c, "kind": "bake", "stale": false},
			    {"name": $s, "kind": "bake", "stale": true},
			    {"name": $o, "kind": "bake", "stale": false}] | sort_by(.name))' |
	grep -qx true || fail "listed bakes: $(body)"
req GET "/v1/snapshots/$current"
jb --arg p "$bakes/$current" '.path == $p and .temporary == false' | grep -qx true ||
	fail "a bake: $(body)"
[ ! -e "$bakes/.tmp-half-Ab12Cd" ] && [ ! -e "$bakes/_bake-ffffffffffffffffffffffffffffffff" ] ||
	fail "start-up left strays in $bakes: $(ls -A "$bakes")"
[ -e "$bakes/.failed-$stale.console.log" ] || fail "start-up removed a failed bake's console log"
[ "$(ls -A "$WORK/data/snapshots")" = "" ] || fail "bakes in snapshots/: $(ls -A "$WORK/data/snapshots")"

note "the CLI shows bakes with -a only"
export SUPERMACHINE_SOCKET="$SOCK"
[ "$("$CLI" snapshots -q)" = "" ] || fail "snapshots -q: $("$CLI" snapshots -q)"
[ "$("$CLI" snapshots -aq | wc -l)" = 3 ] || fail "snapshots -aq: $("$CLI" snapshots -aq)"
[ "$("$CLI" --json snapshots -a | jq '[.[] | select(.kind == "bake")] | length')" = 3 ] ||
	fail "snapshots -a --json"

note "gc: stale bakes and bakes of gone images; the current one stays"
req POST /v1/system/gc
expect_status 200
jbody '.bakes_removed == 2 and .blobs_removed == 0' | grep -qx true || fail "gc: $(body)"
req GET /v1/snapshots
[ "$(jbody '[.snapshots[].name] | join(",")')" = "$current" ] || fail "after gc: $(body)"
[ ! -e "$bakes/$stale" ] && [ ! -e "$bakes/$orphan" ] && [ -e "$bakes/$current/vm.mem" ] ||
	fail "after gc: $(ls -A "$bakes")"
grep -q "removed bake $stale (made with another kernel" "$WORK/daemon.log" ||
	fail "gc said nothing: $(cat "$WORK/daemon.log")"
"$CLI" gc > "$WORK/out" || fail "cli gc: $(cat "$WORK/out")"
grep -q "^removed 0 blobs, 0 layers, 0 stray files (.*) and 0 bakes" "$WORK/out" ||
	fail "cli gc: $(cat "$WORK/out")"

note "deleting the image removes its bake"
req DELETE "/v1/images/$bb_id"
expect_status 200
req GET "/v1/snapshots/$current"
expect_status 404 not_found
[ ! -e "$bakes/$current" ] || fail "the bake's files outlived its image"
req POST /v1/system/gc
expect_status 200
jbody '.blobs_removed > 0 and .layers_removed > 0 and .bakes_removed == 0' | grep -qx true ||
	fail "gc after the image went: $(body)"
stop_daemon

note "baking off"
start_daemon --no-bake
req GET /v1/info
[ "$(jbody .bake.enabled)" = false ] || fail "--no-bake: $(body)"
stop_daemon
echo '{"bake": false}' > "$WORK/nobake.json"
start_daemon_config "$WORK/nobake.json"
req GET /v1/info
[ "$(jbody .bake.enabled)" = false ] || fail '"bake": false: '"$(body)"
stop_daemon

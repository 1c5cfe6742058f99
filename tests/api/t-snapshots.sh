#!/bin/bash
# The snapshot routes' answers that need no running VM, natively: the
# snapshot and fork bodies (400), unknown VMs and snapshots (404), a VM
# that is not running (409), POST /v1/vms with both or neither of "image"
# and "from_snapshot" (400); then snapshot rows seeded in vms.db as
# daemon/vms/vms_snap_db.c writes them: the daemon's start-up keeps rows
# with files and drops the rest (a row without files, a stray temporary
# directory, a folder without a row, a fork's snapshot no VM uses), lists
# and shows them; a restore asking for other vCPUs or memory (400), from a
# snapshot whose image is gone (409), with an "entrypoint" that leaves no
# command (422), or on a host without KVM (503); DELETE removes the files
# (then 404), and removing the last VM restored from a fork's snapshot
# removes that snapshot. The CLI says the same. An older vms.db (the
# first snapshots table) gets the later columns, entrypoint among them.
# Running VMs are the vm suite's (tests/vm/snapshot).
. "$(dirname "$0")/lib.sh"

layout="$SM_BUILD_ROOT/daemon/store/layer/busybox-oci"
[ -f "$layout/index.json" ] || fail "no bundled image at $layout"
start_daemon
req POST /v1/images/import -d "{\"path\": \"$layout\"}"
tail -1 "$WORK/body" | jq -e '.type == "image"' > /dev/null || fail "import: $(body)"
bb_id=$(tail -1 "$WORK/body" | jq -r .image.id)

note "no snapshots yet"
req GET /v1/snapshots
expect_status 200
[ "$(jbody '.snapshots | length')" = 0 ] || fail "list: $(body)"
req GET '/v1/snapshots?all=1'
expect_status 400 invalid_query

note "POST /v1/vms/{id}/snapshot: the body and the name come first"
for b in '{}' '{"name":""}' '{"name":5}' '{"name":"x","vm":"y"}'; do
	req POST /v1/vms/abcd/snapshot -d "$b"
	expect_status 400
done
long=$(printf 'a%.0s' $(seq 1 65))
for n in -x _fork-1 .hidden 'a b' 'a/b' "$long" 'caf\u00e9' 'x:y'; do
	req POST /v1/vms/abcd/snapshot -d "{\"name\":\"$n\"}"
	expect_status 400 invalid_field "is not a snapshot name"
done
req POST /v1/vms/abcd/snapshot -d "{\"name\":\"${long:1}\"}"
expect_status 404 not_found "no such VM: abcd"
req POST /v1/vms/abcd/snapshot -d '{"name":"ok_1.2-3"}'
expect_status 404 not_found

note "fork: the count, then the VM"
for b in '{}' '{"count":0}' '{"count":17}' '{"count":"2"}' '{"count":2,"labels":{"a":1}}' \
	'{"count":2,"image":"busybox"}'; do
	req POST /v1/vms/abcd/fork -d "$b"
	expect_status 400
done
req POST /v1/vms/abcd/fork -d '{"count":16}'
expect_status 404 not_found

note "unknown snapshots"
req GET /v1/snapshots/nope
expect_status 404 not_found "no such snapshot: nope"
req DELETE /v1/snapshots/nope
expect_status 404 not_found "no such snapshot: nope"
req PUT /v1/snapshots/nope
expect_status 405
req POST /v1/vms -d '{"from_snapshot":"nope"}'
expect_status 404 not_found "no such snapshot: nope"

note "POST /v1/vms: exactly one of image and from_snapshot"
req POST /v1/vms -d '{"image":"busybox","from_snapshot":"nope"}'
expect_status 400 invalid_field 'give "image" or "from_snapshot", not both'
req POST /v1/vms -d '{"labels":{"a":"b"}}'
expect_status 400 invalid_field 'missing required field "image"'
req POST /v1/vms -d '{"from_snapshot":""}'
expect_status 400 invalid_field '"from_snapshot"'
req POST /v1/vms -d '{"from_snapshot":"nope","vcpus":0}'
expect_status 400 invalid_field '"vcpus" must be 1 to 64'
stop_daemon

note "seeded snapshots: what start-up keeps"
snaps=$WORK/data/snapshots
python3 - "$WORK/data/vms.db" "$bb_id" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def snap(name, image_id, temporary=0, vcpus=1, mem=256, entrypoint=None):
    db.execute("INSERT INTO snapshots (name, source_vm, image, image_id, vcpus, memory_mib, env, cmd, "
               "workdir, user, created, state_bytes, memory_bytes, memory_disk_bytes, temporary, "
               "entrypoint) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               (name, "0123456789abcdef", "busybox", image_id, vcpus, mem,
                json.dumps(["A=1", "B=2"]), json.dumps(["sleep", "60"]), "/tmp", "nobody",
                1800000000, 4096, mem << 20, 8192, temporary,
                entrypoint and json.dumps(entrypoint)))
snap("seeded", sys.argv[2], entrypoint=["/bin/sh", "-c"])
snap("lost", "sha256:" + "ab" * 32)
snap("nofiles", sys.argv[2])
snap("_fork-0123456789abcdef-00000001", sys.argv[2], temporary=1)
snap("_fork-0123456789abcdef-00000002", sys.argv[2], temporary=1)
# a previous run's VM restored from the second fork snapshot
vm = {"id": "be9c400000000000", "image": "busybox", "image_id": sys.argv[2], "state": "exited",
      "vcpus": 1, "memory_mib": 256, "labels": {}, "env": [], "cmd": None, "workdir": "",
      "user": "", "auto_remove": False, "created": "2026-11-27T00:00:00Z",
      "started": None, "exited": None, "from_snapshot": "_fork-0123456789abcdef-00000002"}
db.execute("INSERT INTO vms VALUES (?, ?)", (vm["id"], json.dumps(vm)))
db.commit()
PY
for s in seeded lost _fork-0123456789abcdef-00000001 _fork-0123456789abcdef-00000002 orphan \
	.tmp-half-Ab12Cd; do
	mkdir -p "$snaps/$s"
	echo state > "$snaps/$s/vm.state"
	truncate -s 256M "$snaps/$s/vm.mem"
done
start_daemon
req GET /v1/snapshots
expect_status 200
[ "$(jbody '[.snapshots[].name] | sort | join(",")')" = \
	_fork-0123456789abcdef-00000002,lost,seeded ] || fail "kept snapshots: $(body)"
for gone in nofiles _fork-0123456789abcdef-00000001 orphan .tmp-half-Ab12Cd; do
	[ ! -e "$snaps/$gone" ] || fail "start-up left $snaps/$gone"
done
grep -q "snapshot nofiles: .* missing" "$WORK/daemon.log" || fail "no word on nofiles: $(cat "$WORK/daemon.log")"
req GET /v1/snapshots/seeded
expect_status 200
jbody '.name == "seeded" and .vm == "0123456789abcdef" and .image == "busybox" and
	.vcpus == 1 and .memory_mib == 256 and .env == ["A=1","B=2"] and .cmd == ["sleep","60"] and
	.workdir == "/tmp" and .user == "nobody" and .created == "2027-01-15T08:00:00Z" and
	.memory_bytes == 268435456 and .memory_disk_bytes == 8192 and .state_bytes == 4096 and
	.temporary == false and .vms == 0 and (.path | endswith("/snapshots/seeded")) and
	.storage_mib == 0 and .upper_disk_bytes == 0 and .entrypoint == ["/bin/sh","-c"]' |
	grep -qx true || fail "seeded: $(body)"
req GET /v1/snapshots/lost
jbody '.entrypoint == null and has("entrypoint")' | grep -qx true || fail "lost: $(body)"
req GET /v1/snapshots/_fork-0123456789abcdef-00000002
jbody '.temporary == true and .vms == 1' | grep -qx true || fail "fork snapshot: $(body)"

note "restoring: vCPUs and memory are the snapshot's, its image must be there, then KVM"
req POST /v1/vms -d '{"from_snapshot":"seeded","vcpus":2}'
expect_status 400 invalid_field 'snapshot seeded has 1 vCPUs'
req POST /v1/vms -d '{"from_snapshot":"seeded","memory":512}'
expect_status 400 invalid_field 'snapshot seeded has 256 MiB'
req POST /v1/vms -d '{"from_snapshot":"seeded","storage_mib":8192}'
expect_status 400 invalid_field 'snapshot seeded has no writable layer disk'
req POST /v1/vms -d '{"from_snapshot":"lost"}'
expect_status 409 conflict "is no longer in the store"
req POST /v1/vms -d '{"from_snapshot":"seeded","vcpus":1,"memory":256,"env":["A=3"]}'
expect_status 503 kvm_unavailable
note "an entrypoint given drops the snapshot's cmd: an empty one leaves no command"
req POST /v1/vms -d '{"from_snapshot":"seeded","entrypoint":[]}'
expect_status 422 no_command 'clears the entrypoint of snapshot seeded'
req POST /v1/vms -d '{"from_snapshot":"seeded","entrypoint":"sh"}'
expect_status 400 invalid_field '"entrypoint" must be an array of strings'
for b in '"entrypoint":[],"cmd":["ls"]' '"entrypoint":["/bin/echo"]' '"cmd":["ls"]'; do
	req POST /v1/vms -d "{\"from_snapshot\":\"seeded\",$b}"
	expect_status 503 kvm_unavailable
done
req POST /v1/vms/be9c400000000000/snapshot -d '{"name":"again"}'
expect_status 409 vm_not_running "is gone"
req POST /v1/vms/be9c400000000000/fork -d '{"count":2}'
expect_status 409 vm_not_running
req POST /v1/vms/be9c400000000000/snapshot -d '{"name":"seeded"}'
expect_status 409 vm_not_running

note "the CLI"
export SUPERMACHINE_SOCKET="$SOCK"
"$CLI" snapshots > "$WORK/out" || fail "cli snapshots: $(cat "$WORK/out")"
head -1 "$WORK/out" | grep -q '^NAME  *FROM VM  *IMAGE' || fail "snapshots header: $(cat "$WORK/out")"
grep -q '^seeded  *0123456789abcdef  *busybox  *1  *256 MiB' "$WORK/out" || fail "table: $(cat "$WORK/out")"
[ "$("$CLI" snapshots -q | sort | tr '\n' ,)" = _fork-0123456789abcdef-00000002,lost,seeded, ] ||
	fail "snapshots -q: $("$CLI" snapshots -q)"
[ "$("$CLI" --json snapshot ls | jq length)" = 3 ] || fail "snapshot ls --json"
"$CLI" snapshot inspect seeded | jq -e '.name == "seeded"' > /dev/null || fail "snapshot inspect"
st=0; "$CLI" snapshot rm nope > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "no such snapshot: nope" "$WORK/out" || fail "cli snapshot rm: $st $(cat "$WORK/out")"
st=0; "$CLI" snapshot abcd 'bad name' > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "is not a snapshot name" "$WORK/out" || fail "cli snapshot: $st $(cat "$WORK/out")"
st=0; "$CLI" snapshot abcd > "$WORK/out" 2>&1 || st=$?
[ "$st" = 2 ] || fail "cli snapshot without a name: $st $(cat "$WORK/out")"
st=0; "$CLI" run --from nope -- true > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "no such snapshot: nope" "$WORK/out" || fail "cli run --from: $st $(cat "$WORK/out")"
st=0; "$CLI" create --from seeded --cpus 4 > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "has 1 vCPUs" "$WORK/out" || fail "cli create --from --cpus: $st $(cat "$WORK/out")"
for n in 0 17 x; do
	st=0; "$CLI" fork -n "$n" abcd > "$WORK/out" 2>&1 || st=$?
	[ "$st" = 2 ] || fail "cli fork -n $n: $st $(cat "$WORK/out")"
done
st=0; "$CLI" fork -n 2 abcd > "$WORK/out" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "no such VM: abcd" "$WORK/out" || fail "cli fork: $st $(cat "$WORK/out")"
for c in snapshot snapshots fork run create; do
	"$CLI" "$c" --help > "$WORK/out" || fail "$c --help exited $?"
	grep -q "^usage: supermachine .*$c" "$WORK/out" || fail "$c --help: $(cat "$WORK/out")"
done
grep -q -- '--from SNAPSHOT' "$WORK/out" || fail "create --help lacks --from"
"$CLI" --help | grep -q '^  fork ' || fail "--help lacks fork"

note "DELETE: the row and the files; a fork's snapshot goes with its last VM"
"$CLI" snapshot rm seeded > "$WORK/out" || fail "cli snapshot rm seeded: $(cat "$WORK/out")"
[ "$(cat "$WORK/out")" = seeded ] || fail "snapshot rm printed $(cat "$WORK/out")"
[ ! -e "$snaps/seeded" ] || fail "DELETE left $snaps/seeded"
req GET /v1/snapshots/seeded
expect_status 404 not_found
req DELETE /v1/snapshots/seeded
expect_status 404 not_found
req DELETE /v1/vms/be9c400000000000
expect_status 200
req GET /v1/snapshots/_fork-0123456789abcdef-00000002
expect_status 404 not_found
[ ! -e "$snaps/_fork-0123456789abcdef-00000002" ] || fail "the fork snapshot outlived its VM"
req DELETE /v1/snapshots/lost
expect_status 200
[ "$(ls -A "$snaps")" = "" ] || fail "left in $snaps: $(ls -A "$snaps")"
still_alive
stop_daemon

note "a new daemon finds nothing left"
start_daemon
req GET /v1/snapshots
[ "$(jbody '.snapshots | length')" = 0 ] || fail "after restart: $(body)"
stop_daemon

note "an older vms.db (the first snapshots table) gets the later columns"
python3 - "$WORK/data/vms.db" "$bb_id" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TABLE snapshots")
db.execute("CREATE TABLE snapshots (name TEXT PRIMARY KEY, source_vm TEXT NOT NULL, "
           "image TEXT NOT NULL, image_id TEXT NOT NULL, vcpus INTEGER NOT NULL, "
           "memory_mib INTEGER NOT NULL, env TEXT NOT NULL, cmd TEXT, workdir TEXT NOT NULL, "
           "user TEXT NOT NULL, created INTEGER NOT NULL, state_bytes INTEGER NOT NULL, "
           "memory_bytes INTEGER NOT NULL, memory_disk_bytes INTEGER NOT NULL, "
           "temporary INTEGER NOT NULL DEFAULT 0)")
db.execute("INSERT INTO snapshots VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
           ("old", "0123456789abcdef", "busybox", sys.argv[2], 1, 256, json.dumps([]), None,
            "", "", 1800000000, 4096, 256 << 20, 8192, 0))
db.commit()
PY
mkdir -p "$snaps/old"
echo state > "$snaps/old/vm.state"
truncate -s 256M "$snaps/old/vm.mem"
start_daemon
req GET /v1/snapshots/old
expect_status 200
jbody '.entrypoint == null and .cmd == null and .storage_mib == 0 and .upper_disk_bytes == 0' |
	grep -qx true || fail "a snapshot of an older database: $(body)"
cols=$(python3 -c 'import sqlite3, sys; print(",".join(r[1] for r in sqlite3.connect(sys.argv[1]).execute("PRAGMA table_info(snapshots)")))' "$WORK/data/vms.db")
case ",$cols," in *,fs_slots,storage_mib,upper_disk_bytes,entrypoint,*) ;;
	*) fail "columns after the upgrade: $cols" ;; esac
req DELETE /v1/snapshots/old
expect_status 200
stop_daemon

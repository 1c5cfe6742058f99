#!/bin/bash
# Folder copies into a VM, natively (no VM needed): PUT /v1/vms/{id}/files
# with a tar body checks every entry before it looks the VM up, so hostile
# tars - absolute names, "..", symlinks out of the folder or through other
# symlinks, device nodes, fifos, hard links to outside names, garbage - are
# a 400 invalid_tar naming the entry whatever the VM, and good tars (empty,
# nested, inner symlinks) pass the check and reach the VM lookup (404 for
# an unknown VM). The daemon still answers afterwards. The real round trip
# runs in tests/vm/api.
. "$(dirname "$0")/lib.sh"
start_daemon

# mktar FILE SPEC...: a tar built by python's tarfile; SPEC is
# f:NAME (file), d:NAME, l:NAME:TARGET (symlink), h:NAME:TARGET (hard
# link), c:NAME (char device), p:NAME (fifo).
mktar() {
	python3 - "$@" <<'PY'
import io, sys, tarfile
out = sys.argv[1]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for spec in sys.argv[2:]:
        kind, name, *rest = spec.split(":", 2)
        i = tarfile.TarInfo(name)
        data = b""
        if kind == "f":
            data = b"hello\n"; i.size = len(data); i.mode = 0o644
        elif kind == "d":
            i.type = tarfile.DIRTYPE; i.mode = 0o755
        elif kind == "l":
            i.type = tarfile.SYMTYPE; i.linkname = rest[0]
        elif kind == "h":
            i.type = tarfile.LNKTYPE; i.linkname = rest[0]
        elif kind == "c":
            i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3
        elif kind == "p":
            i.type = tarfile.FIFOTYPE
        t.addfile(i, io.BytesIO(data) if data else None)
PY
}

put_tar() { # TARFILE [PATH]
	req PUT "/v1/vms/abcd/files?path=${2:-/srv/dst}" -H 'Content-Type: application/x-tar' \
		--data-binary "@$1"
}

hostile() { # MESSAGE_PART SPEC...
	local want="$1"; shift
	mktar "$WORK/h.tar" "$@" || fail "python tarfile"
	put_tar "$WORK/h.tar"
	expect_status 400 invalid_tar "$want"
}

note "hostile entries are refused by name"
hostile 'tar entry "/etc/passwd": an absolute name' f:/etc/passwd
hostile 'tar entry "a/../../x": a ".." segment' d:a f:a/../../x
hostile 'tar entry "../x": a ".." segment' f:../x
hostile 'tar entry "l": a symlink to an absolute path (/etc)' l:l:/etc
hostile 'tar entry "d/l": a symlink out of the target folder (../../x)' d:d l:d/l:../../x
hostile 'tar entry "l/passwd": below the symlink "l"' l:l:sub d:sub f:l/passwd
hostile 'tar entry "m": a symlink that climbs out of another symlink (l/..)' l:l:. l:m:l/..
hostile 'tar entry "dev/null": a character device' d:dev c:dev/null
hostile 'tar entry "p": a fifo' p:p
hostile 'tar entry "h": a hard link to "x", which is not a regular file' f:a h:h:x
hostile 'tar entry "/etc/shadow": an absolute name' f:a h:h:/etc/shadow
hostile 'tar entry "h": a hard link to "l"' l:l:a f:a h:h:l
head -c 3000 /dev/urandom > "$WORK/garbage"
put_tar "$WORK/garbage"
expect_status 400 invalid_tar "not a readable tar"

note "good tars pass the check and reach the VM lookup"
good() { # SPEC...
	mktar "$WORK/g.tar" "$@" || fail "python tarfile"
	put_tar "$WORK/g.tar"
	expect_status 404 not_found
}
good d:dir d:dir/sub f:dir/sub/f l:dir/up:../dir/sub/f l:dir/same:sub/f h:dir/hard:dir/sub/f
good d:. f:./a l:./b:a
good l:dir/l:..
: > "$WORK/empty.tar"
put_tar "$WORK/empty.tar"
expect_status 404 not_found

note "the path is checked first"
put_tar "$WORK/empty.tar" relative/dir
expect_status 400 invalid_path
put_tar "$WORK/g.tar" /srv/../etc
expect_status 400 invalid_path
req GET '/v1/vms/abcd/files?path=/srv/dir'
expect_status 404 not_found
still_alive
stop_daemon

note "the client's folder copies, against a stand-in daemon"
python3 "$SM_SOURCE_ROOT/tests/api/fake_files_daemon.py" "$WORK/fake.sock" "$WORK" &
PIDS="$PIDS $!"
for _ in $(seq 1 100); do [ -S "$WORK/fake.sock" ] && break; sleep 0.05; done
cpc() { "$CLI" --socket "$WORK/fake.sock" cp "$@"; }
mkdir -p "$WORK/src/app/sub/deeper" "$WORK/src/app/empty"
echo one > "$WORK/src/app/one"
echo two > "$WORK/src/app/sub/deeper/two"
chmod 0751 "$WORK/src/app/sub/deeper/two"
chmod 0700 "$WORK/src/app/empty"
ln -s sub/deeper/two "$WORK/src/app/link"
cpc "$WORK/src/app" x1:/srv || fail "cp of a host folder"
[ "$(cat "$WORK/put.ctype")" = application/x-tar ] || fail "content type $(cat "$WORK/put.ctype")"
tar -tvf "$WORK/put.tar" > "$WORK/listing" || fail "the uploaded tar does not list"
grep -q ' app/sub/deeper/two$' "$WORK/listing" && grep -q '^-rwxr-x--x' "$WORK/listing" &&
	grep -q 'app/link -> sub/deeper/two' "$WORK/listing" &&
	! grep -v ' app' "$WORK/listing" | grep -q . || fail "uploaded tar: $(cat "$WORK/listing")"
cp "$WORK/put.tar" "$WORK/serve.tar"
cpc x1:/srv/app "$WORK/out" || fail "cp of a VM folder"
diff -r --no-dereference "$WORK/src/app" "$WORK/out/app" || fail "the copy back differs"
modes=$(stat -c %a "$WORK/out/app/sub/deeper/two" "$WORK/out/app/empty" | xargs)
[ "$modes" = "751 700" ] || fail "modes copied back: $modes"
[ "$(readlink "$WORK/out/app/link")" = sub/deeper/two ] || fail "symlink not kept"

note "a hostile tar from a VM writes nothing"
for spec in f:../escaped l:app:/etc 'l:app:. f:app/x' c:dev; do
	rm -rf "$WORK/out2" "$WORK/escaped"
	# shellcheck disable=SC2086
	mktar "$WORK/serve.tar" $spec
	st=0; cpc x1:/srv/app "$WORK/out2" 2> "$WORK/err" || st=$?
	[ "$st" = 1 ] && grep -q "refusing the VM's tar of /srv/app: tar entry" "$WORK/err" ||
		fail "hostile $spec: exit $st: $(cat "$WORK/err")"
	[ ! -e "$WORK/out2" ] && [ ! -e "$WORK/escaped" ] || fail "hostile $spec wrote files"
done
echo "PASS: folder tar checks"

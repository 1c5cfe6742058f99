#!/bin/bash
# Folder copies into a VM, natively (no VM needed): PUT /v1/vms/{id}/files
# with a tar body checks every entry before it looks the VM up, so hostile
# tars - absolute names, "..", symlinks out of the folder or through other
# symlinks, device nodes, fifos, hard links to outside names, garbage - are
# a 400 invalid_tar naming the entry whatever the VM, and good tars (empty,
# nested, inner symlinks) pass the check and reach the VM lookup (404 for
# an unknown VM). The daemon still answers afterwards. The real round trip,
# and the client refusing a hostile tar from a VM, run in tests/vm/api.
. "$(dirname "$0")/lib.sh"
start_daemon

mktar() { python3 "$SM_SOURCE_ROOT/tests/api/mktar.py" "$@"; }

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

echo "PASS: folder tar checks"

"""mktar.py OUT SPEC... - a tar for the folder-copy tests, hostile or not.

Used by tests/api/t-files.sh (tars uploaded to the daemon) and
tests/vm/api/run-vm-api-tests (a tar a compromised guest hands back).
SPEC is f:NAME (a file holding "hello"), d:NAME, l:NAME:TARGET (symlink),
h:NAME:TARGET (hard link), c:NAME (char device 1:3), p:NAME (fifo).
"""
import io
import sys
import tarfile


def entry(spec):
    kind, name, *rest = spec.split(":", 2)
    info = tarfile.TarInfo(name)
    data = b""
    if kind == "f":
        data = b"hello\n"
        info.size, info.mode = len(data), 0o644
    elif kind == "d":
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    elif kind == "l":
        info.type, info.linkname = tarfile.SYMTYPE, rest[0]
    elif kind == "h":
        info.type, info.linkname = tarfile.LNKTYPE, rest[0]
    elif kind == "c":
        info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    elif kind == "p":
        info.type = tarfile.FIFOTYPE
    else:
        sys.exit(f"mktar: unknown kind in {spec!r}")
    return info, (io.BytesIO(data) if data else None)


with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as out:
    for spec in sys.argv[2:]:
        out.addfile(*entry(spec))

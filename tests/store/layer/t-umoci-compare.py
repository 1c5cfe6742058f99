#!/usr/bin/env python3
"""t-umoci-compare.py SM_LAYER2EROFS - two layers, ours vs umoci's rootfs.

Builds a two-layer OCI image (the upper layer deletes with whiteouts, hides
a directory with an opaque marker, re-makes a deleted directory, replaces
and adds files, and carries modes, owners, links, devices and xattrs) and
unpacks it with umoci as root: the reference a container runtime would
see. Each layer is converted to erofs by us, both images are loop-mounted
and stacked with overlayfs, and the stacked tree must equal umoci's rootfs
path by path: type, permission bits, owner, size, mtime, content, link
target, device number, user.* xattrs, and hard-link sharing.

Like docker's, the layers list every parent directory of what they
change: a directory a layer only implies gets default metadata in that
layer's image (a converted layer cannot know its base).

Needs root with loop, erofs and overlayfs; exits 77 (skipped) without.
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile

T0 = 1700000000


def ti(name, kind=tarfile.REGTYPE, mode=None, data=b"", uid=0, gid=0,
       link="", dev=(0, 0), xattrs=None, mtime=T0):
    if mode is None:
        mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    t = tarfile.TarInfo(name)
    t.type, t.mode, t.uid, t.gid, t.mtime = kind, mode, uid, gid, mtime
    t.linkname, (t.devmajor, t.devminor) = link, dev
    t.size = len(data) if kind == tarfile.REGTYPE else 0
    if xattrs:
        t.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
    return t, data


LOWER = [
    ti("etc/", tarfile.DIRTYPE, 0o755),
    ti("etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n"),
    ti("etc/gone", data=b"deleted above"),
    ti("etc/keep", data=b"kept", uid=7, gid=8, xattrs={"user.k": "v"}),
    ti("opt/", tarfile.DIRTYPE, 0o755),
    ti("opt/app/", tarfile.DIRTYPE, 0o750, uid=1000, gid=1000),
    ti("opt/app/old.conf", data=b"old"),
    ti("opt/app/sub/", tarfile.DIRTYPE),
    ti("opt/app/sub/deep", data=b"deep"),
    ti("remade/", tarfile.DIRTYPE),
    ti("remade/stale", data=b"stale"),
    ti("bin/", tarfile.DIRTYPE),
    ti("bin/tool", mode=0o4755, data=b"#!/bin/sh\n"),
    ti("bin/alias", tarfile.SYMTYPE, 0o777, link="tool"),
    ti("bin/hard", tarfile.LNKTYPE, link="bin/tool"),
    ti("dev/", tarfile.DIRTYPE),
    ti("dev/null", tarfile.CHRTYPE, 0o666, dev=(1, 3)),
    ti("dev/fifo", tarfile.FIFOTYPE, 0o600),
    ti("replaced", data=b"lower version"),
]

UPPER = [
    ti("etc/", tarfile.DIRTYPE, 0o755, mtime=T0 + 10),
    ti("etc/.wh.gone"),
    ti("etc/new", data=b"added", mtime=T0 + 10),
    ti("opt/", tarfile.DIRTYPE),
    ti("opt/app/", tarfile.DIRTYPE, 0o755, mtime=T0 + 10),
    ti("opt/app/.wh..wh..opq"),
    ti("opt/app/fresh.conf", data=b"fresh", mtime=T0 + 10),
    ti(".wh.remade"),
    ti("remade/", tarfile.DIRTYPE, 0o700, mtime=T0 + 10),
    ti("remade/new", data=b"new", mtime=T0 + 10),
    ti("replaced", mode=0o600, data=b"upper version", uid=5, mtime=T0 + 10),
    ti("bin/", tarfile.DIRTYPE, mtime=T0 + 10),
    ti("bin/sgid", mode=0o2755, gid=50, data=b"g", mtime=T0 + 10),
]


def layer(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for info, data in entries:
            t.addfile(info, io.BytesIO(data) if data else None)
    tar = buf.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as z:
        z.write(tar)
    return tar, gz.getvalue()


def put(blobs, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return "sha256:" + d


def write_layout(root, layers):
    blobs = os.path.join(root, "blobs", "sha256")
    os.makedirs(blobs)
    descs, diff_ids = [], []
    for tar, gz in layers:
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                      "digest": put(blobs, gz), "size": len(gz)})
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": put(blobs, config), "size": len(config)},
        "layers": descs}).encode()
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": put(blobs, manifest), "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": "t"}}]}
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(root, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return [os.path.join(blobs, d["digest"][7:]) for d in descs]


def describe(path):
    st = os.lstat(path)
    d = {"type": stat.S_IFMT(st.st_mode), "perm": stat.S_IMODE(st.st_mode),
         "owner": (st.st_uid, st.st_gid)}
    if not stat.S_ISDIR(st.st_mode):
        d["size"], d["nlink"] = st.st_size, st.st_nlink
    if not stat.S_ISLNK(st.st_mode):
        d["mtime"] = st.st_mtime_ns
    if stat.S_ISREG(st.st_mode):
        with open(path, "rb") as f:
            d["sha256"] = hashlib.sha256(f.read()).hexdigest()
    if stat.S_ISLNK(st.st_mode):
        d["target"] = os.readlink(path)
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        d["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
    d["xattrs"] = {n: os.getxattr(path, n, follow_symlinks=False)
                   for n in os.listxattr(path, follow_symlinks=False)
                   if n.startswith("user.")}
    return d, (st.st_ino if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode)
               else None)


def tree(root):
    out, inodes = {}, {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            out[rel], ino = describe(p)
            if ino is not None:
                inodes.setdefault(ino, []).append(rel)
    return out, sorted(sorted(g) for g in inodes.values())


def sh(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def main():
    conv = sys.argv[1]
    if os.geteuid() != 0 or not shutil.which("umoci"):
        print("FAIL: needs root and umoci (script/setup installs umoci)")
        return 1
    tmp = tempfile.mkdtemp(prefix="smlayer-umoci-")
    mounts = []
    try:
        low, up = write_layout(os.path.join(tmp, "oci"), [layer(LOWER), layer(UPPER)])
        r = sh("umoci", "unpack", "--image", os.path.join(tmp, "oci") + ":t",
               os.path.join(tmp, "bundle"))
        assert r.returncode == 0, "umoci unpack: " + r.stderr
        for name, blob in (("low", low), ("up", up)):
            img, mnt = os.path.join(tmp, name + ".erofs"), os.path.join(tmp, "m-" + name)
            r = sh(conv, blob, img)
            assert r.returncode == 0, "convert: " + r.stderr
            assert sh("fsck.erofs", img).returncode == 0, "fsck.erofs " + name
            os.mkdir(mnt)
            if sh("mount", "-t", "erofs", "-o", "loop,ro", img, mnt).returncode:
                print("FAIL: cannot loop-mount erofs here")
                return 1
            mounts.append(mnt)
        ovl = os.path.join(tmp, "m-ovl")
        os.mkdir(ovl)
        lower = "%s:%s" % (mounts[1], mounts[0])
        r = sh("mount", "-t", "overlay", "overlay", "-o", "ro,lowerdir=" + lower, ovl)
        assert r.returncode == 0, "overlay mount: " + r.stderr
        mounts.append(ovl)
        ours, ours_links = tree(ovl)
        ref, ref_links = tree(os.path.join(tmp, "bundle", "rootfs"))
        for path in sorted(set(ours) | set(ref)):
            assert path in ours, "missing in ours: " + path
            assert path in ref, "extra in ours: " + path
            assert ours[path] == ref[path], "%s: ours %s, umoci %s" % (
                path, ours[path], ref[path])
        assert ours_links == ref_links, "hard links: %s vs %s" % (ours_links, ref_links)
        print("ok: %d paths identical to umoci's rootfs" % len(ref))
        return 0
    finally:
        for m in reversed(mounts):
            sh("umount", m)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

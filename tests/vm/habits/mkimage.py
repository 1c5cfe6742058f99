#!/usr/bin/env python3
"""mkimage.py BUSYBOX_LAYOUT OUT - an OCI layout for tests/vm/habits.

The bundled busybox image (tools/make-busybox-image) with one more layer
(/etc/passwd and /etc/group with a user "app", uid 1000, in its own group
and in "extra", 2000) and a config as a Dockerfile would give it:
ENTRYPOINT ["/bin/sh", "-c", "<prints args, id, pwd, env>", "sh"],
CMD ["default"], USER app, WORKDIR /srv/work (not in any layer: the
runtime makes it), ENV PATH=... GREETING=hi. Standard library only.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
          "app:x:1000:1000:app:/home/app:/bin/sh\n")
GROUP = "root:x:0:\nnogroup:x:65534:\napp:x:1000:\nextra:x:2000:nobody,app\n"
SCRIPT = 'echo "args: $*"; id; pwd; echo "env: $GREETING $HOME"'


def blob(root, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(root, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d


def read_json(root, digest):
    with open(os.path.join(root, "blobs", "sha256", digest.split(":")[1])) as f:
        return json.load(f)


def layer():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, text in (("etc/passwd", PASSWD), ("etc/group", GROUP)):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(text), 0o644
            t.addfile(ti, io.BytesIO(text.encode()))
        ti = tarfile.TarInfo("home/app/")
        ti.type, ti.mode, ti.uid, ti.gid = tarfile.DIRTYPE, 0o755, 1000, 1000
        t.addfile(ti)
    raw = buf.getvalue()
    return raw, gzip.compress(raw, mtime=0)


def main(src, out):
    os.makedirs(os.path.join(out, "blobs", "sha256"))
    index = json.load(open(os.path.join(src, "index.json")))
    manifest = read_json(src, index["manifests"][0]["digest"])
    config = read_json(src, manifest["config"]["digest"])
    for l in manifest["layers"]:
        data = open(os.path.join(src, "blobs", "sha256", l["digest"].split(":")[1]), "rb").read()
        blob(out, data)
    raw, gz = layer()
    ld = blob(out, gz)
    manifest["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                               "digest": ld, "size": len(gz)})
    config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw).hexdigest())
    config["config"] = {
        "Entrypoint": ["/bin/sh", "-c", SCRIPT, "sh"], "Cmd": ["default"],
        "User": "app", "WorkingDir": "/srv/work",
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "GREETING=hi"]}
    cdata = json.dumps(config).encode()
    manifest["config"] = {"mediaType": "application/vnd.oci.image.config.v1+json",
                          "digest": blob(out, cdata), "size": len(cdata)}
    mdata = json.dumps(manifest).encode()
    entry = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": blob(out, mdata), "size": len(mdata),
             "platform": {"architecture": "amd64", "os": "linux"},
             "annotations": {"io.containerd.image.name": "docker.io/library/habits:latest",
                             "org.opencontainers.image.ref.name": "latest"}}
    json.dump({"schemaVersion": 2, "manifests": [entry]},
              open(os.path.join(out, "index.json"), "w"))
    json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

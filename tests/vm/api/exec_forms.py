#!/usr/bin/env python3
"""tests/vm/api/exec_forms.py SOCKET VM - the exec stream's two forms
(docs/api.md) for one command that writes to stdout and stderr and exits 3:
the NDJSON form (base64 chunks, "type" first) and the frames form (Accept:
application/vnd.supermachine.exec-frames: s, 1, 2, x frames), read with
curl as an API user would. Exits 1 with a reason on any difference."""
import base64, json, struct, subprocess, sys

sock, vm = sys.argv[1], sys.argv[2]
body = json.dumps({"argv": ["sh", "-c", "printf out; printf err >&2; exit 3"]})
FRAMES = "application/vnd.supermachine.exec-frames"


def post(accept):
    cmd = ["curl", "-sS", "-D", "-", "--unix-socket", sock, "-H", "Content-Type: application/json",
           "-d", body, f"http://sm/v1/vms/{vm}/exec"]
    if accept:
        cmd[2:2] = ["-H", f"Accept: {accept}"]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    head, _, rest = raw.partition(b"\r\n\r\n")
    return head.decode().lower(), rest


def fail(why):
    print(f"exec_forms: {why}", file=sys.stderr)
    sys.exit(1)


head, rest = post(None)
if "content-type: application/x-ndjson" not in head:
    fail(f"NDJSON form: {head}")
lines = rest.decode().splitlines()
events = [json.loads(l) for l in lines]
if not lines[0].startswith('{"type":"start"'):
    fail(f"NDJSON: first line {lines[0]!r}")
out = b"".join(base64.b64decode(e["data"]) for e in events if e["type"] == "stdout")
err = b"".join(base64.b64decode(e["data"]) for e in events if e["type"] == "stderr")
if (out, err, events[-1]["type"], events[-1].get("code")) != (b"out", b"err", "exit", 3):
    fail(f"NDJSON events: {events}")

head, rest = post(FRAMES)
if f"content-type: {FRAMES}" not in head:
    fail(f"frames form: {head}")
frames, i = [], 0
while i < len(rest):
    if len(rest) - i < 5:
        fail(f"a cut frame head at {i}: {rest[i:]!r}")
    kind, n = rest[i:i + 1].decode(), struct.unpack(">I", rest[i + 1:i + 5])[0]
    frames.append((kind, rest[i + 5:i + 5 + n]))
    i += 5 + n
kinds = [k for k, _ in frames]
if kinds[0] != "s" or kinds[-1] != "x" or set(kinds[1:-1]) - {"1", "2"}:
    fail(f"frame types {kinds}")
start, end = json.loads(frames[0][1]), json.loads(frames[-1][1])
if "exec_id" not in start or "pid" not in start or "type" in start:
    fail(f"start frame {start}")
out = b"".join(p for k, p in frames if k == "1")
err = b"".join(p for k, p in frames if k == "2")
if (out, err, end.get("code"), end.get("signal")) != (b"out", b"err", 3, 0):
    fail(f"frames: out {out!r} err {err!r} exit {end}")

# A command that is not there: the error frame is the error object itself.
body = json.dumps({"argv": ["no-such-command"]})
head, rest = post(FRAMES)
kind, n = rest[0:1], struct.unpack(">I", rest[1:5])[0]
err = json.loads(rest[5:5 + n])
if kind != b"e" or err.get("code") != "command_not_found" or len(rest) != 5 + n:
    fail(f"error frame: {rest!r}")
print("exec_forms: NDJSON and frames agree")

#!/usr/bin/env python3
"""tests/vm/agent/qemu-monitor.py SOCKET COMMAND [SYSTEM_MAP] - one HMP
command on a QEMU monitor socket (-monitor unix:SOCKET,server=on,wait=off);
prints its answer, and with SYSTEM_MAP each RIP= in it with the kernel
symbol it falls in. The agent VM test uses it to see why a QEMU guest
stopped (status, registers) and to quit a guest that powered off."""
import re
import socket
import sys


def read_prompt(s):
    buf = b""
    while not buf.endswith(b"(qemu) "):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf.decode(errors="replace").replace("\r", "")


s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
read_prompt(s)
s.sendall(sys.argv[2].encode() + b"\n")
out = read_prompt(s)
# The answer: after the echoed command line, before the next prompt.
answer = out.rsplit("(qemu) ", 1)[0].split("\n", 1)[-1].rstrip()
print(answer)
if len(sys.argv) > 3:
    syms = []
    with open(sys.argv[3]) as f:
        for line in f:
            a, _, name = line.split()[:3]
            syms.append((int(a, 16), name))
    syms.sort()
    for rip in re.findall(r"RIP=([0-9a-f]+)", answer):
        r = int(rip, 16)
        below = [s for s in syms if s[0] <= r]
        if below:
            print("RIP %s is %s+0x%x" % (rip, below[-1][1], r - below[-1][0]))

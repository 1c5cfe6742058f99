#!/usr/bin/python3
"""bench/net/net-bench.py - one side-by-side run of bench/net: our VMM's
virtio-net vs QEMU's (`-netdev stream`), each behind its own passt started
with the same options, booting the same kernel and the same initramfs
(bench/net/guest-init runs the phases in the guest).

Runs inside the benchmark's "world" network namespace (run-net-bench makes
it and a "lan" one, joined by a veth pair; nothing leaves the two). Here,
on 10.99.0.2: iperf3 -s (5201), net-probe serve (5300) and the gates
(5400). passt runs in the lan namespace (10.99.0.1, a default route to
10.99.0.2) with supermachined's options (daemon/vms/passt.c): `-f -q -1
-l LOG --fd N -a 10.0.2.15 -n 24 -g 10.0.2.2 -m 65520 --no-map-gw`, N one
end of a socketpair. The other end goes to QEMU as `-netdev
stream,addr.type=fd`, or to our VMM with NET_ATTACH as the daemon sends
it, with a policy like the daemon's (default allow, the VM's address, the
lan address blocked). (passt's --socket PATH with -1 quits at once.)

At each gate the guest names (PHASE-start, PHASE-end) this script takes
our VMM's counters (SIGUSR2 dump, daemon/vm/debug_dump.c: KVM exits to
user space, the net device's frames, notifications and interrupts) before
it answers "go"; the guest prints its own eth0 counters (both VMMs).

Prints the figures of each VMM, the ratios ours/QEMU, counts per MiB moved,
and the `result:` lines; exit 1 if a figure could not be measured.
"""
import argparse
import json
import os
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time

SERVER, GATE_PORT, IPERF_PORT, REQ_PORT = "10.99.0.2", 5400, 5201, 5300
LAN_ADDR, VM_IP, GW_IP, MTU = "10.99.0.1", "10.0.2.15", "10.0.2.2", 65520
MAC = "52:54:00:12:34:56"
READY, EXITED, NET_ATTACH, NET_ATTACH_DONE = 1, 2, 11, 12
MSG = struct.Struct("<Ii248s")
PHASES = ("tx", "rx", "lat")
MIB = 1 << 20


class BenchError(Exception):
    pass


class Hang(BenchError):
    """The guest stopped making progress."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def wait_for(pred, secs, what, alive=None):
    deadline = time.time() + secs
    while time.time() < deadline:
        if pred():
            return
        if alive and alive.poll() is not None:
            raise BenchError(f"{what}: the process exited ({alive.returncode})")
        time.sleep(0.1)
    raise BenchError(f"{what}: not within {secs} s")


def listening(port):
    with open("/proc/net/tcp") as f:
        return any(l.split()[1].endswith(f":{port:04X}") and l.split()[3] == "0A"
                   for l in f.readlines()[1:])


# ---- our VMM's counters (SIGUSR2 dump) ----

def dump_counters(vmm, log_path, nth):
    """Send SIGUSR2, wait for the nth dump's net lines, parse that dump."""
    os.kill(vmm.pid, signal.SIGUSR2)

    def text():
        with open(log_path, errors="replace") as f:
            return f.read()
    wait_for(lambda: text().count("dump:   net rx:") >= nth, 60, "the VMM's SIGUSR2 dump", vmm)
    block = text().split("dump: kvm exits:")[nth]
    c = {"exits": sum(int(v) for v in re.findall(r" \w+=(\d+)", block.split("\n", 1)[0]))}
    m = re.search(r"dump: virtio-net .*? notifications=(\d+) interrupts=(\d+)", block)
    c["notifications"], c["interrupts"] = int(m[1]), int(m[2])
    for d in ("tx", "rx"):
        m = re.search(rf"dump:   net {d}: frames=(\d+) bytes=(\d+)", block)
        c[f"{d}_frames"], c[f"{d}_bytes"] = int(m[1]), int(m[2])
    # times tx stopped for a full socket, rx for want of guest buffers
    c["tx_stalls"] = int(re.search(r"dump:   net tx: .* stalls=(\d+)", block)[1])
    c["rx_waits"] = int(re.search(r"dump:   net rx: .* waits=(\d+)", block)[1])
    return c


# ---- one VM's run ----

class Run:
    def __init__(self, args, kind, n):
        self.a, self.kind = args, kind
        self.tag = f"{kind}{n}"
        w = args.work
        self.console = f"{w}/console-{self.tag}.log"
        self.vmm_log, self.passt_log = f"{w}/vmm-{self.tag}.log", f"{w}/passt-{self.tag}.log"
        self.procs, self.host = [], {}

    def cmdline(self):
        return (f"console=ttyS0 quiet bench.server={SERVER} bench.secs={self.a.secs} "
                f"bench.reqs={self.a.reqs}")

    def start_passt(self):
        """passt on one end of a socketpair; the other end, for the VMM."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        p = subprocess.Popen(
            ["ip", "netns", "exec", self.a.lan, "passt", "-f", "-q", "-1", "-l", self.passt_log,
             "--fd", str(theirs.fileno()), "-a", VM_IP, "-n", "24", "-g", GW_IP, "-m", str(MTU),
             "--no-map-gw"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(f"{self.passt_log}.err", "w"), pass_fds=[theirs.fileno()])
        theirs.close()
        self.procs.append(p)
        self.link = ours

    def start_ours(self):
        ctrl, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.vm = subprocess.Popen(
            [self.a.vmm, "--kernel", self.a.kernel, "--initrd", self.a.initrd, "--cmdline",
             self.cmdline(), "--mem", str(self.a.mem), "--vcpus", "1", "--net", MAC,
             "--control-fd", str(child.fileno()), "--timeout", "1200",
             "--console-log", self.console],
            stdin=subprocess.DEVNULL, stdout=open(self.vmm_log, "w"), stderr=subprocess.STDOUT,
            pass_fds=[child.fileno()])
        self.procs.append(self.vm)
        child.close()
        self.ctrl = ctrl
        ctrl.settimeout(300)
        t, v, text = MSG.unpack(ctrl.recv(MSG.size))
        if t != READY:
            raise BenchError(f"our VMM: first message {t} ({text}), want READY")
        memfd = os.memfd_create("policy")
        os.write(memfd, (f"mac {MAC}\ndefault allow\nvm-address {VM_IP}\n"
                         f"host-block {LAN_ADDR}\n").encode())
        socket.send_fds(ctrl, [MSG.pack(NET_ATTACH, 0, b"")], [self.link.fileno(), memfd])
        os.close(memfd)
        t, v, text = MSG.unpack(ctrl.recv(MSG.size))
        text = text.split(b"\0", 1)[0].decode()
        if t != NET_ATTACH_DONE or v != 0:
            raise BenchError(f"our VMM: NET_ATTACH answered {t}/{v}: {text}")

    def start_qemu(self):
        self.vm = subprocess.Popen(
            ["qemu-system-x86_64", "-M", "microvm,acpi=on", "-accel", "kvm", "-cpu", "host",
             "-m", str(self.a.mem), "-smp", "1", "-nodefaults", "-no-user-config",
             "-display", "none", "-no-reboot", "-kernel", self.a.kernel, "-initrd",
             self.a.initrd, "-append", self.cmdline(), "-serial", f"file:{self.console}",
             "-netdev", f"stream,id=n0,server=off,addr.type=fd,addr.str={self.link.fileno()}",
             "-device", f"virtio-net-device,netdev=n0,mac={MAC},host_mtu={MTU}"],
            stdin=subprocess.DEVNULL, stdout=open(self.vmm_log, "w"), stderr=subprocess.STDOUT,
            pass_fds=[self.link.fileno()])
        self.procs.append(self.vm)

    def serve_gates(self, gate):
        """Answer the guest's gates until lat-end; our counters at each."""
        want = [f"{p}-{e}" for p in PHASES for e in ("start", "end")]
        deadline = time.time() + self.a.deadline
        for word in want:
            while True:
                gate.settimeout(5)
                try:
                    conn, _ = gate.accept()
                    break
                except socket.timeout:
                    if self.vm.poll() is not None:
                        raise BenchError(f"the VM ended (exit {self.vm.returncode}) before "
                                         f"gate {word}")
                    if time.time() > deadline:
                        raise Hang(f"no gate {word} within {self.a.deadline} s")
            with conn:
                conn.settimeout(30)
                got = conn.recv(64).decode(errors="replace").strip()
                if got != word:
                    raise BenchError(f"gate: got '{got}', want '{word}'")
                if self.kind == "ours":
                    self.host[word] = dump_counters(self.vm, self.vmm_log, len(self.host) + 1)
                conn.sendall(b"go\n")
        self.vm.wait(300)

    def run(self, gate):
        t0 = time.time()
        try:
            self.start_passt()
            self.start_ours() if self.kind == "ours" else self.start_qemu()
            self.link.close()
            self.serve_gates(gate)
        finally:
            for p in reversed(self.procs):
                if p.poll() is None:
                    p.kill()
                p.wait()
        self.secs = time.time() - t0
        return self.parse_console()

    def parse_console(self):
        with open(self.console, errors="replace") as f:
            lines = [l.rstrip("\r\n") for l in f]
        r = {"guest": {}, "host": self.host}
        for i, l in enumerate(lines):
            if l.startswith("bench: failed:"):
                raise BenchError(f"{self.tag}: guest says {l}")
            m = re.match(r"bench: counters (\S+) (.*)", l)
            if m:
                r["guest"][m[1]] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m[2])}
            m = re.match(r"bench: json-begin (\w+)", l)
            if m:
                end = next(j for j in range(i, len(lines)) if lines[j].startswith("bench: json-end"))
                e = json.loads("\n".join(lines[i + 1:end]))["end"]
                r[m[1]] = {"bytes": e["sum_received"]["bytes"],
                           "bps": e["sum_received"]["bits_per_second"],
                           "retransmits": e["sum_sent"].get("retransmits", 0)}
            m = re.match(r"bench: latency (.*)", l)
            if m:
                r["lat"] = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", m[1])}
        if "bench: done" not in lines or not all(p in r for p in PHASES):
            raise BenchError(f"{self.tag}: the guest did not finish (see {self.console})")
        return r


# ---- figures ----

def delta(counters, phase, keys):
    s, e = counters[f"{phase}-start"], counters[f"{phase}-end"]
    return sum(e[k] - s[k] for k in keys)


def per_mib(r, phase):
    mib = r[phase]["bytes"] / MIB
    g = r["guest"]
    f = {"mib": mib,
         "guest_packets": delta(g, phase, ("tx_packets", "rx_packets")) / mib,
         "guest_irqs": delta(g, phase, ("irqs",)) / mib}
    if r["host"]:
        h = r["host"]
        f.update(frames=delta(h, phase, ("tx_frames", "rx_frames")) / mib,
                 irqs=delta(h, phase, ("interrupts",)) / mib,
                 kicks=delta(h, phase, ("notifications",)) / mib,
                 exits=delta(h, phase, ("exits",)) / mib,
                 stalls=delta(h, phase, ("tx_stalls",)), waits=delta(h, phase, ("rx_waits",)))
    return f


NAME = {"ours": "supermachine-vmm", "qemu": "qemu microvm"}


def print_figures(results, rounds):
    """The timed figures of both VMMs; returns the ratios ours/QEMU."""
    med = statistics.median
    fig = {}
    for kind in ("ours", "qemu"):
        rs = results[kind]
        fig[kind] = {"tx": med([r["tx"]["bps"] for r in rs]) / 1e6,
                     "rx": med([r["rx"]["bps"] for r in rs]) / 1e6,
                     "lat": med([r["lat"]["median_us"] for r in rs]),
                     "lat_mean": med([r["lat"]["mean_us"] for r in rs])}
    print(f"TCP through passt, guest <-> the world namespace, median of {rounds} run(s):")
    print(f"  {'':18} {'tx Mbit/s':>10} {'rx Mbit/s':>10} {'latency us':>11} {'(mean)':>9}")
    for kind in ("ours", "qemu"):
        f = fig[kind]
        print(f"  {NAME[kind]:18} {f['tx']:10.1f} {f['rx']:10.1f} {f['lat']:11.1f} "
              f"{f['lat_mean']:9.1f}")
    ratio = {k: fig["ours"][k] / fig["qemu"][k] for k in ("tx", "rx", "lat")}
    print(f"  ratio ours/qemu    {ratio['tx']:10.2f} {ratio['rx']:10.2f} {ratio['lat']:11.2f}")
    return ratio


def print_counts(results):
    """Counts per MiB (tx, rx) and per request (lat), of each VMM's last run."""
    print("counts (last run; guest: eth0 packets and its interrupt line, both VMMs;"
          " ours: our device's frames, interrupts, notifications, KVM exits):")
    for phase in ("tx", "rx"):
        for kind in ("ours", "qemu"):
            f = per_mib(results[kind][-1], phase)
            extra = ("" if kind == "qemu" else
                     f"  ours: frames {f['frames']:.1f} irqs {f['irqs']:.1f} kicks "
                     f"{f['kicks']:.1f} kvm-exits {f['exits']:.1f} (whole phase: tx stalls "
                     f"{f['stalls']}, rx waits {f['waits']})")
            print(f"  {phase} per MiB, {NAME[kind]:18} ({f['mib']:.1f} MiB) guest: packets "
                  f"{f['guest_packets']:.1f} irqs {f['guest_irqs']:.1f}{extra}")
    for kind in ("ours", "qemu"):
        r = results[kind][-1]
        n, g = r["lat"]["n"], r["guest"]
        line = (f"  lat per request, {NAME[kind]:18} guest: packets "
                f"{delta(g, 'lat', ('tx_packets', 'rx_packets')) / n:.1f} irqs "
                f"{delta(g, 'lat', ('irqs',)) / n:.1f}")
        if r["host"]:
            line += f"  ours: kvm-exits {delta(r['host'], 'lat', ('exits',)) / n:.1f}"
        print(line)


def report(results, rounds):
    ratio = print_figures(results, rounds)
    print_counts(results)
    last = results["ours"][-1]
    mib = sum(last[p]["bytes"] for p in ("tx", "rx")) / MIB
    tot = lambda keys: sum(delta(last["host"], p, keys) for p in ("tx", "rx")) / mib
    print(f"result: net_frames_per_mib {tot(('tx_frames', 'rx_frames')):.1f}")
    print(f"result: net_irqs_per_mib {tot(('interrupts',)):.1f}")
    print(f"result: net_kvm_exits_per_mib {tot(('exits',)):.1f}")
    print(f"result: net_tx_over_qemu {ratio['tx']:.4f}")
    print(f"result: net_rx_over_qemu {ratio['rx']:.4f}")
    print(f"result: net_latency_over_qemu {ratio['lat']:.4f}")


def start_servers(a):
    procs = [subprocess.Popen(["iperf3", "-s", "-B", SERVER, "-p", str(IPERF_PORT)],
                              stdin=subprocess.DEVNULL, stdout=open(f"{a.work}/iperf3.log", "w"),
                              stderr=subprocess.STDOUT),
             subprocess.Popen([a.probe, "serve", SERVER, str(REQ_PORT)], stdin=subprocess.DEVNULL,
                              stderr=open(f"{a.work}/serve.log", "w"))]
    for port, p in ((IPERF_PORT, procs[0]), (REQ_PORT, procs[1])):
        wait_for(lambda: listening(port), 30, f"a server on port {port}", p)
    gate = socket.socket()
    gate.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    gate.bind((SERVER, GATE_PORT))
    gate.listen(4)
    return procs, gate


def run_once_more_after_a_hang(a, kind, n, gate):
    """A boot that stops making progress (no gate within --deadline: seen
    once with a QEMU guest in the emulated KVM host, in the latency phase)
    is said on stderr and booted once more; any other failure, or a second
    hang, fails the benchmark."""
    for tag in (n, f"{n}b"):
        run = Run(a, kind, tag)
        try:
            return run, run.run(gate)
        except Hang as e:
            if tag != n:
                raise
            log(f"run {n} {kind}: {e}; booting it once more. Its console's last lines:")
            with open(run.console, errors="replace") as f:
                for line in f.readlines()[-5:]:
                    log(f"  | {line.rstrip()}")


def main():
    ap = argparse.ArgumentParser()
    for opt in ("lan", "work", "vmm", "kernel", "initrd", "probe"):
        ap.add_argument(f"--{opt}", required=True)
    ap.add_argument("--secs", type=int, default=8)
    ap.add_argument("--reqs", type=int, default=200)
    ap.add_argument("--mem", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--deadline", type=int, default=300)  # one boot takes ~30 s
    a = ap.parse_args()
    procs, gate = start_servers(a)
    results = {"ours": [], "qemu": []}
    try:
        for n in range(1, a.rounds + 1):
            for kind in ("ours", "qemu"):
                run, r = run_once_more_after_a_hang(a, kind, n, gate)
                results[kind].append(r)
                log(f"run {n} {kind}: tx {r['tx']['bps'] / 1e6:.1f} Mbit/s, rx "
                    f"{r['rx']['bps'] / 1e6:.1f} Mbit/s (retransmits {r['tx']['retransmits']}/"
                    f"{r['rx']['retransmits']}), latency median {r['lat']['median_us']} us "
                    f"({run.secs:.0f} s)")
        report(results, a.rounds)
    except (BenchError, OSError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
        print(f"bench/net: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

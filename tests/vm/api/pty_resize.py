"""pty_resize.py CLI VM - `supermachine exec -it` in a real terminal (a pty
we hold the master of) follows a window resize into the guest's pty.

The guest shell prints `stty size` at start and again for every line typed.
We wait for the starting 24 80, resize our terminal to 50x132 (the kernel
sends the CLI SIGWINCH, the CLI posts a resize), then type empty lines until
the guest reports 50 132, type q and expect the exec's exit status 3.
Exit 0 when all of that happened, 1 with the output so far otherwise.
"""
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time

GUEST_SH = 'stty size; while read x; do stty size; [ "$x" = q ] && exit 3; done'
DEADLINE_S = 120


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def read_until(fd, seen, want, poke=None):
    end = time.monotonic() + DEADLINE_S
    while want not in seen[0]:
        if time.monotonic() > end:
            sys.exit(f"FAIL: no {want!r} from the guest; output: {seen[0]!r}")
        if poke:
            os.write(fd, poke)
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                sys.exit(f"FAIL: the CLI ended early; output: {seen[0]!r}")
            seen[0] += chunk


def main():
    cli, vm = sys.argv[1], sys.argv[2]
    pid, master = pty.fork()
    if pid == 0:
        os.execv(cli, [cli, "exec", "-it", vm, "--", "sh", "-c", GUEST_SH])
    set_size(master, 24, 80)
    seen = [b""]
    read_until(master, seen, b"24 80")
    set_size(master, 50, 132)
    read_until(master, seen, b"50 132", poke=b"\r")
    os.write(master, b"q\r")
    while True:
        try:
            if not os.read(master, 4096):
                break
        except OSError:
            break
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 3:
        sys.exit(f"FAIL: exec -it exited {code} (want 3); output: {seen[0]!r}")


main()

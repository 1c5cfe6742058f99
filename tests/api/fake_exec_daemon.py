"""fake_exec_daemon.py SOCKET CODE MESSAGE - answers every request on a
Unix socket with a 200 exec stream whose last event is the error
{"code":CODE,"message":MESSAGE}, as supermachined sends when a command
fails midway: the CLI side of those events, without a VM
(tests/api/t-habits.sh). Asked for the frames form (as the CLI asks), it
sends a start, "partial output\n" on stdout and "warn\n" on stderr
before the error, in 3-byte writes, so the client meets frames cut
anywhere; else the NDJSON form's error line alone."""
import json
import os
import socketserver
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler

FRAMES = "application/vnd.supermachine.exec-frames"


def frame(kind, payload):
    return kind + struct.pack(">I", len(payload)) + payload


def frames_body():
    error = {"code": sys.argv[2], "message": sys.argv[3]}
    return (frame(b"s", b'{"exec_id":"0123456789abcdef","pid":7}') +
            frame(b"1", b"partial ") + frame(b"2", b"warn\n") + frame(b"1", b"output\n") +
            frame(b"e", json.dumps(error).encode()))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        framed = FRAMES in self.headers.get("Accept", "")
        if framed:
            body = frames_body()
        else:
            line = {"type": "error", "error": {"code": sys.argv[2], "message": sys.argv[3]}}
            body = (json.dumps(line) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", FRAMES if framed else "application/x-ndjson")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        for i in range(0, len(body), 3 if framed else len(body)):
            self.wfile.write(body[i:i + 3] if framed else body)
            self.wfile.flush()
            time.sleep(0.005)

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.path.exists(sys.argv[1]):
    os.unlink(sys.argv[1])
Server(sys.argv[1], Handler).serve_forever()

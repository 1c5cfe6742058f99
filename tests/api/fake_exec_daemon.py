"""fake_exec_daemon.py SOCKET CODE MESSAGE - answers every request on a
Unix socket with a 200 NDJSON exec stream whose last line is the error
event {"type":"error","error":{"code":CODE,"message":MESSAGE}}, as
supermachined sends when a command cannot start: the CLI side of those
events, without a VM (tests/api/t-habits.sh)."""
import json
import os
import socketserver
import sys
from http.server import BaseHTTPRequestHandler


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        lines = [{"type": "error", "error": {"code": sys.argv[2], "message": sys.argv[3]}}]
        body = "".join(json.dumps(l) + "\n" for l in lines).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.path.exists(sys.argv[1]):
    os.unlink(sys.argv[1])
Server(sys.argv[1], Handler).serve_forever()

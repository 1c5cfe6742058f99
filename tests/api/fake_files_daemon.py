"""fake_files_daemon.py SOCKET DIR - a stand-in for supermachined's files
route, so the client's folder copies can be tested without a VM.

GET /v1/vms/ID/files?path=P answers DIR/serve.tar as application/x-tar
(what a VM folder looks like); PUT stores the body in DIR/put.tar and its
Content-Type in DIR/put.ctype. Anything else is a 404 in the daemon's
error format.
"""
import http.server
import json
import os
import socketserver
import sys

sock, folder = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass

    def answer(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if "/files?" not in self.path:
            err = {"error": {"code": "not_found", "message": "fake: " + self.path}}
            return self.answer(404, "application/json", json.dumps(err).encode())
        with open(os.path.join(folder, "serve.tar"), "rb") as f:
            self.answer(200, "application/x-tar", f.read())

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(os.path.join(folder, "put.tar"), "wb") as f:
            f.write(body)
        with open(os.path.join(folder, "put.ctype"), "w") as f:
            f.write(self.headers.get("Content-Type", ""))
        self.answer(200, "application/json", json.dumps({"size": len(body)}).encode())


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


Server(sock, Handler).serve_forever()

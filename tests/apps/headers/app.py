"""Answers with the request's forwarding headers and the size of a POSTed body."""

import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FORWARDED = ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Request-Start")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        lines = [f"{name}: {self.headers.get(name, '-')}" for name in FORWARDED]
        self.reply(f"{os.environ.get('GREETING', 'headers')}\n" + "\n".join(lines) + "\n")

    def do_POST(self):
        size = len(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        self.reply(f"received {size} bytes\n")

    def reply(self, text):
        body = text.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()

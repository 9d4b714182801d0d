"""A web process that says which dyno answered, with a /health page a test can break."""

import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            status = int(os.environ.get("HEALTH_STATUS", "200"))
            self.reply(status, "ok" if status == 200 else "broken")
        elif self.path == "/predeploy":
            marker = Path("/app/predeploy.txt")
            self.reply(200, marker.read_text() if marker.exists() else "none")
        else:
            self.reply(200, f"{os.environ.get('GREETING', 'hello')} from {os.environ['DYNO']}")

    def reply(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()

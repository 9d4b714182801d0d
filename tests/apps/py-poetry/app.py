"""A test app locked with Poetry: answers with the versions installed from poetry.lock."""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import metadata

GREETING = "poetry.lock"


def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{GREETING}: itsdangerous {version('itsdangerous')}, "
        body += f"dev iniconfig {version('iniconfig')}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())


HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()

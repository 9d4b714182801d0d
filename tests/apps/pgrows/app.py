"""A test app with a database: GET /write/VALUE stores a row, GET /read answers every row
(comma-separated, oldest first), both through $DATABASE_URL."""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer

import psycopg


def rows(write=None) -> str:
    with psycopg.connect(os.environ["DATABASE_URL"]) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS rows (id serial PRIMARY KEY, value text)")
        if write is not None:
            connection.execute("INSERT INTO rows (value) VALUES (%s)", (write,))
        return ",".join(value for (value,) in connection.execute("SELECT value FROM rows ORDER BY id"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        parts = self.path.strip("/").split("/")
        try:
            body = rows(parts[1] if parts[0] == "write" else None).encode()
            status = 200
        except (psycopg.Error, KeyError) as error:
            body, status = f"database error: {error}".encode(), 500
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()

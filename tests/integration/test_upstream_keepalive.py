"""nginx keeps its connections to an app's web container open between requests (the upstream's
`keepalive`, HTTP/1.1 and the client's Connection header): measured with wrk, a gunicorn app with
threads (a server that keeps connections) answers through nginx about twice the requests per
second it answers when nginx opens a connection per request. Checked on the platform's real nginx
with the site minidokku writes, in front of a local HTTP/1.1 server counting its connections."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from minidokku.routing import nginx

APP = "keepalive"
HOST = "keepalive.example.test"
REQUESTS = 20


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps the connection unless told to close it

    def do_GET(self) -> None:
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class CountingServer(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0

    def get_request(self):
        accepted = super().get_request()
        self.connections += 1
        return accepted


def test_nginx_reuses_its_connections_to_the_web_container(platform, tmp_path):
    server = CountingServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = nginx.Site(
        app=APP,
        domains=[HOST],
        ports=[nginx.PortMap("http", platform.http_port, 5000)],
        upstreams={5000: [("127.0.0.1", server.server_address[1])]},
        log_dir=str(tmp_path),
    )
    config = platform.root / APP / "nginx.conf"
    config.parent.mkdir()
    config.write_text(nginx.render(site))
    try:
        workers = platform.nginx_workers()
        platform.dokku("nginx:reload")
        platform.wait_for_reload(workers)
        answers = [platform.get(HOST) for _ in range(REQUESTS)]  # a new client connection each
        assert answers == [(200, "hello")] * REQUESTS
        assert server.connections == 1  # nginx's one worker kept its first connection
        closing = requests.get(
            f"http://127.0.0.1:{platform.http_port}/", headers={"Host": HOST, "Connection": "close"}, timeout=10
        )
        assert closing.status_code == 200
    finally:
        config.unlink()
        config.parent.rmdir()
        platform.dokku("nginx:reload")
        server.shutdown()

"""The checker of an app's own nginx text: nginx's tokenizer, then an allowlist of directives."""

import shutil
import subprocess

import pytest

from minidokku.errors import ValidationError
from minidokku.routing import nginx, nginx_check
from minidokku.routing.nginx_check import Directive

APP = "catmeow"
ALLOWED = nginx_check.Allowed(
    app=APP,
    listen={80: frozenset(), 443: frozenset({"ssl", "http2"})},
    server_names=frozenset({"catmeow.example.test", "www.catmeow.test"}),
    upstreams=frozenset({"minidokku-catmeow-5000"}),
    access_log="/var/log/nginx/catmeow-access.log",
    error_log="/var/log/nginx/catmeow-error.log",
    tls_files=frozenset({"/home/dokku/catmeow/tls/server.crt", "/home/dokku/catmeow/tls/server.key"}),
)

GOOD = """# a template an app may use
server {
  listen 80;
  listen 443 ssl http2;
  server_name catmeow.example.test www.catmeow.test;
  access_log /var/log/nginx/catmeow-access.log combined buffer=32k;
  error_log /var/log/nginx/catmeow-error.log warn;
  ssl_certificate /home/dokku/catmeow/tls/server.crt;
  ssl_certificate_key /home/dokku/catmeow/tls/server.key;
  client_max_body_size 512k;
  gzip on;
  gzip_types text/plain application/json;
  add_header X-Frame-Options "SAMEORIGIN" always;
  if ($http_x_forwarded_proto = "http") { return 301 https://$host$request_uri; }
  location = /health { return 200 'ok'; }
  location ~* \\.(png|jpg)$ { expires 7d; proxy_pass http://minidokku-catmeow-5000; }
  location / {
    rewrite ^/old/(.*)$ /new/$1 permanent;
    proxy_pass http://minidokku-catmeow-5000;
    proxy_set_header Host $http_host;
    proxy_set_header X-Request-Id "${request_id}";
    proxy_read_timeout 120s;
    proxy_buffers 16 8k;
    limit_except GET POST { deny all; }
  }
}
"""


def words(text):
    return [(d.name, d.args) for d in nginx_check.parse(text)]


# -- reading nginx's syntax ----------------------------------------------------------------------
def test_words_quotes_and_escapes_read_as_nginx_reads_them():
    text = 'a "b c" \'d\\\'e\' f\\;g "t\\tn\\\\" ${host}x}y;'
    assert words(text) == [("a", ("b c", "d'e", "f\\;g", "t\tn\\", "${host}x}y"))]


def test_a_quoted_directive_name_is_the_directive():
    assert words('"include" /etc/shadow;') == [("include", ("/etc/shadow",))]


def test_comments_run_to_the_end_of_the_line_but_not_inside_a_word():
    assert words("# all this\nx 1;# and this\ny a#b;") == [("x", ("1",)), ("y", ("a#b",))]


def test_blocks_nest_and_keep_their_lines():
    (server,) = nginx_check.parse("server {\n  listen 80;\n  location / {\n    return 204;\n  }\n}\n")
    assert server == Directive(
        "server",
        (),
        1,
        (Directive("listen", ("80",), 2), Directive("location", ("/",), 3, (Directive("return", ("204",), 4),))),
    )


def test_a_parenthesis_after_a_quote_starts_a_new_word():
    assert words('if ($a = "b") { }') == [("if", ("($a", "=", "b", ")"))]


@pytest.mark.parametrize(
    "text, message",
    [
        ('a "b"c;', "line 1: unexpected 'c' after a quoted string"),
        ("server {\n  listen 80;\n", 'line 1: "server" is never closed'),
        ("a }", 'line 1: unexpected "}"'),
        ("}\n", 'line 1: unexpected "}"'),
        ("a b", 'unexpected end of file, expecting ";" or "}"'),
        ("a 'b;", 'unexpected end of file, expecting ";" or "}"'),
        ("x;\n;", "line 2: unexpected ';'"),
        ("{ }", "unexpected '{'"),
        ("a b\x00;", "line 1: a control character (0x00)"),
    ],
)
def test_what_nginx_cannot_read_is_refused_naming_the_line(text, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        nginx_check.parse(text)


def test_listen_ports_are_found_at_any_depth():
    assert nginx_check.listen_ports(nginx_check.parse(GOOD)) == {80, 443}


# -- what an app may say ------------------------------------------------------------------------
def test_a_template_of_server_blocks_proxying_to_its_own_upstream_passes():
    assert len(nginx_check.check(GOOD, ALLOWED)) == 1


def server(*lines: str) -> str:
    return (
        "server {\n  listen 80;\n  server_name catmeow.example.test;\n"
        + "".join(f"  {line}\n" for line in lines)
        + "}\n"
    )


@pytest.mark.parametrize(
    "line, reason",
    [
        ("include /etc/shadow;", "names a file or a path on the host"),
        ('"include" /etc/nginx/*.conf;', "names a file or a path on the host"),
        ("access_log /etc/cron.d/x;", "catmeow's access log is /var/log/nginx/catmeow-access.log"),
        ("access_log syslog:server=10.0.0.1;", "catmeow's access log is"),
        ("access_log /var/log/nginx/catmeow-access.log combined if=$x;", "without variables"),
        ("error_log /root/.ssh/authorized_keys;", "catmeow's error log is"),
        ("ssl_certificate /home/dokku/victim/tls/server.crt;", "catmeow's certificate files are"),
        ("ssl_certificate_key /etc/ssl/private/host.key;", "catmeow's certificate files are"),
        ("ssl_dhparam /etc/shadow;", "names a file"),
        ("root /;", "names a file"),
        ("location / { alias /etc/; }", "names a file"),
        ("client_body_temp_path /etc/cron.d;", "names a file"),
        ("proxy_temp_path /etc;", "names a file"),
        ("auth_basic_user_file /etc/shadow;", "names a file"),
        ("location / { try_files $uri =404; }", "names a file"),
        ("listen 22;", "catmeow listens only on its own ports (80, 443), without an address"),
        ("listen 127.0.0.1:80;", "listens only on its own ports"),
        ("listen 80 default_server;", "port 80 takes no parameter"),
        ("listen 80 ssl;", "port 80 takes no parameter"),
        ("listen 443;", "port 443 takes ssl http2"),
        ("listen 443 ssl reuseport;", "port 443 takes ssl http2"),
        ("server_name victim.example.test;", "catmeow's names are catmeow.example.test www.catmeow.test"),
        ("server_name ~^(.+)$;", "catmeow's names are"),
        ("location / { proxy_pass http://minidokku-victim-5000; }", "proxies only to its own containers"),
        ("location / { proxy_pass http://127.0.0.1:22; }", "proxies only to its own containers"),
        ("location / { proxy_pass http://minidokku-catmeow-5000$request_uri; }", "its own containers"),
        ("location / { proxy_pass http://$host; }", "its own containers"),
        ("location / { proxy_pass unix:/var/run/docker.sock; }", "its own containers"),
        ("location / { fastcgi_pass 127.0.0.1:9000; }", "reaches other hosts"),
        ("resolver 8.8.8.8;", "reaches other hosts"),
        ("location / { content_by_lua 'os.execute(\"id\")'; }", "runs code"),
        ("perl_set $x 'sub { }';", "runs code"),
        ("js_content main.handler;", "runs code"),
        ("upstream evil { server 127.0.0.1:22; }", "not a block a template may open"),
        ("if (-f /etc/shadow) { return 200; }", "file tests look at the host's files"),
        ("if (!-e $request_filename) { return 404; }", "file tests"),
        ("proxy_buffers 100000 8k;", "buffers are limited to 64 of 8m"),
        ("client_max_body_size 0;", "catmeow takes request bodies up to 1m (an admin's nginx:set)"),
        ("location /up { client_max_body_size 2m; }", "takes request bodies up to 1m"),
        ("client_body_buffer_size 1g;", "buffers are limited"),
        ("server { listen 80; }", "not allowed in server"),
        ("location / { listen 80; }", "not allowed in location"),
        ("proxy_pass http://minidokku-catmeow-5000;", "not allowed in server"),
        ("location /;", "it must open a block"),
        ("load_module /tmp/evil.so;", "names a file"),
        ("bogus_directive on;", "not a directive a template may use"),
        ("listen \uff18\uff10;", "listens only on its own ports"),  # fullwidth 80: int() reads it, nginx not
        ("proxy_buffers 64 8m;", "a directive's buffers add up to 8m at most"),
        ("large_client_header_buffers 64 8m;", "add up to 8m at most"),
        ("proxy_max_temp_file_size 100000g;", "temporary files are limited to 1024m"),
        ("keepalive_timeout 10000d;", "timeouts are limited to 60 minutes"),
        ("keepalive_timeout 65 2h;", "timeouts are limited"),
        ("location / { proxy_read_timeout 1h1s; }", "timeouts are limited"),
        ("client_body_timeout 3601;", "timeouts are limited"),
    ],
)
def test_what_reaches_the_host_ports_names_or_other_apps_is_refused_naming_the_line(line, reason):
    with pytest.raises(ValidationError) as refused:
        nginx_check.check(server(line), ALLOWED)
    message = str(refused.value)
    assert message.startswith("nginx.conf.template line 4: "), message
    assert reason in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "text",
    [
        "upstream minidokku-catmeow-5000 { server 10.0.0.5:5432; }\n",
        "include /etc/nginx/conf.d/*.conf;\n",
        "map $host $x { default 1; }\n",
        "log_format evil '$request';\n",
        "proxy_cache_path /tmp/x keys_zone=z:1m;\n",
    ],
)
def test_nothing_but_server_blocks_at_the_top_level(text):
    with pytest.raises(ValidationError, match="nginx.conf.template line 1: "):
        nginx_check.check(text, ALLOWED)


def test_a_server_block_without_listen_is_refused():
    """nginx would put it on port 80, a port the app may not have."""
    text = "server {\n  server_name catmeow.example.test;\n}\n"
    with pytest.raises(ValidationError, match="names its ports with listen"):
        nginx_check.check(text, ALLOWED)


def test_timeouts_up_to_an_hour_pass():
    nginx_check.check(server("keepalive_timeout 75s 60;", "location / { proxy_read_timeout 1h; }"), ALLOWED)


def test_a_catch_all_name_only_for_an_app_without_domains():
    catch_all = nginx_check.Allowed(**{**ALLOWED.__dict__, "server_names": frozenset({"_"})})
    text = "server {\n  listen 80;\n  server_name _;\n}\n"
    assert nginx_check.check(text, catch_all)
    with pytest.raises(ValidationError, match="catmeow's names are"):
        nginx_check.check(text, ALLOWED)


def test_request_bodies_up_to_what_the_admin_allowed():
    text = server("client_max_body_size 10g;")
    with pytest.raises(ValidationError, match="up to 1m"):
        nginx_check.check(text, ALLOWED)
    assert nginx_check.check(text, nginx_check.Allowed(**{**ALLOWED.__dict__, "max_body_size": "0"}))
    assert nginx_check.check(
        server("client_max_body_size 10m;"), nginx_check.Allowed(**{**ALLOWED.__dict__, "max_body_size": "10M"})
    )


def test_certificate_directives_without_a_certificate_are_refused():
    without = nginx_check.Allowed(**{**ALLOWED.__dict__, "tls_files": frozenset()})
    with pytest.raises(ValidationError, match=r"certificate files are none \(certs:add gives it one\)"):
        nginx_check.check(server("ssl_certificate /home/dokku/catmeow/tls/server.crt;"), without)


# -- through render ------------------------------------------------------------------------------
def make_site(tmp_path, template, upstreams=None):
    return nginx.Site(
        app=APP,
        domains=["catmeow.example.test"],
        ports=[nginx.PortMap("http", 8080, 5000)],
        upstreams={5000: [("127.0.0.1", 32768)]} if upstreams is None else upstreams,
        log_dir=str(tmp_path),
        template=template,
    )


TEMPLATE = (
    "server {\n  listen {{ LISTEN_PORT }};\n  server_name {{ SERVER_NAMES }};\n"
    "  access_log {{ ACCESS_LOG }};\n  error_log {{ ERROR_LOG }};\n"
    "  location / {\n    add_header X-App {{ APP }};\n    proxy_pass http://{{ UPSTREAM }};\n  }\n}\n"
)


def test_the_rendered_template_is_checked_not_its_text(tmp_path):
    """A variable cannot hide a directive: what nginx would read is what is checked."""
    config = nginx.render(make_site(tmp_path, TEMPLATE))
    assert "proxy_pass http://minidokku-catmeow-5000;" in config
    evil = TEMPLATE.replace("listen {{ LISTEN_PORT }};", "listen {{ LISTEN_PORT }}1;")
    with pytest.raises(ValidationError, match="line 2: 'listen 80801' is refused"):
        nginx.render(make_site(tmp_path, evil))


def test_a_template_whose_upstream_has_no_container_gives_way_to_ours(tmp_path):
    config = nginx.render(make_site(tmp_path, TEMPLATE, upstreams={5000: []}))
    assert "X-App" not in config
    assert "return 503;" in config


def test_a_checked_template_passes_nginx_check(tmp_path):
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        pytest.skip("nginx is not installed")
    (tmp_path / "site.conf").write_text(nginx.render(make_site(tmp_path, TEMPLATE)))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{\n  include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr

"""url, urls, domains:reset, certs:show and nginx:access-logs|error-logs through the command line,
without Docker (apps never deployed are not rerouted)."""

import socket

import pytest
from click.testing import CliRunner

from minidokku.access import rules
from minidokku.cli import cli
from minidokku.context import Context
from minidokku.routing import nginx_logs
from minidokku.state import Store


@pytest.fixture
def dokku(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    monkeypatch.setenv("MINIDOKKU_NGINX_LOG_DIR", str(tmp_path / "nginx-logs"))
    (tmp_path / "nginx-logs").mkdir()
    monkeypatch.setattr(Context, "engine", property(lambda ctx: pytest.fail("the Docker engine was asked")))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def as_user(tmp_path, monkeypatch):
    """Runs what follows as user key eve, granted the app "mine"."""
    store = Store(tmp_path)

    def become():
        rules.set_role(store, "eve", rules.USER)
        rules.grant(store, "mine", "eve")
        monkeypatch.setenv("NAME", "eve")

    return become


def test_urls_lists_each_domain_and_url_the_first(dokku):
    dokku("apps:create", "mine")
    dokku("domains:set", "mine", "cats.example.com", "www.cats.example.com")
    assert dokku("urls", "mine").output == "http://cats.example.com\nhttp://www.cats.example.com\n"
    assert dokku("url", "mine").output == "http://cats.example.com\n"


def test_with_a_certificate_the_https_urls_come_first(dokku):
    dokku("apps:create", "mine")
    dokku("domains:set", "mine", "cats.example.com")
    assert dokku("certs:generate", "mine", "cats.example.com").exit_code == 0
    assert dokku("urls", "mine").output == "https://cats.example.com\nhttp://cats.example.com\n"
    assert dokku("url", "mine").output == "https://cats.example.com\n"


def test_a_port_of_its_own_is_in_the_url(dokku):
    dokku("apps:create", "mine")
    dokku("ports:set", "mine", "http:8080:5000")
    assert dokku("url", "mine").output == f"http://{socket.getfqdn()}:8080\n"


def test_url_of_an_app_that_is_not_there_is_one_line(dokku):
    result = dokku("url", "ghost")
    assert result.exit_code == 20
    assert result.output == " !     App ghost does not exist\n"


def test_domains_reset_goes_back_to_the_global_domains_and_enables_them(dokku, tmp_path):
    dokku("domains:set-global", "example.com")
    dokku("apps:create", "mine")
    dokku("domains:set", "mine", "cats.io")
    dokku("domains:disable", "mine")
    result = dokku("domains:reset", "mine")
    assert result.exit_code == 0, result.output
    assert "Reset domains for mine" in result.output
    assert dokku("urls", "mine").output == "http://mine.example.com\n"
    assert not (tmp_path / "mine" / "VHOST").exists()


def test_certs_show_prints_the_certificate_and_to_an_admin_the_key(dokku, tmp_path):
    dokku("apps:create", "mine")
    dokku("certs:generate", "mine", "cats.example.com")
    crt = dokku("certs:show", "mine", "crt")
    key = dokku("certs:show", "mine", "key")
    assert crt.output == (tmp_path / "mine" / "tls" / "server.crt").read_text()
    assert crt.output.startswith("-----BEGIN CERTIFICATE-----")
    assert key.output == (tmp_path / "mine" / "tls" / "server.key").read_text()
    assert "PRIVATE KEY-----" in key.output


def test_certs_show_gives_a_user_key_the_certificate_never_the_key(dokku, as_user):
    dokku("apps:create", "mine")
    dokku("certs:generate", "mine", "cats.example.com")
    as_user()
    assert dokku("certs:show", "mine", "crt").output.startswith("-----BEGIN CERTIFICATE-----")
    result = dokku("certs:show", "mine", "key")
    assert result.exit_code == 1
    assert result.output == " !     certs:show mine key is for admin keys only; eve is a user key\n"


def test_certs_show_without_a_certificate_or_with_a_bad_part(dokku):
    dokku("apps:create", "mine")
    result = dokku("certs:show", "mine", "crt")
    assert result.exit_code == 1
    assert result.output == " !     mine has no certificate (certs:add or certs:generate installs one)\n"
    assert dokku("certs:show", "mine", "pem").exit_code != 0


def write_log(tmp_path, name: str, count: int):
    path = tmp_path / "nginx-logs" / name
    path.write_text("".join(f"line {n}\n" for n in range(count)))
    return path


@pytest.mark.parametrize("kind", ["access", "error"])
def test_logs_print_the_last_twenty_lines_of_the_app_s_own_file(dokku, tmp_path, kind):
    dokku("apps:create", "mine")
    write_log(tmp_path, f"mine-{kind}.log", 30)
    result = dokku(f"nginx:{kind}-logs", "mine")
    assert result.exit_code == 0
    assert result.output == "".join(f"line {n}\n" for n in range(10, 30))


def test_logs_of_an_app_without_a_log_yet_or_with_logging_off(dokku, tmp_path):
    dokku("apps:create", "mine")
    result = dokku("nginx:access-logs", "mine")
    assert result.output == f" !     no nginx log at {tmp_path}/nginx-logs/mine-access.log yet\n"
    dokku("nginx:set", "mine", "access-log-path", "off")
    result = dokku("nginx:access-logs", "mine")
    assert result.exit_code == 1
    assert result.output == " !     mine's nginx access log is off (nginx:set mine access-log-path)\n"


def test_a_path_an_admin_set_is_read_by_admins_only(dokku, tmp_path, as_user):
    dokku("apps:create", "mine")
    write_log(tmp_path, "other-access.log", 3)
    dokku("nginx:set", "mine", "access-log-path", f"{tmp_path}/nginx-logs/other-access.log")
    assert dokku("nginx:access-logs", "mine").output == "line 0\nline 1\nline 2\n"
    as_user()
    result = dokku("nginx:access-logs", "mine")
    assert result.exit_code == 1
    assert result.output == (" !     mine's nginx access log is at a path an admin set: only admin keys read it\n")


def test_a_user_key_never_reads_through_a_link_in_the_app_s_place(dokku, tmp_path, as_user):
    dokku("apps:create", "mine")
    secret = write_log(tmp_path, "other-error.log", 2)
    (tmp_path / "nginx-logs" / "mine-error.log").symlink_to(secret)
    as_user()
    result = dokku("nginx:error-logs", "mine")
    assert result.exit_code == 1
    assert result.output.startswith(" !     cannot read ")
    assert "line" not in result.output


def test_following_reads_what_is_added_and_a_rotated_file_from_its_start(tmp_path, monkeypatch):
    monkeypatch.setattr(nginx_logs, "POLL_SECONDS", 0)
    path = tmp_path / "app-access.log"
    path.write_bytes(b"old\n")
    last, position = nginx_logs.last_lines(path, by_user_key=True)
    assert last == b"old\n"
    followed = nginx_logs.follow(path, True, position)
    with path.open("ab") as file:
        file.write(b"new\n")
    assert next(followed) == b"new\n"
    path.rename(tmp_path / "app-access.log.1")
    path.write_bytes(b"rotated\n")
    assert next(followed) == b"rotated\n"


def test_proxy_clear_config_removes_the_app_s_site_and_says_how_it_comes_back(dokku, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDOKKU_NGINX_COMMAND", "true")
    dokku("apps:create", "mine")
    dokku("apps:create", "other")
    (tmp_path / "mine" / "nginx.conf").write_text("server { listen 8080; }\n")
    (tmp_path / "other" / "nginx.conf").write_text("server { listen 8081; }\n")

    result = dokku("proxy:clear-config", "mine")

    assert result.exit_code == 0, result.output
    assert "Cleared the nginx config of mine: it is not served until `dokku proxy:build-config mine`" in result.output
    assert not (tmp_path / "mine" / "nginx.conf").exists()
    assert (tmp_path / "other" / "nginx.conf").read_text() == "server { listen 8081; }\n"
    again = dokku("proxy:clear-config", "mine")
    assert again.exit_code == 0
    assert "mine has no nginx config to clear" in again.output


def test_proxy_clear_config_all_clears_every_app_and_without_an_app_says_dokkus_line(dokku, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDOKKU_NGINX_COMMAND", "true")
    for app in ("mine", "other"):
        dokku("apps:create", app)
        (tmp_path / app / "nginx.conf").write_text("server { listen 8080; }\n")

    missing = dokku("proxy:clear-config")
    assert (missing.exit_code, missing.output) == (1, " !     Please specify an app to run the command on\n")
    assert (tmp_path / "mine" / "nginx.conf").exists()

    result = dokku("proxy:clear-config", "--all")
    assert result.exit_code == 0, result.output
    assert result.output.count("-----> Cleared the nginx config of ") == 2
    assert not list(tmp_path.glob("*/nginx.conf"))

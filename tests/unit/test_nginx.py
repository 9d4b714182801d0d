import json
import re
import shutil
import subprocess

import pytest

from minidokku.errors import ProxyError
from minidokku.routing import nginx

# nginx -t opens the site's logs; the tests point them at their own folder (log_dir).
APP = "catmeow"
HTTP = nginx.PortMap("http", 8080, 5000)


def make_site(tmp_path=None, domains=("catmeow.example.com", "*.cat.example.org"), ports=(HTTP,), **changes):
    fields = dict(
        app=APP,
        domains=list(domains),
        ports=list(ports),
        upstreams={5000: [("127.0.0.1", 32768), ("127.0.0.1", 32769)]},
        log_dir=str(tmp_path or "/tmp"),
    )
    fields.update(changes)
    return nginx.Site(**fields)


SITE = make_site()


def test_server_name_lists_the_domains():
    assert "  server_name catmeow.example.com *.cat.example.org;\n" in nginx.render(SITE)


def test_without_domains_the_server_name_is_the_catch_all():
    config = nginx.render(make_site(domains=(), ports=(nginx.PortMap("http", 10001, 5000),)))
    assert "  server_name _;\n" in config
    assert "  listen 10001;\n" in config


def test_one_upstream_server_per_container():
    config = nginx.render(SITE)
    assert "upstream minidokku-catmeow-5000 {" in config
    assert "proxy_pass http://minidokku-catmeow-5000;" in config
    assert re.findall(r"^\s*server (\S+);$", config, re.MULTILINE) == ["127.0.0.1:32768", "127.0.0.1:32769"]


def test_backup_servers_follow_the_containers_and_only_where_some_serve():
    config = nginx.render(make_site(backups={5000: [("127.0.0.1", 32770)], 6000: [("127.0.0.1", 32771)]}))
    assert re.findall(r"^\s*server (.+);$", config, re.MULTILINE) == [
        "127.0.0.1:32768",
        "127.0.0.1:32769",
        "127.0.0.1:32770 backup",
    ]


def test_while_backups_wait_a_connection_not_made_within_a_second_goes_to_them():
    """A new container that dies in its uptime window leaves an address nothing answers, not even
    with a refusal: nginx would wait its whole connect timeout there while the old ones are ready."""
    settings = {"proxy-connect-timeout": "90s"}
    switching = nginx.render(make_site(settings=settings, backups={5000: [("127.0.0.1", 32770)]}))
    assert "    proxy_connect_timeout 1s;\n" in switching
    assert "    proxy_connect_timeout 90s;\n" in nginx.render(make_site(settings=settings))
    assert "    proxy_connect_timeout 60s;\n" in nginx.render(SITE)


def test_listen_port():
    assert "  listen 8080;\n" in nginx.render(SITE)


@pytest.mark.parametrize(
    "header",
    [
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Port $server_port;",
        "proxy_set_header X-Request-Start $msec;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Host $http_host;",
    ],
)
def test_proxy_headers_are_set(header):
    assert header in nginx.render(SITE)


def nginx_test(tmp_path, site_config: str) -> subprocess.CompletedProcess:
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        pytest.skip("nginx is not installed")
    (tmp_path / "site.conf").write_text(site_config)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{\n  include {tmp_path}/site.conf;\n}}\n"
    )
    return subprocess.run(
        [binary, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )


def test_rendered_config_passes_nginx_check(tmp_path):
    result = nginx_test(tmp_path, nginx.render(make_site(tmp_path)))
    assert result.returncode == 0, result.stderr


def test_rendered_catch_all_config_passes_nginx_check(tmp_path):
    site = make_site(tmp_path, domains=(), ports=(nginx.PortMap("http", 10001, 5000),))
    result = nginx_test(tmp_path, nginx.render(site))
    assert result.returncode == 0, result.stderr


def test_site_without_web_containers_still_passes_nginx_check(tmp_path):
    site = make_site(tmp_path, upstreams={})
    config = nginx.render(site)
    assert "return 503;" in config
    result = nginx_test(tmp_path, config)
    assert result.returncode == 0, result.stderr


# $1 is the -q prefix the Nginx command carries; $2 is what minidokku asks for.
FAKE_NGINX = """#!/bin/sh
echo "$*" >> "{dir}/calls.log"
if [ "$2" = "-t" ]; then
  for file in {root}/*/nginx.conf; do
    if grep -q bogus "$file" 2>/dev/null; then
      echo "nginx: [emerg] unknown directive \\"bogus\\" in $file:1" >&2
      echo 'nginx: configuration file /etc/nginx/nginx.conf test failed' >&2
      exit 1
    fi
  done
  if [ -e "{dir}/host-broken" ]; then
    echo 'nginx: [emerg] unexpected "}}" in /etc/nginx/nginx.conf:9' >&2
    exit 1
  fi
fi
if [ "$2" = "-s" ] && [ -e "{dir}/no-reload" ]; then
  echo 'nginx: [error] invalid PID number "" in "/run/nginx.pid"' >&2
  exit 1
fi
exit 0
"""


@pytest.fixture
def fake(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    script = bin_dir / "nginx"
    script.write_text(FAKE_NGINX.format(dir=bin_dir, root=root))
    script.chmod(0o755)
    return nginx.Nginx([str(script), "-q"], root), bin_dir


def calls(bin_dir) -> list[str]:
    log = bin_dir / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_install_writes_the_config_then_checks_and_reloads(fake):
    server, bin_dir = fake
    assert server.install(APP, "config v1\n") == []
    assert (server.root / APP / "nginx.conf").read_text() == "config v1\n"
    assert calls(bin_dir) == ["-q -t", "-q -s reload"]
    assert not (server.root / nginx.JOURNAL).exists()


def test_installing_identical_content_runs_nginx_once(fake):
    server, bin_dir = fake
    server.install(APP, "config v1\n")
    server.install(APP, "config v1\n")
    assert calls(bin_dir) == ["-q -t", "-q -s reload"]


def test_rejected_config_restores_the_previous_one(fake):
    server, bin_dir = fake
    server.install(APP, "config v1\n")
    with pytest.raises(ProxyError, match='rejected the new configuration.*unknown directive "bogus"'):
        server.install(APP, "config v2 bogus\n")
    assert (server.root / APP / "nginx.conf").read_text() == "config v1\n"
    assert calls(bin_dir) == ["-q -t", "-q -s reload", "-q -t", "-q -t"], "the second -t: the previous alone"
    assert [p.name for p in (server.root / APP).iterdir()] == ["nginx.conf"]
    assert not (server.root / nginx.JOURNAL).exists()


def test_rejected_first_config_leaves_no_file(fake):
    server, bin_dir = fake
    with pytest.raises(ProxyError, match=r"\[emerg\]"):
        server.install(APP, "config v1 bogus\n")
    assert not (server.root / APP / "nginx.conf").exists()
    assert "-q -s reload" not in calls(bin_dir)


def test_another_apps_config_that_broke_after_its_install_is_set_aside_not_blocking_this_one(fake):
    server, bin_dir = fake
    server.install("other", "config of other\n")
    (server.root / "other" / "nginx.conf").write_text("config of other, bogus now\n")  # say its cert went

    assert server.install(APP, "config v1\n") == ["other"]

    assert (server.root / APP / "nginx.conf").read_text() == "config v1\n"
    assert not (server.root / "other" / "nginx.conf").exists()
    assert (server.root / "other" / nginx.REJECTED_NAME).read_text() == "config of other, bogus now\n"
    assert calls(bin_dir)[-1] == "-q -s reload"


def test_an_apps_own_broken_config_is_replaced_by_its_new_one(fake):
    server, bin_dir = fake
    server.install(APP, "config v1\n")
    (server.root / APP / "nginx.conf").write_text("config v1, bogus now\n")

    assert server.install(APP, "config v2\n") == []
    assert (server.root / APP / "nginx.conf").read_text() == "config v2\n"


def test_a_host_config_nginx_refuses_changes_nothing(fake):
    server, bin_dir = fake
    server.install(APP, "config v1\n")
    (bin_dir / "host-broken").touch()
    with pytest.raises(ProxyError, match="fails without this change too, so nothing changed.*nginx.conf:9"):
        server.install(APP, "config v2\n")
    assert (server.root / APP / "nginx.conf").read_text() == "config v1\n"
    assert calls(bin_dir)[-1] == "-q -t"


def test_a_change_that_died_before_its_check_is_undone_by_the_next_one(fake):
    server, bin_dir = fake
    server.install(APP, "config v1\n")
    # what a SIGKILL during `nginx -t` leaves: the journal and the unchecked file
    journal = {"path": str(server.config_path(APP)), "previous": "config v1\n"}
    (server.root / nginx.JOURNAL).write_text(json.dumps(journal))
    server.config_path(APP).write_text("unchecked, bogus\n")

    server.install("other", "config of other\n")

    assert server.config_path(APP).read_text() == "config v1\n"
    assert server.config_path("other").read_text() == "config of other\n"
    assert not (server.root / nginx.JOURNAL).exists()


def test_a_journal_naming_a_file_outside_the_configs_is_not_followed(fake, tmp_path):
    server, _bin_dir = fake
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("kept\n")
    (server.root / nginx.JOURNAL).write_text(json.dumps({"path": str(outside), "previous": None}))
    server.install(APP, "config v1\n")
    assert outside.read_text() == "kept\n"


def test_failed_reload_is_reported_with_nginx_message(fake):
    server, bin_dir = fake
    (bin_dir / "no-reload").touch()
    with pytest.raises(ProxyError, match="could not be reloaded.*invalid PID"):
        server.install(APP, "config v1\n")


def test_remove_deletes_the_config_and_reloads(fake):
    server, bin_dir = fake
    server.install(APP, "config v1\n")
    server.remove(APP)
    assert not (server.root / APP / "nginx.conf").exists()
    assert calls(bin_dir)[-2:] == ["-q -t", "-q -s reload"]


def test_remove_rejected_by_nginx_puts_the_config_back(fake):
    server, bin_dir = fake
    server.install(APP, "config v1\n")
    (bin_dir / "host-broken").touch()
    with pytest.raises(ProxyError):
        server.remove(APP)
    assert (server.root / APP / "nginx.conf").read_text() == "config v1\n"


def test_remove_of_an_app_without_config_runs_nothing(fake):
    server, bin_dir = fake
    server.remove(APP)
    assert calls(bin_dir) == []


def test_listened_ports_are_read_from_the_installed_configs(fake):
    server, _bin_dir = fake
    server.install(APP, nginx.render(SITE))
    server.install("other", "server { listen 10001; listen [::]:10002 ssl; }\n")
    (server.root / "broken").mkdir()
    (server.root / "broken" / "nginx.conf").write_text("server { listen 10003\n")
    assert server.listened_ports() == {8080, 10001, 10002}


def killed_before_the_reload(server, app: str, unloaded: str, loaded) -> None:
    """What an install killed after writing app's config, before nginx reloaded, leaves."""
    (server.root / app).mkdir(exist_ok=True)
    journal = {"path": str(server.config_path(app)), "previous": loaded}
    (server.root / nginx.JOURNAL).write_text(json.dumps(journal))
    (server.root / app / "nginx.conf").write_text(unloaded)


def test_a_config_nginx_never_loaded_goes_back_to_the_loaded_one_and_nginx_reloads(fake):
    """Else installing the loaded config again would find it identical and skip the reload."""
    server, bin_dir = fake
    server.install(APP, "config v1\n")
    killed_before_the_reload(server, APP, unloaded="config v2\n", loaded="config v1\n")
    server.install(APP, "config v1\n")
    assert (server.root / APP / "nginx.conf").read_text() == "config v1\n"
    assert calls(bin_dir)[2:] == ["-q -t", "-q -s reload"]
    assert [p.name for p in (server.root / APP).iterdir()] == ["nginx.conf"]


def test_any_change_first_puts_back_what_another_killed_change_left(fake):
    server, bin_dir = fake
    killed_before_the_reload(server, "other", unloaded="a first config, never loaded\n", loaded=None)
    server.install(APP, "config v1\n")
    assert not (server.root / "other" / "nginx.conf").exists()
    assert not (server.root / nginx.JOURNAL).exists()
    assert calls(bin_dir) == ["-q -t", "-q -s reload"] * 2


def test_a_journal_stays_until_nginx_has_reloaded(fake):
    server, bin_dir = fake
    killed_before_the_reload(server, APP, unloaded="config v2\n", loaded="config v1\n")
    (bin_dir / "no-reload").touch()
    with pytest.raises(ProxyError, match="could not reload the configuration it had"):
        server.install(APP, "config v3\n")
    assert json.loads((server.root / nginx.JOURNAL).read_text())["previous"] == "config v1\n"


def test_reload_checks_the_whole_configuration_first(fake):
    server, bin_dir = fake
    server.reload()
    assert calls(bin_dir) == ["-q -t", "-q -s reload"]
    (bin_dir / "host-broken").touch()
    with pytest.raises(ProxyError, match='invalid, so nginx was not reloaded: .*unexpected "}"'):
        server.reload()
    assert calls(bin_dir)[2:] == ["-q -t"]


def test_while_stopped_changes_are_checked_and_loaded_only_at_start(fake):
    server, bin_dir = fake
    server.stop()
    assert server.is_stopped and calls(bin_dir) == ["-q -s quit"]
    server.install(APP, "config v1\n")
    assert calls(bin_dir)[1:] == ["-q -t"]  # checked, no reload of a stopped nginx
    (bin_dir / "no-reload").touch()  # not running: the probe fails, nginx is started
    assert server.start() is True
    assert calls(bin_dir)[2:] == ["-q -t", "-q -s reload", "-q"]
    assert not server.is_stopped


def test_start_of_a_running_nginx_reloads_it_and_a_bad_configuration_starts_nothing(fake):
    server, bin_dir = fake
    assert server.start() is False
    assert calls(bin_dir) == ["-q -t", "-q -s reload"]
    server.stop()
    (server.root / APP).mkdir()
    (server.root / APP / "nginx.conf").write_text("bogus;\n")
    with pytest.raises(ProxyError, match="invalid, so nginx was not started"):
        server.start()
    assert server.is_stopped and calls(bin_dir)[-1] == "-q -t"


def test_a_stop_nginx_refuses_leaves_changes_reloading(fake):
    server, bin_dir = fake
    (bin_dir / "no-reload").touch()  # every -s fails, as when nginx cannot read its configuration
    with pytest.raises(ProxyError, match="could not be stopped"):
        server.stop()
    assert not server.is_stopped

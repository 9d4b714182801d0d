"""Files from a pushed tree that root reads: an nginx.conf.template pushed by a user key.

Root's nginx never loads a directive a user key chose. Without an admin's leave
(`nginx:set APP allow-custom-template true`) the template is ignored with one line and the app
gets our config; with it, the rendered template is checked, and what names a host file, a port,
a name or an upstream not the app's own is refused with one line naming it: the push fails,
nothing changes, the victim serves on and nginx's whole configuration stays valid.
"""

import re

import pytest
from helpers import APPS, commit_all, make_git_repo, wait_until_serving
from security_helpers import VICTIM, assert_refused, server_head, state_of

from minidokku.access import rules

USER = "mallory"
TENANT = "tenant"
TEMPLATE = (
    "server {{\n  listen {{{{ LISTEN_PORT }}}};\n  server_name {{{{ SERVER_NAMES }}}};\n{line}\n"
    "  location / {{ proxy_pass http://{{{{ UPSTREAM }}}}; }}\n}}\n"
)


@pytest.fixture(scope="module")
def user_key(ssh_client, victim):
    return ssh_client.with_key(USER, rules.USER)


@pytest.fixture(scope="module")
def tenant_repo(platform, user_key, tmp_path_factory):
    """The user key's own app, deployed by that key."""
    repo = make_git_repo(tmp_path_factory.mktemp("tenant") / TENANT, APPS / "envecho")
    pushed = user_key.push(repo, TENANT)
    assert pushed.returncode == 0, pushed.stderr
    wait_until_serving(platform, f"{TENANT}.example.test", "web.1", path="/DYNO", timeout=15)
    return repo


def nginx_config(platform, app: str) -> str:
    return (platform.root / app / "nginx.conf").read_text()


def assert_nginx_valid(platform) -> None:
    checked = platform.dokku("nginx:validate-config", check=False)
    assert checked.returncode == 0, checked.stderr


def test_without_an_admins_leave_a_pushed_template_is_ignored_with_one_line(platform, user_key, tenant_repo):
    victim_config = nginx_config(platform, VICTIM)
    (tenant_repo / "nginx.conf.template").write_text(
        TEMPLATE.format(line="  include /etc/shadow;\n  access_log /etc/cron.d/x;")
    )
    commit_all(tenant_repo, "a template root must not load")

    pushed = user_key.push(tenant_repo, TENANT)

    assert pushed.returncode == 0, pushed.stderr
    said = [line.rstrip() for line in pushed.stderr.splitlines() if "nginx.conf.template" in line]
    assert said == [
        f"remote:        nginx.conf.template ignored: custom templates are off for {TENANT}; an admin turns them "
        f"on with `dokku nginx:set {TENANT} allow-custom-template true`"
    ]
    config = nginx_config(platform, TENANT)
    assert "/etc/shadow" not in config and "/etc/cron.d" not in config
    assert "proxy_set_header X-Request-Start" in config, "our own config"
    assert nginx_config(platform, VICTIM) == victim_config
    assert_nginx_valid(platform)
    wait_until_serving(platform, f"{TENANT}.example.test", "web.1", path="/DYNO", timeout=15)


def test_the_leave_is_an_admins_to_give(platform, engine, user_key, tenant_repo):
    before = state_of(platform, engine)
    refused = user_key.ssh("nginx:set", TENANT, "allow-custom-template", "true")
    assert_refused(refused, f"nginx:set is for admin keys only; {USER} is a user key")
    assert state_of(platform, engine) == before
    assert "Allow custom template:      false" in platform.dokku("nginx:report", TENANT).stdout


@pytest.fixture(scope="module")
def allowed(platform, user_key, tenant_repo):
    """The admin allows the tenant a template, which the deployed release must then pass too."""
    (tenant_repo / "nginx.conf.template").write_text(TEMPLATE.format(line="  include /etc/shadow;"))
    commit_all(tenant_repo, "the hostile template once more")
    assert user_key.push(tenant_repo, TENANT).returncode == 0
    refused = platform.dokku("nginx:set", TENANT, "allow-custom-template", "true", check=False)
    assert_refused(refused, "nginx.conf.template line 4: 'include /etc/shadow' is refused")
    assert "Allow custom template:      false" in platform.dokku("nginx:report", TENANT).stdout

    (tenant_repo / "nginx.conf.template").unlink()
    commit_all(tenant_repo, "no template")
    assert user_key.push(tenant_repo, TENANT).returncode == 0
    platform.dokku("nginx:set", TENANT, "allow-custom-template", "true")
    assert "Allow custom template:      true" in platform.dokku("nginx:report", TENANT).stdout


def victim_upstream(platform) -> str:
    return re.search(r"^upstream (\S+) \{", nginx_config(platform, VICTIM), re.MULTILINE).group(1)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("  include /etc/shadow;", "line 4: 'include /etc/shadow' is refused: it names a file or a path on the host"),
        ("  access_log /etc/cron.d/x;", f"line 4: 'access_log /etc/cron.d/x' is refused: {TENANT}'s access log is"),
        ("  error_log /home/dokku/.ssh/authorized_keys;", "'error_log /home/dokku/.ssh/authorized_keys' is refused"),
        ("  listen 22;", f"line 4: 'listen 22' is refused: {TENANT} listens only on its own ports"),
        (f"  server_name {VICTIM}.example.test;", f"is refused: {TENANT}'s names are {TENANT}.example.test"),
        ("  location /steal { proxy_pass http://VICTIM_UPSTREAM; }", f"{TENANT} proxies only to its own containers"),
        ("  ssl_certificate_key VICTIM_KEY;", f"{TENANT}'s certificate files are none"),
        ('  "lua_code_cache" off;', "it runs code inside nginx"),
    ],
)
def test_with_the_leave_a_template_reaching_the_host_or_the_victim_is_refused_and_nothing_changes(
    platform, engine, user_key, tenant_repo, allowed, line, message
):
    line = line.replace("VICTIM_UPSTREAM", victim_upstream(platform))
    line = line.replace("VICTIM_KEY", str(platform.root / VICTIM / "tls" / "server.key"))
    (tenant_repo / "nginx.conf.template").write_text(TEMPLATE.format(line=line))
    commit_all(tenant_repo, "a hostile template")
    before, head = state_of(platform, engine), server_head(platform, TENANT)

    pushed = user_key.push(tenant_repo, TENANT)

    assert_refused(pushed, f"nginx.conf.template {message}" if message.startswith("line") else message)
    assert "pre-receive hook declined" in pushed.stderr
    assert server_head(platform, TENANT) == head
    assert state_of(platform, engine) == before
    assert_nginx_valid(platform)
    wait_until_serving(platform, f"{TENANT}.example.test", "web.1", path="/DYNO", timeout=15)


def test_with_the_leave_an_upstream_block_to_the_host_is_refused(platform, engine, user_key, tenant_repo, allowed):
    (tenant_repo / "nginx.conf.template").write_text(
        "upstream sshd { server 127.0.0.1:22; }\n" + TEMPLATE.format(line="")
    )
    commit_all(tenant_repo, "an upstream of its own")
    before = state_of(platform, engine)

    pushed = user_key.push(tenant_repo, TENANT)

    assert_refused(pushed, "line 1: 'upstream sshd' is refused: a template holds server blocks only")
    assert state_of(platform, engine) == before
    assert_nginx_valid(platform)


def test_with_the_leave_a_template_of_its_own_names_serves(platform, user_key, tenant_repo, allowed):
    (tenant_repo / "nginx.conf.template").write_text(TEMPLATE.format(line="  add_header X-Tenant yes;"))
    commit_all(tenant_repo, "a template that keeps to its own")

    pushed = user_key.push(tenant_repo, TENANT)

    assert pushed.returncode == 0, pushed.stderr
    assert "add_header X-Tenant yes;" in nginx_config(platform, TENANT)
    assert_nginx_valid(platform)
    wait_until_serving(platform, f"{TENANT}.example.test", "web.1", path="/DYNO", timeout=15)

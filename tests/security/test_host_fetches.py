"""Host-side fetches of URLs a tenant controls (issue 12, class 3): BUILDPACK_URL (config:set),
`.buildpacks` (a pushed file), the app's buildpack list and `git:from-archive`.

The attacker is a user key with its own app (created by its push) and an admin's app granted to
it. The witness is a buildpack that only this machine has, in a git repo on the host and served
by a loopback HTTP server (standing in for the Docker API on tcp, a metadata service, an admin
port): its bin/detect prints a token, so a build that fetched it would show the token. Each
attempt must be one clear line, move no branch, change nothing, ask the loopback server
nothing, and show no token. A control case proves the witness: an admin's own app may still use
the same local buildpack (admins are trusted), and its build shows the token.
"""

import secrets
from pathlib import Path

import pytest
from helpers import APPS, commit_all, git, make_git_repo
from security_helpers import VICTIM, assert_refused, quoted, server_head, state_of
from servers import RecordingServer, served_over_dumb_http

from minidokku.access import rules

USER = "mallory"
OWN, SHARED = "mallorys", "shared"
TOKEN = secrets.token_hex(16)


@pytest.fixture(scope="module")
def host_buildpack(tmp_path_factory) -> Path:
    """A buildpack in a git repo on this machine only; it detects every app and prints TOKEN."""
    repo = tmp_path_factory.mktemp("host-only") / "buildpack"
    (repo / "bin").mkdir(parents=True)
    for script, body in {"detect": f"echo host-only-{TOKEN}", "compile": "true", "release": "echo ---"}.items():
        (repo / "bin" / script).write_text(f"#!/bin/sh\n{body}\n")
        (repo / "bin" / script).chmod(0o755)
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "a buildpack only this machine has")
    return repo


@pytest.fixture
def loopback_service(host_buildpack):
    """The host's own service on 127.0.0.1, serving the buildpack (as buildpack.git) to whoever asks."""
    served = host_buildpack.parent / "buildpack.git"
    if not served.exists():
        served_over_dumb_http(host_buildpack)
    with RecordingServer("127.0.0.1", folder=served.parent) as server:
        yield server


@pytest.fixture(scope="module")
def tenant(ssh_client, victim):
    return ssh_client.with_key(USER, rules.USER)


@pytest.fixture(scope="module")
def own_repo(tenant, tmp_path_factory) -> Path:
    """The tenant's own app, created and deployed by its first push."""
    repo = make_git_repo(tmp_path_factory.mktemp("own") / OWN, APPS / "envecho")
    pushed = tenant.push(repo, OWN)
    assert pushed.returncode == 0, pushed.stderr
    return repo


@pytest.fixture(scope="module")
def shared_repo(platform, host_buildpack, tenant, tmp_path_factory) -> Path:
    """An admin's app whose BUILDPACK_URL (a local repo) was set while it was the admin's alone,
    then granted to the tenant: from then on its builds follow the tenant rules."""
    platform.dokku("apps:create", SHARED)
    platform.dokku("config:set", "--no-restart", SHARED, f"BUILDPACK_URL=file://{host_buildpack}")
    platform.dokku("acl:add", SHARED, USER)
    return make_git_repo(tmp_path_factory.mktemp("shared") / SHARED, APPS / "envecho")


def push_refused(platform, engine, client, repo: Path, app: str, message: str) -> str:
    """Pushes repo to app: refused with message, nothing changed, no token shown; the output."""
    before, head = state_of(platform, engine), server_head(platform, app)
    pushed = client.push(repo, app)
    assert_refused(pushed, message)
    assert server_head(platform, app) == head, "the branch moved"
    assert state_of(platform, engine) == before
    assert TOKEN not in pushed.stdout + pushed.stderr
    return pushed.stderr


def with_dot_buildpacks(repo: Path, text: str) -> Path:
    (repo / ".buildpacks").write_text(text)
    commit_all(repo, f".buildpacks: {text.strip()}")
    return repo


def test_the_witness_an_admins_own_app_may_build_with_the_host_only_buildpack(platform, host_buildpack, tmp_path):
    repo = with_dot_buildpacks(make_git_repo(tmp_path / "control", APPS / "envecho"), f"file://{host_buildpack}\n")
    pushed = platform.push(repo, "control")
    assert f"host-only-{TOKEN}" in pushed.stderr, pushed.stderr
    platform.dokku("apps:destroy", "control", "--force")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("file://{root}/{victim}", "BUILDPACK_URL: 'file://"),
        ("file://{buildpack}#main", "BUILDPACK_URL: 'file://"),
        ("ssh://dokku@127.0.0.1/victim", "BUILDPACK_URL: 'ssh://"),
        ("dokku@127.0.0.1:victim", "unknown buildpack"),
        ("{root}/{victim}", "unknown buildpack"),
        ("ext::sh -c id", "unknown buildpack"),
    ],
)
def test_a_tenant_cannot_set_a_local_or_ssh_buildpack_url(
    platform, engine, tenant, own_repo, host_buildpack, value, message
):
    value = value.format(root=platform.root, buildpack=host_buildpack, victim=VICTIM)
    before = state_of(platform, engine)

    result = tenant.ssh(quoted("config:set", OWN, f"BUILDPACK_URL={value}"))

    assert_refused(result, message)
    assert result.stderr.count("\n") == 1, result.stderr
    assert state_of(platform, engine) == before


@pytest.mark.parametrize("url", ["file://{buildpack}", "file://{root}/{victim}#main", "ssh://dokku@127.0.0.1/victim"])
def test_a_pushed_dot_buildpacks_naming_a_local_or_ssh_url_is_refused(
    platform, engine, tenant, own_repo, host_buildpack, url
):
    url = url.format(root=platform.root, buildpack=host_buildpack, victim=VICTIM)
    repo = with_dot_buildpacks(own_repo, f"{url}\n")
    push_refused(platform, engine, tenant, repo, OWN, ".buildpacks: ")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:{port}/buildpack.git#main", "127.0.0.1, a loopback address"),
        ("http://localhost:{port}/buildpack.git#main", "localhost is 127.0.0.1, a loopback address"),
        ("http://2130706433:{port}/buildpack.git#main", "2130706433 is 127.0.0.1, a loopback address"),
        ("http://[::ffff:127.0.0.1]:{port}/buildpack.git#main", "a loopback address (as 127.0.0.1)"),
        ("git://127.0.0.1:{port}/buildpack.git", "127.0.0.1, a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://172.17.0.1:{port}/buildpack.git", "172.17.0.1, "),
    ],
)
def test_a_pushed_dot_buildpacks_on_the_hosts_own_addresses_asks_them_nothing(
    platform, engine, tenant, own_repo, loopback_service, url, why
):
    repo = with_dot_buildpacks(own_repo, url.format(port=loopback_service.port) + "\n")
    output = push_refused(platform, engine, tenant, repo, OWN, f"could not fetch the buildpack {url[:12]}")
    assert why in output
    assert loopback_service.connections == 0, loopback_service.requests


def test_an_admins_local_buildpack_url_is_refused_once_the_app_is_granted_to_a_tenant(
    platform, engine, tenant, shared_repo
):
    push_refused(platform, engine, tenant, shared_repo, SHARED, "BUILDPACK_URL: 'file://")


def test_an_admin_cannot_give_a_tenant_app_a_local_buildpack_either(platform, engine, ssh_client, own_repo):
    before = state_of(platform, engine)
    result = ssh_client.ssh(quoted("buildpacks:add", OWN, f"file://{platform.root}/{VICTIM}"))
    assert_refused(result, "buildpacks:add: 'file://")
    assert state_of(platform, engine) == before


def test_an_admins_archive_for_a_tenant_app_is_not_fetched_from_the_hosts_loopback(
    platform, engine, ssh_client, own_repo, loopback_service
):
    before = state_of(platform, engine)
    result = ssh_client.ssh(quoted("git:from-archive", OWN, loopback_service.url("/buildpack.git/HEAD")))
    assert_refused(result, "127.0.0.1, a loopback address: a tenant app's URLs must reach public addresses only")
    assert state_of(platform, engine) == before
    assert loopback_service.connections == 0

"""registry:login and push-on-release against a real registry (Debian's docker-registry, with
htpasswd logins, on loopback: the engine takes plain HTTP from 127.0.0.1). The app is a busybox
httpd FROM scratch, so that a push carries two megabytes, not the stack."""

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from helpers import busybox_app, free_port, git, wait_for_port, wait_until_serving

from minidokku.access import rules
from minidokku.state import Store

APP = "regpush"
HOST = f"{APP}.example.test"
USER, PASSWORD = "deployer", "s3cret-pass"
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


@dataclass
class Registry:
    address: str  # 127.0.0.1:PORT
    process: subprocess.Popen

    def get(self, path: str, **headers) -> requests.Response:
        return requests.get(f"http://{self.address}/v2/{path}", auth=(USER, PASSWORD), headers=headers, timeout=10)

    def tags(self, repository: str) -> list[str]:
        found = self.get(f"{repository}/tags/list")
        return sorted(found.json().get("tags") or []) if found.status_code == 200 else []

    def digest(self, repository: str, tag: str) -> str:
        return self.get(f"{repository}/manifests/{tag}", Accept=MANIFEST).headers["Docker-Content-Digest"]


@pytest.fixture
def registry(tmp_path) -> Iterator[Registry]:
    port = free_port()
    folder = tmp_path / "registry"
    folder.mkdir()
    hashed = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], capture_output=True, text=True, check=True)
    (folder / "htpasswd").write_text(hashed.stdout)
    (folder / "config.yml").write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {folder}/data\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        f"auth:\n  htpasswd:\n    realm: test\n    path: {folder}/htpasswd\n"
    )
    with open(folder / "log", "wb") as log:
        process = subprocess.Popen(["docker-registry", "serve", str(folder / "config.yml")], stdout=log, stderr=log)
    try:
        wait_for_port(port)
        yield Registry(f"127.0.0.1:{port}", process)
    finally:
        process.terminate()
        process.wait(10)


def repository(platform) -> str:
    return f"dokku/{platform.settings()['NAMESPACE']}{APP}"


def test_a_release_is_pushed_with_the_apps_credentials_and_a_failed_push_changes_nothing(
    platform, engine, registry, tmp_path
):
    repo = busybox_app(tmp_path, APP, "first")
    platform.dokku("apps:create", APP)

    refused = platform.dokku("registry:login", APP, registry.address, USER, "wrong", check=False)
    assert refused.returncode == 1 and "Unable to log in to" in refused.stderr, refused.stderr
    login = platform.dokku("registry:login", "--password-stdin", APP, registry.address, USER, input=PASSWORD + "\n")
    assert "Login Succeeded for regpush" in login.stderr
    assert (platform.root / APP / "registry-auth.json").stat().st_mode & 0o077 == 0, "others may read it"
    platform.dokku("registry:set", APP, "server", registry.address)
    platform.dokku("registry:set", APP, "push-on-release", "true")
    platform.dokku("registry:set", APP, "push-extra-tags", "stable,edge")

    pushed = platform.push(repo, APP)
    assert pushed.returncode == 0, pushed.stderr
    assert "-----> Pushing image to registry" in pushed.stderr
    wait_until_serving(platform, HOST, "first")
    assert registry.tags(repository(platform)) == ["1", "edge", "stable"]
    digest = registry.digest(repository(platform), "1")
    assert f"({digest})" in pushed.stderr
    report = json.loads(platform.dokku("registry:report", APP, "--format", "json").stdout)
    assert report["tag-version"] == "1" and report["computed-server"] == f"{registry.address}/"
    for tag in ("1", "stable", "edge"):
        assert not engine.image_exists(f"{registry.address}/{repository(platform)}:{tag}"), "a push left its name"

    git(repo, "commit", "-q", "--allow-empty", "-m", "again")
    assert platform.push(repo, APP).returncode == 0
    assert "2" in registry.tags(repository(platform))

    platform.dokku("registry:logout", APP, registry.address)
    (repo / "www" / "index.html").write_text("second")
    git(repo, "commit", "-qam", "not pushed: no credentials")
    failed = platform.push(repo, APP)
    assert failed.returncode != 0
    assert "pushing the image of regpush" in failed.stderr and "no basic auth credentials" in failed.stderr
    assert platform.get(HOST) == (200, "first"), "a failed push changed what serves"
    assert registry.tags(repository(platform)) == ["1", "2", "edge", "stable"]
    assert json.loads(platform.dokku("registry:report", APP, "--format", "json").stdout)["tag-version"] == "2"


def test_global_credentials_serve_every_app_and_an_apps_own_come_first(platform, registry, tmp_path):
    repo = busybox_app(tmp_path, APP, "global")
    platform.dokku("apps:create", APP)
    legacy = platform.dokku("registry:login", registry.address, USER, PASSWORD)
    assert "Deprecated: please use --global flag" in legacy.stderr
    platform.dokku("registry:set", "--global", "server", registry.address)
    platform.dokku("registry:set", "--global", "push-on-release", "true")
    platform.dokku("registry:set", "--global", "image-repo-template", "team/{{ .AppName }}")
    assert platform.push(repo, APP).returncode == 0
    assert registry.tags(f"team/{APP}") == ["1"]

    # an app's own (wrong) credentials come before the global (right) ones
    (platform.root / APP / "registry-auth.json").write_text(
        json.dumps({registry.address: {"username": USER, "password": "stale"}})
    )
    git(repo, "commit", "-q", "--allow-empty", "-m", "again")
    refused = platform.push(repo, APP)
    assert refused.returncode != 0 and "unauthorized" in refused.stderr, refused.stderr
    platform.dokku("registry:logout", "--global", registry.address)
    assert "Not logged in to" in platform.dokku("registry:logout", "--global", registry.address).stdout


def test_a_registry_that_is_down_fails_the_push_and_what_ran_keeps_serving(platform, engine, tmp_path):
    repo = busybox_app(tmp_path, APP, "before")
    assert platform.push(repo, APP).returncode == 0
    wait_until_serving(platform, HOST, "before")
    containers = engine.list_containers({"com.dokku.app-name": f"{platform.settings()['NAMESPACE']}{APP}"})
    platform.dokku("registry:set", APP, "server", f"127.0.0.1:{free_port()}")
    platform.dokku("registry:set", APP, "push-on-release", "true")
    (repo / "www" / "index.html").write_text("after")
    git(repo, "commit", "-qam", "never pushed")
    failed = platform.push(repo, APP)
    assert failed.returncode != 0 and "pushing the image of regpush" in failed.stderr, failed.stderr
    assert platform.get(HOST) == (200, "before")
    after = engine.list_containers({"com.dokku.app-name": f"{platform.settings()['NAMESPACE']}{APP}"})
    assert [c["Id"] for c in after] == [c["Id"] for c in containers], "a container of the unpushed image started"


def test_a_push_never_renames_another_image_of_this_host(platform, engine, registry, tmp_path):
    """A name the push needs that another image has here stops it before anything goes (on Docker
    Hub, the app's own repository dokku/APP is where it pushes: `v1` would be its release v1's
    name). Shown on the loopback registry, with a name given to another image by hand."""
    repo = busybox_app(tmp_path, APP, "mine")
    platform.dokku("apps:create", APP)
    platform.dokku("registry:login", "--global", registry.address, USER, PASSWORD)
    platform.dokku("registry:set", APP, "server", registry.address)
    platform.dokku("registry:set", APP, "push-on-release", "true")
    platform.dokku("registry:set", APP, "push-extra-tags", "kept")
    taken = f"{registry.address}/{repository(platform)}"
    engine.tag_image("minidokku/stack:latest", taken, "kept")
    try:
        failed = platform.push(repo, APP)
        assert failed.returncode != 0
        assert f"{taken}:kept already names another image on this host" in failed.stderr, failed.stderr
        stack_id = engine.inspect_image("minidokku/stack:latest")["Id"]
        assert engine.inspect_image(f"{taken}:kept")["Id"] == stack_id
        assert registry.tags(repository(platform)) == [], "a tag went before the push was refused"
    finally:
        engine.remove_image(f"{taken}:kept")


def test_git_from_image_pulls_with_the_apps_credentials(platform, engine, registry, tmp_path):
    repo = busybox_app(tmp_path, APP, "pulled")
    platform.dokku("apps:create", APP)
    platform.dokku("registry:login", APP, registry.address, USER, PASSWORD)
    platform.dokku("registry:set", APP, "server", registry.address)
    platform.dokku("registry:set", APP, "push-on-release", "true")
    assert platform.push(repo, APP).returncode == 0
    reference = f"{registry.address}/{repository(platform)}:1"
    assert not engine.image_exists(reference)

    platform.dokku("apps:create", "puller")
    refused = platform.dokku("git:from-image", "puller", reference, check=False)
    assert refused.returncode != 0 and "cannot be pulled" in refused.stderr, refused.stderr
    platform.dokku("registry:login", "puller", registry.address, USER, PASSWORD)
    platform.dokku("git:from-image", "puller", reference)
    wait_until_serving(platform, "puller.example.test", "pulled")
    assert not engine.image_exists(reference), "a private image kept a name a tenant's FROM could use"


def test_the_app_option_makes_a_login_the_apps_and_a_bare_logout_asks_for_a_server(platform, registry):
    platform.dokku("apps:create", APP)
    platform.dokku("--app", APP, "registry:login", registry.address, USER, PASSWORD)
    assert (platform.root / APP / "registry-auth.json").is_file()
    assert not (platform.root / "registry-auth.json").exists(), "--app made a global login"
    for words in ([], ["--global"]):
        missing = platform.dokku("registry:logout", *words, check=False)
        assert (missing.returncode, missing.stderr.strip()) == (1, "!     Missing server argument")
    platform.dokku("--app", APP, "registry:logout", registry.address)
    assert (
        platform.dokku("registry:logout", APP, registry.address).stdout.strip()
        == f"Not logged in to {registry.address}"
    )


def test_a_tenants_app_pushes_only_when_its_own_settings_say_so_with_its_own_credentials(platform, registry, tmp_path):
    """The global settings and credentials are the admin's: with them, a tenant who names its app
    could write into any repository they may write."""
    repo = busybox_app(tmp_path, APP, "tenant")
    platform.dokku("apps:create", APP)
    rules.grant(Store(platform.root), APP, "eve")  # a user key's app (acl:add, with the key's line)
    platform.dokku("registry:login", "--global", registry.address, USER, PASSWORD)
    platform.dokku("registry:set", "--global", "server", registry.address)
    platform.dokku("registry:set", "--global", "push-on-release", "true")
    pushed = platform.push(repo, APP)
    assert pushed.returncode == 0 and "Pushing image to registry" not in pushed.stderr
    assert registry.tags(repository(platform)) == []

    platform.dokku("registry:set", APP, "push-on-release", "true")  # the admin's choice, for this app
    git(repo, "commit", "-q", "--allow-empty", "-m", "again")
    refused = platform.push(repo, APP)
    assert refused.returncode != 0 and "pushes only to an image-repo an admin sets" in refused.stderr
    platform.dokku("registry:set", APP, "image-repo", "tenants/eve")
    git(repo, "commit", "-q", "--allow-empty", "-m", "and again")
    refused = platform.push(repo, APP)
    assert refused.returncode != 0 and "no basic auth credentials" in refused.stderr, refused.stderr
    platform.dokku("registry:login", APP, registry.address, USER, PASSWORD)
    assert platform.push(repo, APP).returncode == 0
    assert registry.tags("tenants/eve") == ["1"]


def test_two_apps_never_push_to_one_repository(platform, registry, tmp_path):
    repo = busybox_app(tmp_path, APP, "one")
    platform.dokku("apps:create", APP)
    platform.dokku("apps:create", "twin")
    platform.dokku("registry:set", "twin", "image-repo", repository(platform))
    platform.dokku("registry:login", "--global", registry.address, USER, PASSWORD)
    platform.dokku("registry:set", "--global", "server", registry.address)
    platform.dokku("registry:set", "--global", "push-on-release", "true")  # both push
    failed = platform.push(repo, APP)
    assert failed.returncode != 0 and "regpush and twin both push to" in failed.stderr, failed.stderr
    assert registry.tags(repository(platform)) == []

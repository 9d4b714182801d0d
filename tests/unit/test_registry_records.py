"""records/registry.py: the registry properties' checks and computed values, and the credentials an
app pushes with."""

import base64
import json

import pytest

from minidokku.engine.client import registry_auth
from minidokku.errors import ValidationError
from minidokku.records import properties, registry
from minidokku.state import Store


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(tmp_path)
    store.create_app_dir("catmeow")
    store.create_app_dir("other")
    return store


@pytest.mark.parametrize("server", ["ghcr.io", "127.0.0.1:5000", "registry.example.com/", "localhost:5000"])
def test_a_registry_host_is_a_server(server):
    assert registry.SERVER.check(server) == server


@pytest.mark.parametrize(
    "server",
    ["", "a b", "ghcr.io/team", "http://ghcr.io", "-x.io", "host:port", "ghcr.io:123456", "ghcr.io:99999", "x:0"]
    + ["ghcr.io\n", "--global"],
)
def test_anything_else_is_refused_as_a_server(server):
    with pytest.raises(ValidationError, match="server must be a registry host"):
        registry.SERVER.check(server)


@pytest.mark.parametrize("repo", ["dokku/catmeow", "team/sub/app-1", "a", "a__b", "a.b_c-d"])
def test_an_image_repository_is_an_image_repo(repo):
    assert registry.IMAGE_REPO.check(repo) == repo


@pytest.mark.parametrize("repo", ["Team/app", "team//app", "/app", "app/", "a:b", "a@sha256", "x" * 256, "../x"])
def test_anything_else_is_refused_as_an_image_repo(repo):
    with pytest.raises(ValidationError, match="image-repo must be an image repository"):
        registry.IMAGE_REPO.check(repo)


@pytest.mark.parametrize("repo", ["ghcr.io/acme/web", "localhost/web", "my.team/web"])
def test_a_repository_naming_a_host_is_refused_the_server_says_where_it_goes(repo):
    """The engine would push to that host, with the credentials found for the server."""
    with pytest.raises(ValidationError, match="must not start with a registry host"):
        registry.IMAGE_REPO.check(repo)
    assert registry.reference_host(repo) == repo.split("/")[0]


def test_a_template_that_could_name_a_host_or_grow_too_long_is_refused():
    with pytest.raises(ValidationError, match="registry host"):
        registry.IMAGE_REPO_TEMPLATE.check("{{ .AppName }}.example/img")
    with pytest.raises(ValidationError, match="image-repo-template, rendered,"):
        registry.IMAGE_REPO_TEMPLATE.check("t/" + "x" * 220 + "-{{ .AppName }}")
    with pytest.raises(ValidationError, match="registry host"):
        registry.IMAGE_REPO_TEMPLATE.check("{{ .AppName }}/img")  # an app named localhost


@pytest.mark.parametrize("text", ["[1]", "null", "3", '"x"', "{"])
def test_a_credentials_file_that_is_no_json_object_says_so_in_one_line(store, text):
    store.write(None, registry.REGISTRY_AUTH, text)
    with pytest.raises(ValidationError, match="is not a JSON object: log in again"):
        registry.credentials(store, "catmeow", "ghcr.io")


def test_an_entry_without_a_user_name_and_password_is_none_and_the_global_ones_serve(store):
    registry.login(store, None, "ghcr.io", "admin", "token")
    store.write("catmeow", registry.REGISTRY_AUTH, '{"ghcr.io": {"username": null, "password": "p"}}')
    assert registry.credentials(store, "catmeow", "ghcr.io") == ("admin", "token")


def test_a_template_knows_only_the_apps_name():
    assert registry.IMAGE_REPO_TEMPLATE.check("team/{{ .AppName }}-prod")
    assert registry.IMAGE_REPO_TEMPLATE.check("team/{{.AppName}}")
    for template in ("{{ .Env }}", '{{ printf "x" }}', "team/{{ .AppName }", "Team/{{ .AppName }}"):
        with pytest.raises(ValidationError):
            registry.IMAGE_REPO_TEMPLATE.check(template)


@pytest.mark.parametrize("tags", ["", "a,,b", "a b", "-lead", "x" * 129, "ok,bad/tag", "stable,2"])
def test_extra_tags_must_each_be_a_tag(tags):
    with pytest.raises(ValidationError):
        registry.PUSH_EXTRA_TAGS.check(tags)


def test_the_computed_server_and_repository_follow_dokku(store):
    assert registry.computed_server(store, "catmeow") == ""
    properties.set_value(store, None, registry.SERVER, "hub.docker.com")
    assert registry.computed_server(store, "catmeow") == ""  # Docker Hub: the engine's default
    properties.set_value(store, None, registry.SERVER, "ghcr.io")
    properties.set_value(store, "catmeow", registry.SERVER, "127.0.0.1:5000/")
    assert registry.computed_server(store, "catmeow") == "127.0.0.1:5000/"
    assert registry.computed_server(store, "other") == "ghcr.io/"

    assert registry.computed_image_repo(store, "catmeow", "dokku/catmeow") == "dokku/catmeow"
    properties.set_value(store, None, registry.IMAGE_REPO_TEMPLATE, "team/{{ .AppName }}")
    assert registry.computed_image_repo(store, "catmeow", "dokku/catmeow") == "team/catmeow"
    properties.set_value(store, "catmeow", registry.IMAGE_REPO, "mine/cat")
    assert registry.computed_image_repo(store, "catmeow", "dokku/catmeow") == "mine/cat"
    assert registry.computed_image_repo(store, "other", "dokku/other") == "team/other"


def test_an_app_pushes_with_its_own_credentials_else_the_global_ones(store):
    assert registry.credentials(store, "catmeow", "ghcr.io/") is None
    registry.login(store, None, "ghcr.io", "global-user", "global-pass")
    registry.login(store, "catmeow", "ghcr.io/", "cat-user", "cat-pass")
    assert registry.credentials(store, "catmeow", "ghcr.io/") == ("cat-user", "cat-pass")
    assert registry.credentials(store, "other", "ghcr.io/") == ("global-user", "global-pass")
    assert registry.logout(store, "catmeow", "ghcr.io")
    assert not registry.logout(store, "catmeow", "ghcr.io")
    assert registry.credentials(store, "catmeow", "ghcr.io/") == ("global-user", "global-pass")
    assert (store.path(None, registry.REGISTRY_AUTH).stat().st_mode & 0o777) == 0o600


def test_docker_hubs_names_are_one_server_and_a_hosts_name_has_no_case(store):
    registry.login(store, None, "hub.docker.com", "u", "p")
    assert registry.credentials(store, "catmeow", "") == ("u", "p")  # computed server "": Docker Hub
    assert registry.logout(store, None, "docker.io/")
    registry.login(store, None, "GHCR.io", "u", "p")
    assert registry.credentials(store, "catmeow", "ghcr.io") == ("u", "p")


def test_own_only_leaves_the_global_settings_and_credentials_out(store):
    registry.login(store, None, "ghcr.io", "admin", "admins-token")
    properties.set_value(store, None, registry.PUSH_ON_RELEASE, "true")
    assert registry.pushes_on_release(store, "catmeow") and not registry.pushes_on_release(store, "catmeow", True)
    assert registry.credentials(store, "catmeow", "ghcr.io", own_only=True) is None
    properties.set_value(store, "catmeow", registry.PUSH_ON_RELEASE, "true")
    registry.login(store, "catmeow", "ghcr.io", "cat", "cats-token")
    assert registry.pushes_on_release(store, "catmeow", own_only=True)
    assert registry.credentials(store, "catmeow", "ghcr.io", own_only=True) == ("cat", "cats-token")


def test_a_tag_count_that_is_no_whole_number_counts_as_none(store):
    properties.put(store, "catmeow", registry.FAMILY, registry.TAG_VERSION, "²")
    assert registry.tag_version(store, "catmeow") == 0


@pytest.mark.parametrize("value", ["", "with\nnewline", "x" * 1025, "tab\there"])
def test_a_credential_with_a_control_character_or_none_is_refused(store, value):
    with pytest.raises(ValidationError):
        registry.login(store, "catmeow", "ghcr.io", value, "p")
    with pytest.raises(ValidationError):
        registry.login(store, "catmeow", "ghcr.io", "u", value)


def test_the_tag_version_counts_from_nothing(store):
    assert registry.tag_version(store, "catmeow") == 0
    registry.set_tag_version(store, "catmeow", 3)
    assert registry.tag_version(store, "catmeow") == 3


def test_the_engines_auth_header_carries_the_credentials_as_base64url_json():
    decoded = json.loads(base64.urlsafe_b64decode(registry_auth("ghcr.io", ("u", 'p"\\/+'))))
    assert decoded == {"username": "u", "password": 'p"\\/+', "serveraddress": "ghcr.io"}
    assert json.loads(base64.urlsafe_b64decode(registry_auth("", None))) == {}

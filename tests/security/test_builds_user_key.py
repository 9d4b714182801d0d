"""Build tracking and the builders' paths against a user key granted an app of its own (not the
victim, an admin's app with a build on record): nothing of the victim's builds reaches it, an id
or a path it sends names no file outside its app (or its tree), and everything global is for
admin keys only. Each refusal is one clear line that changes nothing."""

import json

import pytest
from security_helpers import VICTIM, quoted, refused_without_change

from minidokku.access import rules

USER = "trudy"
OWN = "trudys"


@pytest.fixture(scope="module")
def user_key(platform, ssh_client, victim):
    client = ssh_client.with_key(USER, rules.USER)
    platform.dokku("apps:create", OWN)
    platform.dokku("acl:add", OWN, USER)
    return client


@pytest.fixture(scope="module")
def victim_build(platform, victim) -> dict:
    found = json.loads(platform.dokku("builds:list", VICTIM, "--format", "json").stdout)
    assert found and found[0]["status"] == "succeeded"
    return found[0]


def test_the_victims_build_id_names_nothing_under_the_users_own_app(platform, engine, user_key, victim_build):
    for command in ("builds:info", "builds:output"):
        refused_without_change(
            platform, engine, user_key, (command, OWN, victim_build["id"]),
            f"No build record found for {OWN}/{victim_build['id']}",
        )  # fmt: skip


@pytest.mark.parametrize(
    "build_id",
    ["../victim/builds/BUILD", f"../../{VICTIM}/builds/BUILD", "BUILD.json", "BUILD/../BUILD", "/etc/passwd"],
)
def test_a_build_id_that_is_a_path_is_refused(platform, engine, user_key, victim_build, build_id):
    words = ("builds:output", OWN, build_id.replace("BUILD", victim_build["id"]))
    result = refused_without_change(platform, engine, user_key, words, "is not a build id")
    assert victim_build["id"] not in result.stdout


def test_the_users_own_app_lists_only_its_own_builds(platform, user_key, victim_build):
    listed = user_key.ssh(quoted("builds:list", OWN))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "No builds recorded for this app\n"
    assert user_key.ssh(quoted("builds:cancel", OWN)).stdout == "-----> App not currently deploying\n"


ADMIN_ONLY = [
    ("builds:list",),
    ("builds:prune", "--all-apps"),
    ("builds:set", "--global", "retention", "1"),
    ("builds:report", "--global"),
    ("builder-dockerfile:set", "--global", "dockerfile-path", "x/Dockerfile"),
    ("app-json:set", "--global", "appjson-path", "x.json"),
    ("builder-herokuish:set", OWN, "allowed", "false"),
    ("builder:set", OWN, "selected", "dockerfile"),
]


@pytest.mark.parametrize("words", ADMIN_ONLY, ids=[" ".join(words) for words in ADMIN_ONLY])
def test_global_and_admin_properties_are_refused(platform, engine, user_key, words):
    refused_without_change(platform, engine, user_key, words, f"{words[0]} is for admin keys only")


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("builder-dockerfile:set", OWN, "dockerfile-path", f"../{VICTIM}/Dockerfile"), "must be a relative path"),
        (("builder-dockerfile:set", OWN, "dockerfile-path", "/etc/passwd"), "must be a relative path"),
        (("app-json:set", OWN, "appjson-path", "--", "-x/../../ENV"), "must be a relative path"),
        (("builds:set", OWN, "retention", "100000"), "Invalid retention"),
    ],
)
def test_a_path_out_of_the_tree_or_an_unbounded_retention_is_refused(platform, engine, user_key, words, message):
    refused_without_change(platform, engine, user_key, words, message)


def test_the_user_key_sets_its_own_apps_paths(platform, user_key):
    assert user_key.ssh(quoted("builder-dockerfile:set", OWN, "dockerfile-path", "svc/Dockerfile")).returncode == 0
    assert user_key.ssh(quoted("app-json:set", OWN, "appjson-path", "svc/app.json")).returncode == 0
    report = user_key.ssh(quoted("app-json:report", OWN, "--app-json-computed-appjson-path"))
    assert report.stdout == "svc/app.json\n"
    assert platform.dokku(
        "builder-dockerfile:report", VICTIM, "--builder-dockerfile-computed-dockerfile-path"
    ).stdout == ("Dockerfile\n")


def victims_records(platform) -> dict[str, bytes]:
    folder = platform.root / VICTIM / "builds"
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    "words",
    [("builds:prune", VICTIM), ("builds:set", VICTIM, "retention", "1"), ("builds:cancel", VICTIM),
     ("builds:output", VICTIM), ("builds:prune", "--all-apps", VICTIM)],
)  # fmt: skip
def test_the_victims_build_records_are_out_of_the_users_reach(platform, user_key, victim_build, words):
    """state_of leaves build records out (failed pushes add some): compared here byte for byte."""
    before = victims_records(platform)
    result = user_key.ssh(quoted(*words))
    assert result.returncode != 0 and result.stdout == ""
    assert victims_records(platform) == before

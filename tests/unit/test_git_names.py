"""The validators of what reaches git's argv: object ids, ref names (checked against git's own
`check-ref-format`, so that the pure-Python rules never drift from git's) and branch names."""

import subprocess

import pytest

from minidokku.errors import ValidationError
from minidokku.records import names

SHA = "0123456789abcdef0123456789abcdef01234567"

GOOD_REFS = [
    "refs/heads/main",
    "refs/heads/feature/login",
    "refs/tags/v1.0",
    "refs/heads/a.b",
    "refs/heads/--output=/home/dokku/x",  # a valid ref: only a *branch* may not start with a dash
    "refs/heads/café",
    "refs/heads/x@y",
    "refs/heads/lock",
]
BAD_REFS = [
    "main",  # one level
    "refs/heads/",
    "/refs/heads/main",
    "refs//heads/main",
    "refs/heads/a..b",
    "refs/heads/a b",
    "refs/heads/a\tb",
    "refs/heads/a\nb",
    "refs/heads/a\x7fb",
    "refs/heads/a~1",
    "refs/heads/a^",
    "refs/heads/a:b",
    "refs/heads/a?",
    "refs/heads/a*",
    "refs/heads/a[b",
    "refs/heads/a\\b",
    "refs/heads/.hidden",
    "refs/heads/x.lock",
    "refs/heads/x.lock/y",
    "refs/heads/x.",
    "refs/heads/a@{1}",
    "@",
    "",
]


@pytest.mark.parametrize("ref", GOOD_REFS + BAD_REFS)
def test_the_ref_rules_are_git_check_ref_format(ref):
    by_git = subprocess.run(["git", "check-ref-format", ref], capture_output=True, check=False).returncode == 0
    assert (names.ref_format_problem(ref) is None) == by_git


@pytest.mark.parametrize("ref", GOOD_REFS)
def test_good_refs_are_returned_unchanged(ref):
    assert names.validate_ref(ref) == ref


@pytest.mark.parametrize("ref", [*BAD_REFS, "heads/main", "--output=/tmp/x/y"])
def test_bad_refs_are_refused_in_one_line(ref):
    with pytest.raises(ValidationError, match="invalid ref") as refused:
        names.validate_ref(ref)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("name", ["main", "master", "feature/login", "v1.0"])
def test_good_branches_are_accepted(name):
    assert names.validate_branch(name) == name


@pytest.mark.parametrize("name", ["-x", "--output=/tmp/x", "HEAD", "a..b", "", "a/", "x.lock", "a b"])
def test_branches_git_would_refuse_are_refused(name):
    by_git = subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True, check=False)
    assert by_git.returncode != 0
    with pytest.raises(ValidationError, match="invalid branch name"):
        names.validate_branch(name)


def test_a_full_object_id_is_accepted():
    assert names.validate_object_id(SHA) == SHA


@pytest.mark.parametrize(
    "text",
    [SHA[:7], SHA + "0", SHA.upper(), "HEAD", "main~1", f"{SHA}^", "--output=/home/dokku/x", "--remote=x",
     "--exec=id", "", f" {SHA}", f"{SHA}\n", "g" * 40],
)  # fmt: skip
def test_anything_but_a_full_object_id_is_refused(text):
    with pytest.raises(ValidationError, match="invalid object id"):
        names.validate_object_id(text)


def test_the_zero_id_only_where_allowed():
    with pytest.raises(ValidationError):
        names.validate_object_id(names.ZERO_OBJECT_ID)
    assert names.validate_object_id(names.ZERO_OBJECT_ID, zero_allowed=True) == names.ZERO_OBJECT_ID


@pytest.mark.parametrize(
    "reference",
    ["nginx", "nginx:1.25", "library/nginx:latest", "minidokku/stack:latest", "dokku/catmeow:v3",
     "127.0.0.1:5000/team/app:1.0", "registry.example.com/a/b_c--d.e:tag-1", f"nginx@sha256:{'a' * 64}",
     f"sha256:{'b' * 64}", "localhost/x"],
)  # fmt: skip
def test_image_references_docker_takes_are_accepted(reference):
    assert names.validate_image_reference(reference) == reference


@pytest.mark.parametrize(
    "reference",
    ["", "-x", "--help", "Nginx", "x/../../containers/victim", "x?force=1", "x#y", "x%2F..", "x:", "x:-tag",
     "x y", "x\n", "/x", "x/", "x//y", f"x@sha256:{'a' * 63}", "a" * 256],
)  # fmt: skip
def test_anything_else_as_an_image_is_refused(reference):
    with pytest.raises(ValidationError, match="invalid image"):
        names.validate_image_reference(reference)

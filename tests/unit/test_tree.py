"""build/tree.py and gitrepo.read_files: a pushed commit's settings files, read from a real
(temporary) git repo by one git command."""

import os
from pathlib import Path

import pytest
from helpers import git

from minidokku.build import gitrepo, tree
from minidokku.build.builders import dockerfile
from minidokku.build.tree import MAX_NGINX_TEMPLATE_CHARACTERS, SettingsFiles
from minidokku.errors import ValidationError

SETTINGS = {
    "Dockerfile": "FROM python:3.12\n",
    "Procfile": "web: python app.py\n",
    "app.json": '{"scripts": {"dokku": {"predeploy": "make"}}}\n',
    "CHECKS": "/ ok\n",
    ".buildpacks": "python\n",
    "nginx.conf.template": "server { listen {{ .NGINX_PORT }}; }\n",
}


@pytest.fixture
def repo(tmp_path) -> Path:
    repo = tmp_path / "app.git"
    git(tmp_path, "init", "-q", "--bare", str(repo))
    return repo


def commit(repo: Path, folder: Path, files: dict[str, str], message: str = "push") -> str:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return gitrepo.commit_directory(repo, folder, "main", message)


def test_the_settings_files_of_a_commit_are_read_by_one_git_command_after_its_size(repo, tmp_path, monkeypatch):
    sha = commit(repo, tmp_path / "tree", {**SETTINGS, "app.py": "print('hi')\n"})
    commands = []
    real_git = gitrepo._git
    monkeypatch.setattr(gitrepo, "_git", lambda args, **kwargs: commands.append(args[0]) or real_git(args, **kwargs))

    files = tree.read(repo, sha)

    assert commands == ["ls-tree", "cat-file"]  # the commit's size, then its files
    assert files == SettingsFiles(
        procfile=SETTINGS["Procfile"],
        app_json=SETTINGS["app.json"],
        checks=SETTINGS["CHECKS"],
        buildpacks=SETTINGS[".buildpacks"],
        nginx_template=SETTINGS["nginx.conf.template"],
        has_dockerfile=True,
    )


def test_a_tree_without_settings_files_has_empty_ones_no_dockerfile_and_no_template(repo, tmp_path):
    sha = commit(repo, tmp_path / "tree", {"app.py": "print('hi')\n", "sub/Procfile": "web: elsewhere\n"})
    assert tree.read(repo, sha) == SettingsFiles()
    assert tree.read(repo, sha).nginx_template is None


def test_a_folder_named_like_a_settings_file_is_no_file(repo, tmp_path):
    sha = commit(repo, tmp_path / "tree", {"Dockerfile/README": "a folder\n", "Procfile/x": "y\n"})
    files = tree.read(repo, sha)
    assert (files.has_dockerfile, files.procfile) == (False, "")


def test_an_empty_template_is_a_template_and_an_empty_dockerfile_a_dockerfile(repo, tmp_path):
    sha = commit(repo, tmp_path / "tree", {"nginx.conf.template": "", "Dockerfile": ""})
    files = tree.read(repo, sha)
    assert (files.nginx_template, files.has_dockerfile) == ("", True)


def test_a_template_longer_than_routing_accepts_is_kept_one_character_beyond(repo, tmp_path):
    sha = commit(repo, tmp_path / "tree", {"nginx.conf.template": "#" * (3 * MAX_NGINX_TEMPLATE_CHARACTERS)})
    assert tree.read(repo, sha).nginx_template == "#" * (MAX_NGINX_TEMPLATE_CHARACTERS + 1)


def test_a_link_is_read_as_the_text_of_its_target_path(repo, tmp_path):
    folder = tmp_path / "tree"
    folder.mkdir()
    os.symlink("/etc/passwd", folder / "Procfile")
    sha = commit(repo, folder, {"Dockerfile": "FROM x\n"})
    assert tree.read(repo, sha).procfile == "/etc/passwd"


def test_read_files_answers_each_path_in_order_whatever_the_contents_hold(repo, tmp_path):
    tricky = {
        "a": "x missing\n\nblob 12\n",  # the words and line breaks of git's own answers
        "b": "",
        "c": "\n\n\n",
        "d": "caf\u00e9 \xff\n",
    }
    sha = commit(repo, tmp_path / "tree", tricky)
    paths = ["a", "nothing", "b", "c", "nothing/deeper", "d"]
    assert gitrepo.read_files(repo, sha, paths) == {
        "a": tricky["a"],
        "nothing": None,
        "b": "",
        "c": "\n\n\n",
        "nothing/deeper": None,
        "d": tricky["d"],
    }


def test_read_files_refuses_a_path_with_a_line_break(repo, tmp_path):
    sha = commit(repo, tmp_path / "tree", {"a": "1\n"})
    with pytest.raises(ValidationError, match="line break"):
        gitrepo.read_files(repo, sha, ["a\nHEAD:a"])


def test_read_files_of_a_commit_the_repo_does_not_have_finds_nothing(repo):
    assert gitrepo.read_files(repo, "f" * 40, ["Procfile"]) == {"Procfile": None}


def test_the_dockerfile_a_build_reads_is_the_archived_one_which_export_subst_can_change(repo, tmp_path):
    """Why the tree's Dockerfile text is not kept: the engine builds the archive's file."""
    files = {"Dockerfile": "FROM $Format:%s$\n", ".gitattributes": "Dockerfile export-subst\n"}
    sha = commit(repo, tmp_path / "tree", files, message="evil:latest")
    assert gitrepo.read_file(repo, sha, "Dockerfile") == "FROM $Format:%s$\n"
    assert dockerfile.dockerfile_text(gitrepo.archive(repo, sha, prefix="")) == "FROM evil:latest\n"


def test_a_commit_too_large_to_build_is_refused_before_its_files_are_read(repo, tmp_path, monkeypatch):
    sha = commit(repo, tmp_path / "tree", {"Procfile": "web: x\n" + "#" * 200_000})
    monkeypatch.setattr(gitrepo, "MAX_TREE_BYTES", 100_000)
    monkeypatch.setattr(gitrepo, "read_files", lambda *args: pytest.fail("read a file of a commit too large"))
    with pytest.raises(ValidationError, match="files add up to 0 MiB unpacked"):
        tree.read(repo, sha)


def test_the_files_of_a_ready_image_are_settings_files_without_a_dockerfile_or_template():
    texts = {"Procfile": "web: run\n", "app.json": "{}", "CHECKS": ""}
    assert tree.settings_files(texts) == SettingsFiles(procfile="web: run\n", app_json="{}")


@pytest.mark.parametrize("path", ["Dockerfile", ".dokku/Dockerfile", "apps/web app/Dockerfile.prod", "a" * 255])
def test_a_settings_path_is_a_relative_path_inside_the_tree(path):
    assert tree.tree_path(path, "dockerfile-path") == path


@pytest.mark.parametrize(
    "path",
    ["", "/etc/passwd", "../Dockerfile", "a/../../x", "./Dockerfile", "a/./b", "a//b", "a/", "-x", "a/--output=x",
     "a\nb", "a\x00b", "a\\b", "a\tb", "a" * 256],
)  # fmt: skip
def test_a_settings_path_leaving_the_tree_or_breaking_a_line_is_refused(path):
    with pytest.raises(ValidationError, match="appjson-path must be a relative path inside the repository"):
        tree.tree_path(path, "appjson-path")


def test_the_dockerfile_and_app_json_are_read_where_their_paths_say(repo, tmp_path):
    files = {
        "Dockerfile": "FROM top\n",
        "app.json": '{"top": 1}',
        "svc/Dockerfile.web": "FROM svc\n",
        "svc/app.json": "{}",
    }
    sha = commit(repo, tmp_path / "tree", files)
    found = tree.read(repo, sha, dockerfile="svc/Dockerfile.web", app_json="svc/app.json")
    assert (found.has_dockerfile, found.app_json) == (True, "{}")
    missing = tree.read(repo, sha, dockerfile="svc/Dockerfile", app_json="svc/none.json")
    assert (missing.has_dockerfile, missing.app_json) == (False, "")


def test_a_settings_path_through_a_linked_folder_finds_nothing_of_the_host(repo, tmp_path):
    """git resolves COMMIT:PATH in its own tree: a link on the way is not followed, so a pushed
    `etc -> /etc` with appjson-path etc/passwd reads no host file."""
    folder = tmp_path / "tree"
    folder.mkdir()
    os.symlink("/etc", folder / "etc")
    os.symlink("/etc/passwd", folder / "passwd.json")
    sha = commit(repo, folder, {"Procfile": "web: x\n"})
    assert tree.read(repo, sha, dockerfile="etc/hostname", app_json="etc/passwd") == SettingsFiles(procfile="web: x\n")
    assert tree.read(repo, sha, app_json="passwd.json").app_json == "/etc/passwd"  # the link's own text


def test_reading_refuses_a_path_that_leaves_the_tree_before_git_runs(repo, tmp_path, monkeypatch):
    sha = commit(repo, tmp_path / "tree", {"Procfile": "web: x\n"})
    monkeypatch.setattr(gitrepo, "read_files", lambda *args: pytest.fail("asked git for a path outside the tree"))
    with pytest.raises(ValidationError, match="dockerfile-path"):
        tree.read(repo, sha, dockerfile="../../../etc/passwd")


def test_a_dockerfile_path_through_a_linked_folder_of_the_context_is_missing(repo, tmp_path):
    folder = tmp_path / "tree"
    folder.mkdir()
    os.symlink("/etc", folder / "etc")
    os.symlink("/etc/passwd", folder / "Dockerfile.link")
    sha = commit(repo, folder, {"Dockerfile": "FROM x\n"})
    context = gitrepo.archive(repo, sha, prefix="")
    with pytest.raises(ValidationError, match="the tree has no etc/passwd"):
        dockerfile.dockerfile_text(context, "etc/passwd")
    with pytest.raises(ValidationError, match="Dockerfile.link must be a file, not a link"):
        dockerfile.dockerfile_text(context, "Dockerfile.link")


def test_the_procfile_is_read_at_its_path_and_a_path_out_of_the_tree_is_refused(repo, tmp_path, monkeypatch):
    sha = commit(repo, tmp_path / "tree", {"Procfile": "web: top\n", ".dokku/Procfile": "web: chosen\n"})
    assert tree.read(repo, sha, procfile=".dokku/Procfile").procfile == "web: chosen\n"
    assert tree.read(repo, sha, procfile="nosuch/Procfile").procfile == ""
    assert tree.paths(procfile=".dokku/Procfile")[1] == ".dokku/Procfile"
    monkeypatch.setattr(gitrepo, "read_files", lambda *args: pytest.fail("asked git for a path outside the tree"))
    for path in ("../Procfile", "/etc/passwd", "-x", ".dokku/../../Procfile"):
        with pytest.raises(ValidationError, match="procfile-path must be a relative path inside the repository"):
            tree.read(repo, sha, procfile=path)

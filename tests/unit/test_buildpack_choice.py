import shutil
from pathlib import Path

import pytest
from helpers import git
from servers import RecordingServer

from minidokku.access import rules
from minidokku.build import buildpack_choice
from minidokku.build.builders.buildpacks import bundled_buildpacks_dir, default_order
from minidokku.build.buildpack_choice import CACHE, Buildpack, add, app_list, choose, clear, parse, plan, remove, set_
from minidokku.errors import BuildFailed, NotFound, ValidationError
from minidokku.state import Store

APP = "shop"


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(tmp_path / "root")
    (store.app_dir(APP)).mkdir(parents=True)
    (store.app_dir(APP) / "HEAD").write_text("ref: refs/heads/main\n")
    return store


def make_buildpack_repo(path: Path, compile_text: str = "v1") -> Path:
    """A git repo with bin/detect and bin/compile, committed on main."""
    (path / "bin").mkdir(parents=True)
    (path / "bin" / "detect").write_text("#!/bin/sh\necho Test\n")
    (path / "bin" / "compile").write_text(f"#!/bin/sh\necho {compile_text}\n")
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "A buildpack")
    return path


def commit_compile(repo: Path, text: str) -> None:
    (repo / "bin" / "compile").write_text(f"#!/bin/sh\necho {text}\n")
    git(repo, "commit", "-q", "-am", f"compile says {text}")


@pytest.fixture
def buildpack_repo(tmp_path) -> Path:
    """A buildpack whose tag v1 says `v1` and whose main (one commit later) says `v2`."""
    repo = make_buildpack_repo(tmp_path / "buildpack-test")
    git(repo, "tag", "v1")
    commit_compile(repo, "v2")
    return repo


def compile_of(folder: Path) -> str:
    return (folder / "bin" / "compile").read_text()


# -- parse -------------------------------------------------------------------------------------
def test_our_own_name_is_a_bundled_buildpack():
    assert parse("python") == Buildpack(name="python", bundled="python")


def test_heroku_shorthand_names_our_bundled_buildpack():
    buildpack = parse("heroku/python")
    assert buildpack.bundled == "python"
    assert buildpack.url == ""
    assert buildpack.name == "heroku/python"
    assert buildpack.label == "python"


def test_surrounding_whitespace_is_ignored():
    assert parse("  python\n").bundled == "python"


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/heroku/heroku-buildpack-ruby.git",
        "http://example.com/buildpack",
        "git://example.com/buildpack.git",
        "ssh://git@example.com/team/buildpack.git",
        "file:///srv/buildpacks/custom",
    ],
)
def test_git_urls_without_a_ref_are_accepted(url):
    buildpack = parse(url)
    assert (buildpack.url, buildpack.ref, buildpack.bundled) == (url, "", "")


@pytest.mark.parametrize(
    ("text", "url", "ref"),
    [
        ("https://github.com/heroku/buildpack-ruby.git#v250", "https://github.com/heroku/buildpack-ruby.git", "v250"),
        ("git://example.com/bp.git#release/1.2_x", "git://example.com/bp.git", "release/1.2_x"),
        ("ssh://git@example.com/bp.git#0123abcd", "ssh://git@example.com/bp.git", "0123abcd"),
        ("file:///srv/bp#main", "file:///srv/bp", "main"),
    ],
)  # fmt: skip
def test_git_urls_with_a_ref_are_split_at_the_hash(text, url, ref):
    buildpack = parse(text)
    assert (buildpack.name, buildpack.url, buildpack.ref) == (text, url, ref)


def test_label_of_a_url_is_its_last_path_part_without_dot_git():
    assert parse("https://github.com/heroku/heroku-buildpack-ruby.git#v1").label == "heroku-buildpack-ruby"
    assert parse("https://example.com/team/custom/").label == "custom"


@pytest.mark.parametrize(
    "text",
    [
        "--upload-pack=touch /tmp/owned",
        "--upload-pack=x",
        "-c",
        "-uhttps://example.com/bp.git",
        "https://example.com/a buildpack.git",
        "python nodejs",
        "ruby",
        "heroku/ruby",
        "heroku/",
        "",
        "ftp://example.com/bp.git",
        "example.com/bp.git",
        "https://example.com/bp.git#",
        "https://example.com/bp.git#$(reboot)",
        "https://example.com/bp.git#a;b",
        "https://example.com/bp.git#a b",
        "https://example.com/bp.git#v1#v2",
        "https://example.com/bp.git#ref`id`",
        "https://example.com/bp.git#ref=x",
    ],
)
def test_anything_else_is_refused_naming_what_is_accepted(text):
    with pytest.raises(ValidationError, match="unknown buildpack") as error:
        parse(text)
    assert "https://" in str(error.value)
    assert "python" in str(error.value)


def test_overlong_text_is_refused_and_the_message_is_cut_short():
    text = "https://example.com/" + "a" * 500
    with pytest.raises(ValidationError) as error:
        parse(text)
    assert len(str(error.value)) < 300


def test_a_url_of_exactly_the_maximum_length_is_accepted():
    text = "https://example.com/" + "a" * (buildpack_choice.MAX_LENGTH - len("https://example.com/"))
    assert parse(text).url == text


def test_a_ref_starting_with_a_dash_is_refused():
    with pytest.raises(ValidationError):
        parse("https://example.com/bp.git#--detach")


# -- the app's list ----------------------------------------------------------------------------
def test_an_app_without_a_list_has_an_empty_list(store):
    assert app_list(store, APP) == []


def test_add_appends_and_is_kept_in_the_apps_buildpacks_file(store):
    add(store, APP, "python")
    add(store, APP, "https://example.com/bp.git#v1")
    assert app_list(store, APP) == ["python", "https://example.com/bp.git#v1"]
    assert store.path(APP, "BUILDPACKS").read_text() == "python\nhttps://example.com/bp.git#v1\n"


def test_add_with_an_index_inserts_at_that_1_based_position(store):
    add(store, APP, "python")
    add(store, APP, "https://example.com/first.git", index=1)
    add(store, APP, "https://example.com/middle.git", index=2)
    add(store, APP, "https://example.com/last.git", index=4)
    assert app_list(store, APP) == [
        "https://example.com/first.git",
        "https://example.com/middle.git",
        "python",
        "https://example.com/last.git",
    ]


@pytest.mark.parametrize("index", [0, -1, 3])
def test_add_with_an_index_out_of_range_is_refused_and_changes_nothing(store, index):
    add(store, APP, "python")
    with pytest.raises(ValidationError, match="--index must be from 1 to 2"):
        add(store, APP, "https://example.com/bp.git", index=index)
    assert app_list(store, APP) == ["python"]


def test_add_of_a_buildpack_already_listed_is_refused(store):
    add(store, APP, "python")
    with pytest.raises(ValidationError, match="already uses the buildpack python"):
        add(store, APP, "python")
    assert app_list(store, APP) == ["python"]


def test_add_of_an_invalid_buildpack_is_refused_and_changes_nothing(store):
    add(store, APP, "python")
    with pytest.raises(ValidationError):
        add(store, APP, "--upload-pack=x")
    assert app_list(store, APP) == ["python"]


def test_set_without_an_index_replaces_the_first(store):
    add(store, APP, "python")
    add(store, APP, "https://example.com/second.git")
    set_(store, APP, "https://example.com/first.git")
    assert app_list(store, APP) == ["https://example.com/first.git", "https://example.com/second.git"]


def test_set_on_an_empty_list_adds_the_buildpack(store):
    set_(store, APP, "python")
    assert app_list(store, APP) == ["python"]


def test_set_with_an_index_replaces_that_position(store):
    add(store, APP, "python")
    add(store, APP, "https://example.com/second.git")
    set_(store, APP, "https://example.com/other.git", index=2)
    assert app_list(store, APP) == ["python", "https://example.com/other.git"]


@pytest.mark.parametrize("index", [3, -1])
def test_set_with_an_index_out_of_range_is_refused_and_changes_nothing(store, index):
    add(store, APP, "python")
    add(store, APP, "https://example.com/second.git")
    with pytest.raises(ValidationError, match="--index must be from 1 to 2"):
        set_(store, APP, "https://example.com/other.git", index=index)
    assert app_list(store, APP) == ["python", "https://example.com/second.git"]


def test_set_with_index_zero_is_refused(store):
    add(store, APP, "python")
    add(store, APP, "https://example.com/second.git")
    with pytest.raises(ValidationError):
        set_(store, APP, "https://example.com/other.git", index=0)


def test_set_of_an_invalid_buildpack_is_refused(store):
    add(store, APP, "python")
    with pytest.raises(ValidationError):
        set_(store, APP, "not a buildpack")
    assert app_list(store, APP) == ["python"]


def test_remove_by_name(store):
    add(store, APP, "python")
    add(store, APP, "https://example.com/bp.git")
    remove(store, APP, "python")
    assert app_list(store, APP) == ["https://example.com/bp.git"]


def test_remove_by_index(store):
    add(store, APP, "python")
    add(store, APP, "https://example.com/bp.git")
    remove(store, APP, index=2)
    assert app_list(store, APP) == ["python"]


def test_remove_of_a_buildpack_not_listed_is_not_found(store):
    add(store, APP, "python")
    with pytest.raises(NotFound, match="does not use the buildpack https://example.com/bp.git"):
        remove(store, APP, "https://example.com/bp.git")
    assert app_list(store, APP) == ["python"]


@pytest.mark.parametrize("index", [0, 2, -1])
def test_remove_with_an_index_out_of_range_is_refused(store, index):
    add(store, APP, "python")
    with pytest.raises(ValidationError, match="--index must be from 1 to 1"):
        remove(store, APP, index=index)
    assert app_list(store, APP) == ["python"]


def test_clear_empties_the_list_and_removes_the_file(store):
    add(store, APP, "python")
    clear(store, APP)
    assert app_list(store, APP) == []
    assert not store.path(APP, "BUILDPACKS").exists()


def test_clear_of_an_empty_list_is_fine(store):
    clear(store, APP)
    assert app_list(store, APP) == []


# -- choose ------------------------------------------------------------------------------------
def test_choose_prefers_the_apps_list_over_config_and_dot_buildpacks(store):
    add(store, APP, "python")
    env = {"BUILDPACK_URL": "https://example.com/from-config.git"}
    chosen, origin = choose(store, APP, env, "https://example.com/from-file.git\n")
    assert (chosen, origin) == ([parse("python")], "buildpacks:set")


def test_choose_prefers_buildpack_url_over_dot_buildpacks(store):
    env = {"BUILDPACK_URL": "https://example.com/from-config.git#v2"}
    chosen, origin = choose(store, APP, env, "https://example.com/from-file.git\n")
    assert (chosen, origin) == ([parse("https://example.com/from-config.git#v2")], "BUILDPACK_URL")


def test_choose_ignores_a_blank_buildpack_url(store):
    chosen, origin = choose(store, APP, {"BUILDPACK_URL": "  "}, "python\n")
    assert (chosen, origin) == ([parse("python")], ".buildpacks")


def test_choose_reads_dot_buildpacks_skipping_comments_and_blank_lines(store):
    text = "# our buildpacks\n\nhttps://example.com/first.git#v1\n   \n  heroku/python  \r\n# the end\n"
    chosen, origin = choose(store, APP, {}, text)
    assert origin == ".buildpacks"
    assert chosen == [parse("https://example.com/first.git#v1"), parse("heroku/python")]


def test_choose_ignores_an_indented_comment_in_dot_buildpacks(store):
    chosen, _origin = choose(store, APP, {}, "  # indented comment\npython\n")
    assert chosen == [parse("python")]


def test_choose_with_nothing_named_is_detection(store):
    assert choose(store, APP, {}, "") == ([], "detection")
    assert choose(store, APP, {"OTHER": "x"}, "# only a comment\n\n") == ([], "detection")


def test_choose_refuses_an_invalid_name_from_dot_buildpacks(store):
    with pytest.raises(ValidationError, match="unknown buildpack"):
        choose(store, APP, {}, "--upload-pack=x\n")


# -- plan --------------------------------------------------------------------------------------
def test_plan_of_nothing_chosen_detects_with_ours_in_order(store):
    result = plan(store, APP, [])
    assert result.selection == "detect"
    assert result.buildpacks == [(name, bundled_buildpacks_dir() / name) for name in default_order()]


def test_plan_maps_our_names_to_the_bundled_folders(store):
    result = plan(store, APP, [parse("heroku/python"), parse("python")])
    assert result.selection == "given"
    assert result.buildpacks == [("python", bundled_buildpacks_dir() / "python")] * 2
    assert (bundled_buildpacks_dir() / "python" / "bin" / "compile").is_file()
    assert not (store.app_dir(APP) / CACHE).exists()


def test_plan_fetches_a_git_url_into_the_cache_without_its_git_folder(store, buildpack_repo):
    result = plan(store, APP, [parse(f"file://{buildpack_repo}")])
    [(label, folder)] = result.buildpacks
    assert label == "buildpack-test"
    assert folder.parent == store.app_dir(APP) / CACHE
    assert compile_of(folder) == "#!/bin/sh\necho v2\n"
    assert (folder / "bin" / "detect").is_file()
    assert not (folder / ".git").exists()
    assert [p.name for p in (store.app_dir(APP) / CACHE).iterdir()] == [folder.name]  # no scratch folder left


def test_plan_fetches_a_buildpack_only_once(store, buildpack_repo):
    chosen = [parse(f"file://{buildpack_repo}#v1")]
    first = plan(store, APP, chosen)
    shutil.rmtree(buildpack_repo)
    second = plan(store, APP, chosen)
    assert second == first
    assert compile_of(second.buildpacks[0][1]) == "#!/bin/sh\necho v1\n"


def test_plan_fetches_a_tag(store, buildpack_repo):
    [(_label, folder)] = plan(store, APP, [parse(f"file://{buildpack_repo}#v1")]).buildpacks
    assert compile_of(folder) == "#!/bin/sh\necho v1\n"


def test_plan_fetches_a_commit(store, buildpack_repo):
    v1 = git(buildpack_repo, "rev-parse", "v1^{commit}").stdout.strip()
    commit_compile(buildpack_repo, "v3")
    [(_label, folder)] = plan(store, APP, [parse(f"file://{buildpack_repo}#{v1}")]).buildpacks
    assert compile_of(folder) == "#!/bin/sh\necho v1\n"


def test_plan_keeps_each_ref_of_a_url_in_its_own_folder(store, buildpack_repo):
    result = plan(store, APP, [parse(f"file://{buildpack_repo}#v1"), parse(f"file://{buildpack_repo}")])
    [(_, tagged), (_, default)] = result.buildpacks
    assert tagged != default
    assert compile_of(tagged) == "#!/bin/sh\necho v1\n"
    assert compile_of(default) == "#!/bin/sh\necho v2\n"


def test_plan_refuses_a_repo_that_is_not_a_buildpack(store, tmp_path):
    repo = tmp_path / "not-a-buildpack"
    repo.mkdir()
    (repo / "README").write_text("hello\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "no bin")
    with pytest.raises(BuildFailed, match="is not a buildpack"):
        plan(store, APP, [parse(f"file://{repo}")])


def test_plan_refuses_a_repo_with_detect_but_no_compile(store, tmp_path):
    repo = make_buildpack_repo(tmp_path / "half")
    git(repo, "rm", "-q", "bin/compile")
    git(repo, "commit", "-q", "-m", "no compile")
    with pytest.raises(BuildFailed, match="is not a buildpack"):
        plan(store, APP, [parse(f"file://{repo}")])


def test_plan_of_a_missing_url_fails_the_build_and_caches_nothing(store, tmp_path):
    with pytest.raises(BuildFailed, match="could not fetch the buildpack"):
        plan(store, APP, [parse(f"file://{tmp_path}/nowhere.git")])
    assert list((store.app_dir(APP) / CACHE).iterdir()) == []


def test_plan_of_a_missing_ref_fails_the_build(store, buildpack_repo):
    with pytest.raises(BuildFailed, match="could not fetch the buildpack .*#no-such-ref"):
        plan(store, APP, [parse(f"file://{buildpack_repo}#no-such-ref")])


@pytest.fixture
def inside_a_pre_receive_hook(tmp_path, monkeypatch):
    """git's variables as a pre-receive hook sees them, pointing at another repo."""
    other = tmp_path / "app.git"
    git(tmp_path, "init", "-q", "--bare", str(other))
    quarantine = other / "objects" / "tmp_objdir-incoming-xyz"
    quarantine.mkdir()
    monkeypatch.setenv("GIT_DIR", str(other))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(quarantine))
    monkeypatch.setenv("GIT_QUARANTINE_PATH", str(quarantine))
    monkeypatch.setenv("GIT_ALTERNATE_OBJECT_DIRECTORIES", str(other / "objects"))


@pytest.mark.parametrize("ref", ["", "#v1"])
def test_plan_fetches_a_branch_or_tag_inside_a_pre_receive_hook(store, buildpack_repo, ref, request):
    request.getfixturevalue("inside_a_pre_receive_hook")
    [(_label, folder)] = plan(store, APP, [parse(f"file://{buildpack_repo}{ref}")]).buildpacks
    assert (folder / "bin" / "compile").is_file()


def test_plan_fetches_a_commit_inside_a_pre_receive_hook(store, buildpack_repo, request):
    v1 = git(buildpack_repo, "rev-parse", "v1^{commit}").stdout.strip()
    request.getfixturevalue("inside_a_pre_receive_hook")
    [(_label, folder)] = plan(store, APP, [parse(f"file://{buildpack_repo}#{v1}")]).buildpacks
    assert compile_of(folder) == "#!/bin/sh\necho v1\n"


# -- links in a fetched buildpack --------------------------------------------------------------
def test_a_buildpack_whose_compile_links_out_of_it_is_refused_without_reading_the_target(store, tmp_path):
    secret = tmp_path / "victim" / "ENV"
    secret.parent.mkdir()
    secret.write_text("export SECRET='s3cret'\n")
    repo = make_buildpack_repo(tmp_path / "evil")
    (repo / "bin" / "compile").unlink()
    (repo / "bin" / "compile").symlink_to(secret)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "compile is the victim's ENV")
    with pytest.raises(BuildFailed, match="bin/compile is missing or links out of it") as error:
        plan(store, APP, [parse(f"file://{repo}")])
    assert "s3cret" not in str(error.value)


def test_a_buildpack_whose_compile_links_inside_it_is_accepted(store, tmp_path):
    repo = make_buildpack_repo(tmp_path / "linked")
    (repo / "lib").mkdir()
    (repo / "bin" / "compile").rename(repo / "lib" / "compile.sh")
    (repo / "bin" / "compile").symlink_to("../lib/compile.sh")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "compile is a link")
    [(_label, folder)] = plan(store, APP, [parse(f"file://{repo}")]).buildpacks
    assert (folder / "bin" / "compile").is_symlink()


# -- a tenant app's buildpacks -----------------------------------------------------------------
@pytest.fixture
def tenant_store(store) -> Store:
    """The app is granted to a user key: the tenant rules apply, whoever builds it."""
    rules.grant(store, APP, "eve")
    return store


REFUSED_FOR_TENANTS = ["file:///home/dokku/victim", "ssh://git@example.com/bp.git", "file:///srv/bp#main"]


@pytest.mark.parametrize("url", REFUSED_FOR_TENANTS)
def test_a_tenant_apps_buildpacks_come_from_no_local_or_ssh_url_whatever_names_them(tenant_store, url):
    for env, dot_buildpacks, source in [({"BUILDPACK_URL": url}, "", "BUILDPACK_URL"), ({}, f"{url}\n", ".buildpacks")]:
        with pytest.raises(ValidationError, match=f"^{source}: .* only https://, http:// or git:// URLs"):
            choose(tenant_store, APP, env, dot_buildpacks)
    for change in (add, set_):
        with pytest.raises(ValidationError, match="only https://, http:// or git:// URLs"):
            change(tenant_store, APP, url)
    assert app_list(tenant_store, APP) == []


def test_a_tenant_apps_list_set_before_it_was_granted_is_checked_at_the_build(store):
    add(store, APP, "file:///srv/buildpacks/custom")
    rules.grant(store, APP, "eve")
    with pytest.raises(ValidationError, match="^buildpacks:set: 'file:///srv/buildpacks/custom' is not allowed"):
        choose(store, APP, {}, "")


def test_a_tenant_app_keeps_https_and_our_own_buildpacks(tenant_store):
    text = "https://github.com/heroku/heroku-buildpack-nodejs.git#v250\npython\n"
    chosen, _ = choose(tenant_store, APP, {}, text)
    assert [bp.name for bp in chosen] == ["https://github.com/heroku/heroku-buildpack-nodejs.git#v250", "python"]


def test_a_tenant_apps_buildpack_on_the_hosts_loopback_is_never_asked_for(tenant_store):
    with RecordingServer("127.0.0.1") as service:
        for host in ("127.0.0.1", "localhost"):
            [buildpack] = choose(tenant_store, APP, {}, service.url("/bp.git", host=host))[0]
            with pytest.raises(BuildFailed, match="could not fetch the buildpack .* a loopback address"):
                plan(tenant_store, APP, [buildpack])
    assert service.requests == []
    assert not (tenant_store.app_dir(APP) / CACHE).exists()


def test_each_app_has_its_own_cache(store, buildpack_repo):
    other = "other"
    store.app_dir(other).mkdir()
    chosen = [parse(f"file://{buildpack_repo}")]
    [(_, mine)] = plan(store, APP, chosen).buildpacks
    commit_compile(buildpack_repo, "v3")  # the branch moves
    [(_, theirs)] = plan(store, other, chosen).buildpacks
    assert mine.parent == store.app_dir(APP) / CACHE and theirs.parent == store.app_dir(other) / CACHE
    assert (compile_of(mine), compile_of(theirs)) == ("#!/bin/sh\necho v2\n", "#!/bin/sh\necho v3\n")


def test_a_buildpack_fetched_as_trusted_is_not_reused_once_the_app_is_a_tenants(store, buildpack_repo):
    chosen = [parse(f"file://{buildpack_repo}")]
    plan(store, APP, chosen)
    rules.grant(store, APP, "eve")
    with pytest.raises(BuildFailed, match="could not fetch the buildpack .* is not allowed for a tenant app"):
        plan(store, APP, chosen)


def test_a_label_from_a_url_is_safe_for_a_folder_name():
    assert parse("https://example.com/a/b%20c$(x).git").label == "b-20c--x-"
    assert parse("https://example.com/" + "x" * 300).label == "x" * 40
    assert parse("https://example.com/..").label == "buildpack"

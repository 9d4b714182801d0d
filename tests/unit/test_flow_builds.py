"""build/builds.py, the build step of a deploy: which builder a commit gets, and what it is given
(the tree's settings files read once, the app's build options, the tenant rule). The commit is a
real one in the app's (temporary) repo; the two builders are replaced by recorders, since running
them is the integration tests' part."""

import tarfile
from io import BytesIO

import pytest
from fakes import make_flow

from minidokku.access import rules
from minidokku.build import builds, gitrepo
from minidokku.build.builders import DOCKERFILE, HEROKUISH, BuildResult, buildpacks, dockerfile
from minidokku.errors import BuildFailed, ValidationError
from minidokku.records import docker_options, properties, ps_settings
from minidokku.records.appjson import AppJson


@pytest.fixture
def flow(tmp_path, monkeypatch):
    flow = make_flow(tmp_path / "root", monkeypatch)
    flow.create_app("catmeow")
    return flow


@pytest.fixture
def builders(monkeypatch) -> list[tuple[str, dict]]:
    """Each builder run as (builder, the arguments it got); each returns an image named after it."""
    runs: list[tuple[str, dict]] = []

    def recorder(name: str):
        def build(*args, **kwargs):
            runs.append((name, {"args": args, **kwargs}))
            return BuildResult(f"sha256:{name}", {"web": ""}, AppJson(), "", builder=name)

        return build

    monkeypatch.setattr(dockerfile, "build", recorder(DOCKERFILE))
    monkeypatch.setattr(buildpacks, "build", recorder(HEROKUISH))
    return runs


def push(flow, tmp_path, files: dict[str, str]) -> str:
    folder = tmp_path / "tree"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return gitrepo.commit_directory(flow.ctx.store.app_dir("catmeow"), folder, "main", "push")


def test_a_commit_with_a_dockerfile_gets_the_dockerfile_builder_with_its_files_and_whole_tree(flow, builders, tmp_path):
    files = {"Dockerfile": "FROM minidokku/stack\n", "Procfile": "web: serve\n", "nginx.conf.template": "server {}\n"}
    sha = push(flow, tmp_path, files)
    result = builds.build_commit(flow.ctx, "catmeow", sha, {})
    [(builder, given)] = builders
    assert builder == DOCKERFILE
    context, settings = given["args"][2], given["args"][3]
    with tarfile.open(fileobj=BytesIO(context)) as archive:
        assert sorted(archive.getnames()) == ["Dockerfile", "Procfile", "nginx.conf.template"]
    assert settings.procfile == "web: serve\n"
    assert given["tenant"] is False
    assert result.image_id == f"sha256:{DOCKERFILE}"
    assert result.nginx_template == "server {}\n"  # carried to the release: routing reads no git


def test_a_commit_without_a_dockerfile_gets_the_buildpacks_with_the_ones_its_buildpacks_file_names(
    flow, builders, tmp_path
):
    sha = push(flow, tmp_path, {"app.py": "", ".buildpacks": "python\n"})
    result = builds.build_commit(flow.ctx, "catmeow", sha, {"K": "v"})
    [(builder, given)] = builders
    assert builder == HEROKUISH
    assert given["sha"] == sha and given["config"] == {"K": "v"}
    assert [label for label, _folder in given["plan"].buildpacks] == ["python"]
    assert "Buildpacks from .buildpacks: python" in flow.output
    assert result.nginx_template is None


def test_builder_set_wins_over_the_dockerfile(flow, builders, tmp_path):
    properties.set_value(flow.ctx.store, "catmeow", builds.SELECTED, HEROKUISH)
    sha = push(flow, tmp_path, {"Dockerfile": "FROM minidokku/stack\n"})
    builds.build_commit(flow.ctx, "catmeow", sha, {})
    assert [builder for builder, _ in builders] == [HEROKUISH]


def test_the_dockerfile_builder_on_a_commit_without_one_is_refused_before_any_build(flow, builders, tmp_path):
    properties.set_value(flow.ctx.store, "catmeow", builds.SELECTED, DOCKERFILE)
    sha = push(flow, tmp_path, {"app.py": ""})
    with pytest.raises(ValidationError, match="the commit has no Dockerfile"):
        builds.build_commit(flow.ctx, "catmeow", sha, {})
    assert builders == []


def test_an_unknown_builder_is_refused_and_the_choice_stays(flow):
    properties.set_value(flow.ctx.store, "catmeow", builds.SELECTED, DOCKERFILE)
    with pytest.raises(ValidationError, match="unknown builder 'pack'"):
        properties.set_value(flow.ctx.store, "catmeow", builds.SELECTED, "pack")
    assert properties.own_value(flow.ctx.store, "catmeow", builds.SELECTED) == DOCKERFILE


def test_the_build_gets_the_global_then_the_apps_build_options(flow, builders, tmp_path):
    docker_options.add(flow.ctx.store, None, ["build"], "--build-arg WHO=everyone")
    docker_options.add(flow.ctx.store, "catmeow", ["build"], "--build-arg WHO=catmeow")
    docker_options.add(flow.ctx.store, "catmeow", ["deploy"], "--build-arg DEPLOY=only")
    sha = push(flow, tmp_path, {"Dockerfile": "FROM minidokku/stack\n"})
    builds.build_commit(flow.ctx, "catmeow", sha, {})
    [(_builder, given)] = builders
    assert given["args"][5].build_args == {"WHO": "catmeow"}  # the app's line comes later and wins


def test_a_tenants_dockerfile_build_is_told_so_and_its_host_options_are_left_out(flow, builders, tmp_path):
    docker_options.add(flow.ctx.store, None, ["build"], "-v /srv/shared:/shared")
    rules.grant(flow.ctx.store, "catmeow", "mallory")
    sha = push(flow, tmp_path, {"Dockerfile": "FROM minidokku/stack\n"})
    builds.build_commit(flow.ctx, "catmeow", sha, {})
    [(_builder, given)] = builders
    assert given["tenant"] is True
    assert given["args"][5].binds == []
    assert "Not applied to catmeow, a user key's app" in flow.output


def test_the_dockerfile_path_picks_the_builder_and_is_what_the_engine_is_told_to_build(flow, builders, tmp_path):
    properties.set_value(flow.ctx.store, "catmeow", builds.DOCKERFILE_PATH, "deploy/Dockerfile.web")
    folder = tmp_path / "tree" / "deploy"
    folder.mkdir(parents=True)
    sha = push(flow, tmp_path, {"deploy/Dockerfile.web": "FROM minidokku/stack\n", "app.py": ""})
    builds.build_commit(flow.ctx, "catmeow", sha, {})
    [(builder, given)] = builders
    assert (builder, given["path"]) == (DOCKERFILE, "deploy/Dockerfile.web")
    assert "Building with the Dockerfile at deploy/Dockerfile.web" in flow.output


def test_a_dockerfile_path_the_commit_lacks_means_no_dockerfile(flow, builders, tmp_path):
    properties.set_value(flow.ctx.store, None, builds.DOCKERFILE_PATH, "Dockerfile.prod")
    sha = push(flow, tmp_path, {"Dockerfile": "FROM minidokku/stack\n"})
    builds.build_commit(flow.ctx, "catmeow", sha, {})
    assert [builder for builder, _ in builders] == [HEROKUISH]  # the global path, which the commit lacks
    properties.set_value(flow.ctx.store, "catmeow", builds.SELECTED, DOCKERFILE)
    with pytest.raises(ValidationError, match="the commit has no Dockerfile.prod"):
        builds.build_commit(flow.ctx, "catmeow", sha, {})


def test_the_app_json_path_is_the_app_json_the_build_carries(flow, builders, tmp_path):
    (tmp_path / "tree" / "ops").mkdir(parents=True)
    sha = push(flow, tmp_path, {"app.json": '{"top": true}', "ops/app.json": '{"ops": true}', "app.py": ""})
    properties.set_value(flow.ctx.store, None, builds.APPJSON_PATH, "none.json")
    properties.set_value(flow.ctx.store, "catmeow", builds.APPJSON_PATH, "ops/app.json")
    builds.build_commit(flow.ctx, "catmeow", sha, {})
    [(_builder, given)] = builders
    assert given["files"].app_json == '{"ops": true}'  # the app's own value wins over the global one


def test_a_refused_herokuish_builder_fails_the_build_before_it_runs(flow, builders, tmp_path):
    properties.set_value(flow.ctx.store, None, builds.HEROKUISH_ALLOWED, "false")
    sha = push(flow, tmp_path, {"app.py": ""})
    with pytest.raises(BuildFailed, match="the herokuish builder is not allowed for catmeow"):
        builds.build_commit(flow.ctx, "catmeow", sha, {})
    properties.set_value(flow.ctx.store, "catmeow", builds.HEROKUISH_ALLOWED, "true")  # the app's own value wins
    builds.build_commit(flow.ctx, "catmeow", sha, {})
    assert [builder for builder, _ in builders] == [HEROKUISH]


@pytest.mark.parametrize(
    ("setting", "value"),
    [(builds.DOCKERFILE_PATH, "../Dockerfile"), (builds.APPJSON_PATH, "/etc/passwd"),
     (builds.HEROKUISH_ALLOWED, "yes"), (builds.SELECTED, "pack")],
)  # fmt: skip
def test_a_bad_value_is_refused_and_the_old_one_stays(flow, setting, value):
    properties.set_value(
        flow.ctx.store,
        "catmeow",
        setting,
        setting.check(properties.computed_value(flow.ctx.store, None, setting) or "dockerfile"),
    )
    before = properties.own_value(flow.ctx.store, "catmeow", setting)
    with pytest.raises(ValidationError):
        properties.set_value(flow.ctx.store, "catmeow", setting, value)
    assert properties.own_value(flow.ctx.store, "catmeow", setting) == before


def test_a_build_dir_is_built_as_if_it_were_the_whole_tree(flow, builders, tmp_path):
    (tmp_path / "tree" / "web" / "static").mkdir(parents=True)
    files = {"Dockerfile": "FROM nosuchimage\n", "Procfile": "web: top\n", "web/Dockerfile": "FROM minidokku/stack\n",
             "web/Procfile": "web: serve\n", "web/static/index.html": "hi\n"}  # fmt: skip
    sha = push(flow, tmp_path, files)
    properties.set_value(flow.ctx.store, "catmeow", builds.BUILD_DIR, "web")
    builds.build_commit(flow.ctx, "catmeow", sha, {})
    [(builder, given)] = builders
    context, settings = given["args"][2], given["args"][3]
    with tarfile.open(fileobj=BytesIO(context)) as archive:
        assert sorted(archive.getnames()) == ["Dockerfile", "Procfile", "static", "static/index.html"]
        assert archive.extractfile("Dockerfile").read() == b"FROM minidokku/stack\n"
    assert (builder, settings.procfile) == (DOCKERFILE, "web: serve\n")

    properties.set_value(flow.ctx.store, "catmeow", builds.SELECTED, HEROKUISH)
    builds.build_commit(flow.ctx, "catmeow", sha, {})
    with tarfile.open(fileobj=BytesIO(builders[-1][1]["source_tar"])) as archive:
        assert sorted(archive.getnames()) == [
            "tmp/source",
            "tmp/source/Dockerfile",
            "tmp/source/Procfile",
            "tmp/source/static",
            "tmp/source/static/index.html",
        ]


@pytest.mark.parametrize(("build_dir", "problem"), [("nosuch", "is not a folder"), ("link", "is a link or a file")])
def test_a_build_dir_the_commit_lacks_or_links_elsewhere_is_refused_before_any_build(
    flow, builders, tmp_path, build_dir, problem
):
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "link").symlink_to("/etc")
    sha = push(flow, tmp_path, {"Procfile": "web: x\n"})
    properties.set_value(flow.ctx.store, "catmeow", builds.BUILD_DIR, build_dir)
    with pytest.raises(ValidationError, match=f"build-dir: {build_dir} {problem}"):
        builds.build_commit(flow.ctx, "catmeow", sha, {})
    assert builders == []


@pytest.mark.parametrize("selected", [DOCKERFILE, HEROKUISH])
@pytest.mark.parametrize("name", ["app.json", "Procfile", "CHECKS", ".buildpacks"])
def test_a_settings_file_that_is_a_link_is_refused_by_both_builders(flow, builders, tmp_path, selected, name):
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / name).symlink_to("/etc/passwd")
    sha = push(flow, tmp_path, {"Dockerfile": "FROM minidokku/stack\n", "app.py": ""})
    properties.set_value(flow.ctx.store, "catmeow", builds.SELECTED, selected)
    with pytest.raises(ValidationError, match=f"the {name} must be a file, not a link"):
        builds.build_commit(flow.ctx, "catmeow", sha, {})
    assert builders == []


@pytest.mark.parametrize("selected", [DOCKERFILE, HEROKUISH])
def test_the_procfile_at_procfile_path_is_the_builds_procfile_in_place_of_the_top_one(
    flow, builders, tmp_path, selected
):
    (tmp_path / "tree" / ".dokku").mkdir(parents=True)
    files = {"Dockerfile": "FROM minidokku/stack\n", "Procfile": "web: top\n", ".dokku/Procfile": "web: chosen\n"}
    sha = push(flow, tmp_path, files)
    properties.set_value(flow.ctx.store, "catmeow", builds.SELECTED, selected)
    ps_settings.set_property(flow.ctx.store, "catmeow", "procfile-path", ".dokku/Procfile")
    builds.build_commit(flow.ctx, "catmeow", sha, {})
    [(_builder, given)] = builders
    if selected == DOCKERFILE:
        source, top = given["args"][2], "Procfile"
    else:
        source, top = given["source_tar"], "tmp/source/Procfile"
    with tarfile.open(fileobj=BytesIO(source)) as archive:
        assert archive.extractfile(top).read() == b"web: chosen\n"  # what the buildpacks' /app holds
        assert [name for name in archive.getnames() if name.endswith("Procfile")].count(top) == 1
    assert (given["files"] if selected == HEROKUISH else given["args"][3]).procfile == "web: chosen\n"
    assert "Procfile path .dokku/Procfile (ps:set procfile-path): the Procfile" in flow.output


def test_a_procfile_path_the_tree_lacks_builds_as_without_a_procfile(flow, builders, tmp_path):
    sha = push(flow, tmp_path, {"Procfile": "web: top\n", "app.py": ""})
    ps_settings.set_property(flow.ctx.store, None, "procfile-path", "Procfile.web")  # the global one
    builds.build_commit(flow.ctx, "catmeow", sha, {})
    [(builder, given)] = builders
    with tarfile.open(fileobj=BytesIO(given["source_tar"])) as archive:
        assert sorted(archive.getnames()) == ["tmp/source", "tmp/source/app.py"]
    assert (builder, given["files"].procfile) == (HEROKUISH, "")
    assert "Procfile path Procfile.web (ps:set procfile-path): no Procfile there" in flow.output


@pytest.mark.parametrize("selected", [DOCKERFILE, HEROKUISH])
def test_a_procfile_path_that_is_a_link_is_refused_by_both_builders(flow, builders, tmp_path, selected):
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "Procfile.link").symlink_to("/etc/passwd")
    sha = push(flow, tmp_path, {"Dockerfile": "FROM minidokku/stack\n", "Procfile": "web: top\n"})
    properties.set_value(flow.ctx.store, "catmeow", builds.SELECTED, selected)
    ps_settings.set_property(flow.ctx.store, "catmeow", "procfile-path", "Procfile.link")
    with pytest.raises(ValidationError, match="the Procfile.link must be a file, not a link"):
        builds.build_commit(flow.ctx, "catmeow", sha, {})
    assert builders == []

"""Plugins without Docker: manifests, installing (folder, tarball, git) and rolling back, the
enabled set, and triggers run as real processes (the recorder plugin in tests/plugins)."""

import functools
import http.server
import os
import shutil
import socket
import tarfile
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import commit_all, dokku_program, git

from minidokku.cli import cli
from minidokku.context import Context
from minidokku.errors import AlreadyExists, NotFound, TriggerFailed, ValidationError
from minidokku.output import RecordingOutput
from minidokku.plugins import install, registry, triggers
from minidokku.settings import Settings

RECORDER = Path(__file__).parents[1] / "plugins" / "recorder"


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv("DOKKU_ROOT", str(root))
    return root


@pytest.fixture
def ctx(root) -> Context:
    return Context(Settings.load(), RecordingOutput())


@pytest.fixture
def source(tmp_path) -> Path:
    """The recorder plugin as a plain folder."""
    return Path(shutil.copytree(RECORDER, tmp_path / "src" / "recorder"))


@pytest.fixture
def repo(source) -> Path:
    """The recorder plugin as a git repository, version 1.0.0 on main."""
    git(source, "init", "-q", "-b", "main")
    commit_all(source, "recorder 1.0.0")
    return source


def set_version(folder: Path, version: str) -> None:
    manifest = folder / registry.MANIFEST
    manifest.write_text(manifest.read_text().replace('version = "1.0.0"', f'version = "{version}"'))


def make_tarball(folder: Path, path: Path, top: str = "recorder") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname=top, filter=lambda info: None if ".git" in Path(info.name).parts else info)
    return path


def calls(root: Path) -> list[str]:
    """The recorder's log: one "TRIGGER ARG..." per call (the environment part left off), then emptied."""
    log = root / "recorder.log"
    lines = log.read_text().splitlines() if log.is_file() else []
    log.unlink(missing_ok=True)
    return [line.split("\t")[0] for line in lines]


def fail(root: Path, trigger: str) -> None:
    """Turns the recorder's failure switch on for trigger."""
    (root / f"recorder-fail-{trigger}").touch()


def leftovers(root: Path) -> list[str]:
    """What is in ROOT/.plugins besides the plugins and the DISABLED list (scratch folders)."""
    folder = root / registry.PLUGINS_DIR
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) if folder.is_dir() else []


def names(ctx: Context) -> list[str]:
    return [plugin.name for plugin in registry.installed(ctx.store)]


# -- manifests and names ---------------------------------------------------------------------


def test_a_manifest_gives_name_version_and_description(source):
    plugin = registry.read_manifest(source)
    assert (plugin.name, plugin.version, plugin.bundled) == ("recorder", "1.0.0", False)
    assert plugin.description.startswith("records every trigger")
    assert plugin.executable("pre-build") == source / "pre-build"
    assert plugin.executable("plugin.toml") is None  # not executable
    assert plugin.executable("no-such-trigger") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "not a plugin: it has no plugin.toml"),
        ("[plugin\nversion = 1", "plugin.toml is not valid TOML: "),
        ('version = "1"\ndescription = "x"', "plugin.toml needs a [plugin] table"),
        ('[plugin]\nversion = 1\ndescription = "x"', "plugin.toml needs a [plugin] table"),
        ('[plugin]\nversion = "1"', 'plugin.toml needs a [plugin] table with version = "..." and description = "..."'),
    ],
)
def test_a_bad_manifest_is_refused_saying_what_is_wrong(tmp_path, text, message):
    if text is not None:
        (tmp_path / "plugin.toml").write_text(text)
    with pytest.raises(ValidationError) as refused:
        registry.read_manifest(tmp_path)
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("https://github.com/someone/dokku-hello.git", "hello"),
        ("https://github.com/someone/dokku-hello.git#v2", "hello"),
        ("https://github.com/someone/hello.git#feature/x", "hello"),
        ("https://example.com/hello-1.0.tar.gz", "hello-1.0"),
        ("/srv/plugins/hello.tgz", "hello"),
        ("/srv/plugins/recorder/", "recorder"),
        ("file:///srv/repos/dokku-recorder", "recorder"),
    ],
)
def test_the_name_comes_from_the_source(source, name):
    assert registry.name_from_source(source) == name


@pytest.mark.parametrize("name", ["Hello", "-x", "_x", "a/b", "../x", "", "a b", "a" * 65, "caf\u00e9"])
def test_bad_plugin_names_are_refused(name):
    with pytest.raises(ValidationError) as refused:
        registry.validate_name(name)
    assert "invalid plugin name" in str(refused.value)


@pytest.mark.parametrize("name", ["hello", "a", "le_2", "x-y", "9" * 64])
def test_good_plugin_names_pass(name):
    assert registry.validate_name(name) == name


# -- installing --------------------------------------------------------------------------------


def test_install_from_a_folder_copies_it_runs_dependencies_then_install(ctx, root, source):
    plugin = install.install(ctx, str(source))
    assert (plugin.name, plugin.version, plugin.folder) == ("recorder", "1.0.0", root / ".plugins" / "recorder")
    assert names(ctx) == ["postgres", "recorder"] and registry.is_enabled(ctx.store, "recorder")
    assert calls(root) == ["dependencies", "install"]
    assert ctx.out.lines == ["recorder: dependencies", "recorder: install"]
    assert (plugin.folder / "record").stat().st_mode & 0o111
    assert (plugin.folder / registry.SOURCE_FILE).read_text() == f"{source}\n"
    assert leftovers(root) == []


def test_install_from_a_tarball_keeps_the_executables(ctx, root, source, tmp_path):
    tarball = make_tarball(source, tmp_path / "recorder-1.0.tar.gz")
    plugin = install.install(ctx, str(tarball), "recorder")
    assert plugin.executable("post-deploy") == root / ".plugins" / "recorder" / "post-deploy"
    assert calls(root) == ["dependencies", "install"]
    assert leftovers(root) == []


@pytest.fixture
def http_folder(tmp_path):
    """A folder served over http on a loopback port, as a plugin's release tarballs are."""
    folder = tmp_path / "www"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_install_from_a_tarball_url_downloads_it(ctx, root, source, http_folder):
    folder, base = http_folder
    make_tarball(source, folder / "dokku-recorder-1.0.tar.gz", top="recorder-1.0")
    plugin = install.install(ctx, f"{base}/dokku-recorder-1.0.tar.gz", "recorder")
    assert plugin.version == "1.0.0" and calls(root) == ["dependencies", "install"]
    assert (plugin.folder / registry.SOURCE_FILE).read_text() == f"{base}/dokku-recorder-1.0.tar.gz\n"
    with pytest.raises(NotFound) as missing:
        install.install(ctx, f"{base}/missing.tar.gz", "other")
    assert str(missing.value).startswith(f"could not download {base}/missing.tar.gz: 404")
    assert leftovers(root) == []


def test_a_tarball_without_a_top_folder_is_named_after_its_file(ctx, root, source, tmp_path):
    with tarfile.open(tmp_path / "dokku-flat.tar.gz", "w:gz") as tar:
        for path in source.iterdir():
            tar.add(path, arcname=path.name)
    assert install.install(ctx, str(tmp_path / "dokku-flat.tar.gz")).name == "flat"
    assert calls(root) == ["dependencies", "install"]


def test_install_from_a_local_git_repo_takes_the_committed_tree(ctx, root, repo):
    (repo / "uncommitted").write_text("not in the plugin\n")
    plugin = install.install(ctx, str(repo))
    assert plugin.version == "1.0.0"
    assert not (plugin.folder / ".git").exists() and not (plugin.folder / "uncommitted").exists()
    assert calls(root) == ["dependencies", "install"]


def test_install_at_a_ref_takes_that_tag_or_commit(ctx, root, repo):
    first = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "tag", "v1")
    set_version(repo, "2.0.0")
    commit_all(repo, "recorder 2.0.0")
    assert install.install(ctx, f"{repo}#v1", "at-tag").version == "1.0.0"
    assert install.install(ctx, f"{repo}#{first}", "at-commit").version == "1.0.0"
    assert install.install(ctx, f"file://{repo}", "at-head").version == "2.0.0"
    assert names(ctx) == ["at-commit", "at-head", "at-tag", "postgres"]


def test_a_plugin_whose_install_trigger_fails_is_taken_out_again(ctx, root, source):
    fail(root, "install")
    with pytest.raises(TriggerFailed) as failed:
        install.install(ctx, str(source))
    assert str(failed.value) == "the install trigger of plugin recorder failed (exit 1)"
    assert "recorder: install fails on purpose" in ctx.out.lines
    assert names(ctx) == ["postgres"]
    assert not (root / ".plugins" / "recorder").exists() and leftovers(root) == []


def test_a_plugin_whose_dependencies_trigger_fails_is_taken_out_before_install(ctx, root, source):
    fail(root, "dependencies")
    with pytest.raises(TriggerFailed):
        install.install(ctx, str(source))
    assert calls(root) == ["dependencies"]
    assert names(ctx) == ["postgres"] and leftovers(root) == []


def test_a_name_already_taken_is_refused_and_the_installed_one_kept(ctx, root, source):
    install.install(ctx, str(source))
    calls(root)
    with pytest.raises(AlreadyExists) as taken:
        install.install(ctx, str(source))
    assert str(taken.value) == "plugin recorder is already installed; use plugin:update recorder, or --name"
    with pytest.raises(AlreadyExists):
        install.install(ctx, str(source), "postgres")  # the bundled one's name
    assert calls(root) == []
    assert names(ctx) == ["postgres", "recorder"] and leftovers(root) == []


def test_a_folder_without_a_manifest_is_not_a_plugin_and_leaves_nothing(ctx, root, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError) as refused:
        install.install(ctx, str(tmp_path / "empty"))
    assert str(refused.value) == "not a plugin: it has no plugin.toml"
    assert names(ctx) == ["postgres"] and leftovers(root) == []


def test_a_source_that_is_not_there_is_not_found(ctx, root, tmp_path):
    with pytest.raises(NotFound) as missing:
        install.install(ctx, str(tmp_path / "nowhere"))
    assert str(missing.value).startswith(f"could not fetch the plugin {tmp_path / 'nowhere'}: ")
    assert names(ctx) == ["postgres"] and leftovers(root) == []


def test_a_bad_name_is_refused_before_anything_is_fetched(ctx, root, source):
    with pytest.raises(ValidationError):
        install.install(ctx, str(source), "../escape")
    assert names(ctx) == ["postgres"] and leftovers(root) == []


@pytest.mark.parametrize("name", ["previous", "unpacked"])
def test_names_the_installer_uses_for_scratch_folders_still_install_and_update(ctx, root, source, tmp_path, name):
    tarball = make_tarball(source, tmp_path / "recorder.tar.gz")
    install.install(ctx, str(tarball), name)
    assert install.update(ctx, name).name == name
    assert calls(root) == ["dependencies", "install", "update"]
    assert leftovers(root) == []


# -- updating ----------------------------------------------------------------------------------


def test_update_fetches_the_new_version_and_runs_its_update_trigger(ctx, root, repo):
    install.install(ctx, str(repo))
    set_version(repo, "2.0.0")
    commit_all(repo, "recorder 2.0.0")
    calls(root)
    assert install.update(ctx, "recorder").version == "2.0.0"
    assert calls(root) == ["update"]
    assert registry.find(ctx.store, "recorder").version == "2.0.0" and leftovers(root) == []


def test_update_to_a_ref_records_it_for_the_next_update(ctx, root, repo):
    git(repo, "tag", "v1")
    install.install(ctx, str(repo))
    set_version(repo, "2.0.0")
    commit_all(repo, "recorder 2.0.0")
    git(repo, "tag", "v2")
    assert install.update(ctx, "recorder", "v1").version == "1.0.0"
    assert install.update(ctx, "recorder").version == "1.0.0"  # still at v1
    assert install.update(ctx, "recorder", "v2").version == "2.0.0"


def test_a_plugin_installed_from_a_relative_path_updates_from_anywhere(ctx, root, repo, monkeypatch):
    monkeypatch.chdir(repo.parent)
    install.install(ctx, "recorder#main")
    set_version(repo, "2.0.0")
    commit_all(repo, "recorder 2.0.0")
    monkeypatch.chdir(root)
    assert install.update(ctx, "recorder").version == "2.0.0"
    assert registry.source_of(registry.find(ctx.store, "recorder")) == f"{repo}#main"


def test_a_failing_update_trigger_puts_the_old_version_back(ctx, root, repo):
    install.install(ctx, str(repo))
    set_version(repo, "2.0.0")
    commit_all(repo, "recorder 2.0.0")
    fail(root, "update")
    with pytest.raises(TriggerFailed) as failed:
        install.update(ctx, "recorder")
    assert str(failed.value) == "the update trigger of plugin recorder failed (exit 1)"
    assert registry.find(ctx.store, "recorder").version == "1.0.0"
    assert (root / ".plugins" / "recorder" / "record").is_file() and leftovers(root) == []


def test_an_update_whose_source_is_gone_keeps_the_installed_version(ctx, root, repo):
    install.install(ctx, str(repo))
    shutil.rmtree(repo)
    with pytest.raises(NotFound):
        install.update(ctx, "recorder")
    assert registry.find(ctx.store, "recorder").version == "1.0.0" and leftovers(root) == []


def test_a_bundled_plugin_is_not_updated_on_its_own(ctx):
    with pytest.raises(ValidationError) as refused:
        install.update(ctx, "postgres")
    assert str(refused.value) == "postgres is bundled with minidokku: it is updated with minidokku itself"


# -- enabled, disabled, uninstalled ------------------------------------------------------------


def test_a_disabled_plugin_stays_installed_but_its_triggers_do_not_run(ctx, root, source):
    install.install(ctx, str(source))
    calls(root)
    registry.set_enabled(ctx.store, "recorder", False)
    assert not registry.is_enabled(ctx.store, "recorder") and "recorder" in names(ctx)
    triggers.fire(ctx, "post-create", "catmeow")
    assert triggers.docker_args(ctx, "docker-args-run", "catmeow", "sha256:1") == []
    assert not triggers.has_commands(ctx.store)
    assert calls(root) == []
    registry.set_enabled(ctx.store, "recorder", True)
    triggers.fire(ctx, "post-create", "catmeow")
    assert calls(root) == ["post-create catmeow"]


def test_uninstall_removes_the_folder_and_forgets_it_was_disabled(ctx, root, source):
    install.install(ctx, str(source))
    registry.set_enabled(ctx.store, "recorder", False)
    registry.remove(ctx.store, "recorder")
    assert names(ctx) == ["postgres"] and not (root / ".plugins" / "recorder").exists()
    assert ctx.store.read_lines(None, registry.DISABLED_FILE) == []
    with pytest.raises(NotFound) as missing:
        registry.remove(ctx.store, "recorder")
    assert str(missing.value) == "plugin recorder is not installed; `dokku plugin:list` shows those that are"


def test_the_bundled_postgres_plugin_can_be_disabled_but_not_uninstalled(ctx):
    assert registry.find(ctx.store, "postgres").bundled
    registry.set_enabled(ctx.store, "postgres", False)
    assert not registry.is_enabled(ctx.store, "postgres")
    with pytest.raises(ValidationError) as refused:
        registry.remove(ctx.store, "postgres")
    assert str(refused.value) == "postgres is bundled with minidokku: disable it with plugin:disable postgres"
    registry.set_enabled(ctx.store, "postgres", True)
    assert registry.is_enabled(ctx.store, "postgres")


def test_enabling_an_unknown_plugin_is_not_found(ctx):
    with pytest.raises(NotFound):
        registry.set_enabled(ctx.store, "nope", True)


# -- running triggers --------------------------------------------------------------------------


@pytest.fixture
def recorder(ctx, root, source):
    """The recorder, installed (its install lines already read)."""
    install.install(ctx, str(source))
    calls(root)
    ctx.out.lines.clear()
    return registry.find(ctx.store, "recorder")


def test_a_trigger_gets_its_arguments_and_the_documented_environment(ctx, root, recorder):
    triggers.fire(ctx, "pre-build", "herokuish", "catmeow", "0123abc")
    folder = root / ".plugins" / "recorder"
    assert (root / "recorder.log").read_text() == (
        f"pre-build herokuish catmeow 0123abc\tplugin=recorder trigger=pre-build dir={folder} cwd={folder}\n"
    )
    assert ctx.out.lines == ["recorder: pre-build herokuish catmeow 0123abc"]


def test_empty_and_spaced_arguments_arrive_as_they_are(ctx, root, recorder):
    triggers.fire(ctx, "nginx-pre-reload", "catmeow", "", "")
    triggers.fire(ctx, "post-domains-update", "catmeow", "add", "a b")
    assert calls(root) == ["nginx-pre-reload catmeow '' ''", "post-domains-update catmeow add a b"]


def test_dokku_bin_calls_minidokku_back(ctx, root, recorder):
    """post-config-update gets keys only; the recorder reads the value with $DOKKU_BIN config:get."""
    (root / ".sshcommand").write_text(dokku_program() + "\n")
    ctx = Context(Settings.load(), RecordingOutput())
    ctx.store.write("catmeow", "HEAD", "ref: refs/heads/main\n")
    ctx.store.write_env("catmeow", {"GREETING": "purr purr"})
    triggers.fire(ctx, "post-config-update", "catmeow", "set", "GREETING")
    assert calls(root) == ["post-config-update catmeow set GREETING", "value GREETING=purr purr"]


def test_plugins_run_in_name_order_bundled_ones_among_them(ctx, root, source):
    for name in ("zz-rec", "aa-rec"):
        install.install(ctx, str(source), name)
    assert names(ctx) == ["aa-rec", "postgres", "zz-rec"]
    (root / "recorder.log").unlink()
    triggers.fire(ctx, "post-deploy", "catmeow", "5000", "127.0.0.1", "v3")
    log = (root / "recorder.log").read_text().splitlines()
    assert [line.split("\tplugin=")[1].split()[0] for line in log] == ["aa-rec", "zz-rec"]


def test_a_failing_trigger_stops_the_plugins_after_it_and_names_the_plugin(ctx, root, source):
    for name in ("aa-rec", "zz-rec"):
        install.install(ctx, str(source), name)
    calls(root)
    fail(root, "pre-deploy")
    with pytest.raises(TriggerFailed) as failed:
        triggers.fire(ctx, "pre-deploy", "catmeow", "v2")
    assert str(failed.value) == "the pre-deploy trigger of plugin aa-rec failed (exit 1)"
    assert ctx.out.lines[-1] == "recorder: pre-deploy fails on purpose"
    assert calls(root) == ["pre-deploy catmeow v2"]  # zz-rec never ran


def test_docker_args_are_what_the_plugins_print_and_their_stderr_is_shown(ctx, root, source):
    for name in ("aa-rec", "zz-rec"):
        install.install(ctx, str(source), name)
    ctx.out.lines.clear()
    options = triggers.docker_args(ctx, "docker-args-deploy", "catmeow", "sha256:1", "web", "1")
    assert options == ["--label recorder.deploy=catmeow", "--env RECORDER_PHASE=deploy"] * 2
    assert ctx.out.lines == ["recorder: docker-args-deploy catmeow sha256:1 web 1"] * 2


def test_a_failing_docker_args_trigger_shows_what_it_printed(ctx, root, recorder):
    fail(root, "docker-args-run")
    with pytest.raises(TriggerFailed) as failed:
        triggers.docker_args(ctx, "docker-args-run", "catmeow", "sha256:1")
    assert str(failed.value) == "the docker-args-run trigger of plugin recorder failed (exit 1)"
    assert ctx.out.lines == ["recorder: docker-args-run fails on purpose"]


def test_a_plugin_without_the_trigger_is_skipped(ctx, root, recorder):
    (recorder.folder / "pre-build").unlink()
    (recorder.folder / "post-build").chmod(0o644)  # not executable: not a trigger
    triggers.fire(ctx, "pre-build", "herokuish", "catmeow", "abc")
    triggers.fire(ctx, "post-build", "herokuish", "catmeow", "abc")
    triggers.fire(ctx, "post-create", "catmeow")
    assert calls(root) == ["post-create catmeow"]


# -- plugin commands ---------------------------------------------------------------------------


def test_a_plugin_command_runs_and_others_fall_through(ctx, root, recorder, capfd):
    assert triggers.run_command(ctx, ["recorder:hello", "bob"]) == 0
    assert capfd.readouterr().out == "hello bob, from recorder\n"
    assert triggers.run_command(ctx, ["nope:hello"]) == triggers.NOT_MINE
    assert calls(root) == ["commands recorder:hello bob"]


def test_the_plugin_a_command_is_named_after_is_asked_first(ctx, root, source, capfd):
    for name in ("other", "recorder"):
        install.install(ctx, str(source), name)
    capfd.readouterr()
    assert triggers.run_command(ctx, ["recorder:hello"]) == 0
    assert capfd.readouterr().out == "hello world, from recorder\n"


def test_plugin_help_lines_are_collected(ctx, recorder):
    assert triggers.has_commands(ctx.store)
    assert triggers.command_help(ctx) == [
        "    recorder:hello [NAME], Says hello (from the recorder test plugin)",
        "    recorder:help, Shows the recorder's commands",
    ]


# -- the command line --------------------------------------------------------------------------


@pytest.fixture
def dokku(root):
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_cli_install_list_disable_enable_uninstall(dokku, root, source):
    installed = dokku("plugin:install", str(source), "--name", "rec")
    assert installed.exit_code == 0
    assert installed.output.splitlines() == [
        f"-----> Installing plugin from {source}",
        "recorder: dependencies",
        "recorder: install",
        "       Plugin rec 1.0.0 installed and enabled",
    ]
    assert dokku("plugin:installed", "rec").exit_code == 0
    assert dokku("plugin:disable", "rec").output == "-----> Plugin rec disabled\n"
    listed = dokku("plugin:list").output.splitlines()
    assert listed[1] == "  rec       1.0.0      disabled  records every trigger it is given (the plugin tests' witness)"
    assert listed[0].startswith("  postgres  ") and " enabled " in listed[0]
    assert dokku("plugin:enable", "rec").output == "-----> Plugin rec enabled\n"
    assert " enabled " in dokku("plugin:list").output.splitlines()[1]
    assert dokku("plugin:uninstall", "rec").output == "recorder: uninstall\n-----> Plugin rec uninstalled\n"
    assert dokku("plugin:installed", "rec").exit_code == 1
    assert [line.split()[0] for line in dokku("plugin:list").output.splitlines()] == ["postgres"]


def test_cli_install_failure_is_a_one_line_error_with_the_plugin_output(dokku, root, source):
    fail(root, "install")
    result = dokku("plugin:install", str(source))
    assert result.exit_code == 1
    assert "recorder: install fails on purpose" in result.output
    assert result.output.endswith(" !     the install trigger of plugin recorder failed (exit 1)\n")
    assert dokku("plugin:installed", "recorder").exit_code == 1


def test_cli_install_without_a_source_runs_every_install_trigger_again(dokku, root, source):
    dokku("plugin:install", str(source))
    calls(root)
    result = dokku("plugin:install")
    assert result.output.splitlines() == [
        "-----> Running the install trigger of every plugin",
        "recorder: dependencies",
        "recorder: install",
    ]
    assert calls(root) == ["dependencies", "install"]


def test_cli_update_with_a_ref(dokku, root, repo):
    git(repo, "tag", "v1")
    dokku("plugin:install", str(repo))
    set_version(repo, "2.0.0")
    commit_all(repo, "recorder 2.0.0")
    assert dokku("plugin:update", "recorder").output.splitlines()[-1] == "-----> Plugin recorder updated to 2.0.0"
    assert dokku("plugin:update", "recorder", "v1").output.splitlines()[-1] == "-----> Plugin recorder updated to 1.0.0"


def test_cli_plugin_commands_and_help(dokku, root, source, capfd):
    dokku("plugin:install", str(source))
    capfd.readouterr()
    hello = dokku("recorder:hello", "bob")
    assert hello.exit_code == 0 and capfd.readouterr().out == "hello bob, from recorder\n"
    unknown = dokku("nope:hello")
    assert unknown.exit_code == 1 and " !     `nope:hello` is not a dokku command." in unknown.output
    help_lines = dokku("help").output.splitlines()
    assert help_lines[-3:] == [
        "Plugin commands:",
        "    recorder:hello [NAME], Says hello (from the recorder test plugin)",
        "    recorder:help, Shows the recorder's commands",
    ]
    dokku("plugin:disable", "recorder")
    assert "`recorder:hello` is not a dokku command." in dokku("recorder:hello").output
    assert "Plugin commands:" not in dokku("help").output


def test_cli_plugin_commands_are_in_the_audit_trail(dokku, root, source):
    dokku("plugin:install", str(source))
    dokku("plugin:list")
    actions = [line.split("\t")[2] for line in (root / "EVENTS").read_text().splitlines()]
    assert actions == ["plugin:install"]


def test_a_failing_uninstall_trigger_keeps_the_plugin(ctx, root, recorder):
    fail(root, "uninstall")
    with pytest.raises(TriggerFailed):
        install.uninstall(ctx, "recorder")
    assert "recorder" in names(ctx)
    (root / "recorder-fail-uninstall").unlink()
    install.uninstall(ctx, "recorder")
    assert calls(root)[-1] == "uninstall" and names(ctx) == ["postgres"]


def test_a_plugin_whose_manifest_broke_is_listed_runs_nothing_and_can_be_uninstalled(ctx, root, recorder):
    (root / ".plugins" / "recorder" / "plugin.toml").write_text("[plugin\n")
    broken = registry.find(ctx.store, "recorder")
    assert broken.problem.startswith("plugin.toml is not valid TOML")
    assert [plugin.name for plugin in registry.enabled(ctx.store)] == ["postgres"]
    calls(root)
    triggers.fire(ctx, "post-create", "catmeow")
    assert calls(root) == []
    install.uninstall(ctx, "recorder")
    assert names(ctx) == ["postgres"]


def test_a_bad_docker_option_from_a_plugin_names_the_plugin(ctx, root, source):
    (source / "docker-args-run").write_text("#!/bin/sh\necho --privileged\n")
    install.install(ctx, str(source))
    with pytest.raises(TriggerFailed) as failed:
        triggers.docker_args(ctx, "docker-args-run", "catmeow", "sha256:1")
    assert str(failed.value).startswith(
        "the docker-args-run trigger of plugin recorder printed a bad option: unsupported docker option"
    )


def test_cli_plugin_management_needs_root(dokku, source, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    refused = dokku("plugin:install", str(source))
    assert refused.exit_code == 1
    assert "plugin:install must be run as root on the host" in refused.output
    assert dokku("plugin:list").exit_code == 0


def test_a_folder_with_a_file_that_cannot_be_copied_is_one_clear_error(ctx, root, source):
    with socket.socket(socket.AF_UNIX) as listening:  # a socket file: no one can copy it, not even root
        listening.bind(str(source / "control.sock"))
        with pytest.raises(ValidationError) as refused:
            install.install(ctx, str(source))
    message = str(refused.value)
    assert message.startswith(f"could not copy the plugin folder: {source}/control.sock: ") and "\n" not in message
    assert leftovers(root) == [] and "recorder" not in names(ctx)

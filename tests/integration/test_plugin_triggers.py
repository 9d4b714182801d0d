"""Plugins on the real engine, git and nginx: the recorder plugin (tests/plugins/recorder),
installed from a git repository, logs every trigger minidokku fires while one app is created,
pushed, configured, routed, run, restarted and destroyed.

One platform and one deployed app for the module (the cases run in file order and each reads
only the log lines its own commands wrote)."""

import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import (
    APPS,
    commit_all,
    git,
    install_plugin_from_git,
    make_git_repo,
    module_scoped,
    reached_at,
    wait_until_serving,
)

TESTS = Path(__file__).parents[1]
RECORDER = TESTS / "plugins" / "recorder"
APP = "recorded"
HOST = f"{APP}.example.test"
PAGE = "hello from a shell script on web.1\n"


platform = module_scoped(TESTS / "conftest.py", "platform")


def calls(platform, plugin: str = "recorder") -> list[str]:
    """What the plugin logged since the last look ("TRIGGER ARG..." lines), the log then emptied."""
    log = platform.root / "recorder.log"
    lines = log.read_text().splitlines() if log.is_file() else []
    log.unlink(missing_ok=True)
    return [line.split("\t")[0] for line in lines if "\t" not in line or f"\tplugin={plugin} " in line]


@dataclass
class Web:
    """The app's serving web container: its image, and where nginx reaches it (Dokku's
    INTERNAL_PORT and INTERNAL_IP_ADDRESS of the triggers: its PORT, its pinned address)."""

    image: str
    port: str
    address: str
    labels: dict
    env: list


def web(platform, engine) -> Web:
    info = engine.inspect_container(f"{platform.settings()['NAMESPACE']}{APP}.web.1")
    address, port = reached_at(info)
    return Web(info["Image"], str(port), address, info["Config"]["Labels"], info["Config"]["Env"])


def deploy_calls(release: str, web: Web, first: bool = False) -> list[str]:
    """What one deploy of the app's web process fires, in order. nginx reloads once on a first
    deploy; after that twice: to the new container with the old one as its backup, then, once
    the new one has run its uptime check, to the new one alone."""
    return [
        f"pre-deploy {APP} {release}",
        f"docker-args-deploy {APP} {web.image} web 1",
        *[f"nginx-pre-reload {APP} {web.port} {web.address}"] * (1 if first else 2),
        f"post-deploy {APP} {web.port} {web.address} {release}",
    ]


def releases(platform) -> list[str]:
    return sorted(path.stem for path in (platform.root / APP / "releases").glob("v*.json"))


@dataclass
class Recorder:
    repo: Path
    install_output: str
    install_calls: list


@pytest.fixture(scope="module")
def recorder(platform, tmp_path_factory) -> Recorder:
    """The recorder, installed from a git repository by file:// URL (named from `dokku-recorder`)."""
    workdir = tmp_path_factory.mktemp("plugin")
    installed = install_plugin_from_git(platform, RECORDER, workdir)
    return Recorder(workdir / "dokku-recorder", installed.stdout, calls(platform))


@dataclass
class Deployed:
    repo: Path
    sha: str
    create_output: str
    create_calls: list
    push_output: str
    push_calls: list


@pytest.fixture(scope="module")
def deployed(platform, recorder, tmp_path_factory) -> Deployed:
    """shell-serve (the null buildpack: a quick build), created and pushed with the recorder on."""
    created = platform.dokku("apps:create", APP)
    create_calls = calls(platform)
    repo = make_git_repo(tmp_path_factory.mktemp("app") / APP, APPS / "shell-serve")
    pushed = platform.push(repo, APP)
    assert pushed.returncode == 0, pushed.stderr
    wait_until_serving(platform, HOST, PAGE)
    sha = git(repo, "rev-parse", "HEAD").stdout.strip()
    return Deployed(repo, sha, created.stdout, create_calls, pushed.stderr, calls(platform))


@pytest.fixture
def failure_switch(platform):
    """Turns the recorder's failure switch on for a trigger; off again after the case."""
    made = []

    def turn_on(trigger: str) -> None:
        path = platform.root / f"recorder-fail-{trigger}"
        path.touch()
        made.append(path)

    yield turn_on
    for path in made:
        path.unlink()


def test_installing_from_a_git_repo_runs_dependencies_then_install(platform, recorder):
    assert recorder.install_calls == ["dependencies", "install"]
    lines = recorder.install_output.splitlines()
    assert lines[-3:] == [
        "recorder: dependencies",
        "recorder: install",
        "       Plugin recorder 1.0.0 installed and enabled",
    ]
    listed = [line.split(None, 3) for line in platform.dokku("plugin:list").stdout.splitlines()]
    assert ["recorder", "1.0.0", "enabled"] in [entry[:3] for entry in listed]
    assert platform.dokku("plugin:installed", "recorder").returncode == 0


def test_apps_create_fires_post_create(deployed):
    assert deployed.create_calls == [f"post-create {APP}"]
    assert f"recorder: post-create {APP}" in deployed.create_output.splitlines()


def test_a_push_fires_receive_build_and_deploy_triggers_in_order(platform, engine, deployed):
    now = web(platform, engine)
    assert deployed.push_calls == [
        f"pre-receive-app {APP} {'0' * 40} {deployed.sha} refs/heads/main",
        f"pre-build herokuish {APP} {deployed.sha}",
        f"docker-args-build {APP} herokuish",
        f"post-build herokuish {APP} {deployed.sha}",
        *deploy_calls("v1", now, first=True),
    ]


def test_the_push_output_streams_what_the_plugin_printed(deployed):
    remote = [line.removeprefix("remote: ").rstrip() for line in deployed.push_output.splitlines()]
    for call in deployed.push_calls:
        assert f"recorder: {call}" in remote


def test_docker_args_options_reach_the_image_and_the_web_container(platform, engine, deployed):
    now = web(platform, engine)
    assert now.labels["recorder.deploy"] == APP
    assert "RECORDER_PHASE=deploy" in now.env
    assert engine.inspect_image(now.image)["Config"]["Labels"]["recorder.build"] == APP  # from the build container
    assert platform.dokku("enter", APP, "web", "printenv", "RECORDER_PHASE").stdout == "deploy\n"


def test_config_set_redeploys_then_fires_post_config_update_with_keys_only(platform, engine, deployed):
    calls(platform)
    output = platform.dokku("config:set", APP, "GREETING=purr purr").stdout
    assert calls(platform) == [
        *deploy_calls("v2", web(platform, engine)),
        f"post-config-update {APP} set GREETING",
        "value GREETING=purr purr",  # read back with $DOKKU_BIN config:get
    ]
    assert f"recorder: post-config-update {APP} set GREETING" in output.splitlines()
    assert "purr" not in output


def test_domains_add_fires_nginx_pre_reload_and_post_domains_update(platform, engine, deployed):
    calls(platform)
    platform.dokku("domains:add", APP, "cats.example.test", "kittens.example.test")
    now = web(platform, engine)
    assert calls(platform) == [
        f"nginx-pre-reload {APP} {now.port} {now.address}",
        f"post-domains-update {APP} add cats.example.test kittens.example.test",
    ]
    wait_until_serving(platform, "cats.example.test", PAGE)
    platform.dokku("domains:remove", APP, "kittens.example.test")
    assert calls(platform)[-1] == f"post-domains-update {APP} remove kittens.example.test"
    platform.dokku("domains:clear", APP)  # back to APP.example.test, which the later cases use
    assert calls(platform)[-1] == f"post-domains-update {APP} clear"
    wait_until_serving(platform, HOST, PAGE)


def test_run_fires_docker_args_run_and_its_options_reach_the_container(platform, engine, deployed):
    calls(platform)
    image = web(platform, engine).image
    result = platform.dokku("run", APP, "printenv", "RECORDER_PHASE")
    assert calls(platform) == [f"docker-args-run {APP} {image}"]
    assert "run" in result.stdout.splitlines()
    assert f"recorder: docker-args-run {APP} {image}" in (result.stdout + result.stderr).splitlines()


def test_what_a_plugin_prints_during_run_stays_out_of_the_commands_stdout(platform, deployed):
    result = platform.dokku("run", APP, "echo", "only this")
    calls(platform)
    assert result.stdout == "only this\n"


def test_ps_restart_fires_the_deploy_triggers_for_the_same_release(platform, engine, deployed):
    calls(platform)
    platform.dokku("ps:restart", APP)
    assert calls(platform) == deploy_calls("v2", web(platform, engine))


def test_a_plugin_command_answers_and_its_help_is_listed(platform, deployed):
    hello = platform.dokku("recorder:hello", "bob")
    assert hello.stdout == "hello bob, from recorder\n"
    assert calls(platform) == ["commands recorder:hello bob"]
    help_lines = platform.dokku("help").stdout.splitlines()
    assert help_lines[help_lines.index("Plugin commands:") + 1 :] == [
        "    recorder:hello [NAME], Says hello (from the recorder test plugin)",
        "    recorder:help, Shows the recorder's commands",
    ]
    assert platform.dokku("recorder:nope", check=False).returncode == 1


def test_a_failing_pre_build_rejects_the_push_and_the_old_release_serves(platform, deployed, failure_switch):
    failure_switch("pre-build")
    before = releases(platform)
    (deployed.repo / "NEWS").write_text("never built\n")
    sha = commit_all(deployed.repo, "a change pre-build refuses")
    calls(platform)
    pushed = platform.push(deployed.repo, APP)
    assert pushed.returncode != 0
    assert "remote: recorder: pre-build fails on purpose" in pushed.stderr
    assert "the pre-build trigger of plugin recorder failed (exit 1)" in pushed.stderr
    assert calls(platform) == [
        f"pre-receive-app {APP} {deployed.sha} {sha} refs/heads/main",
        f"pre-build herokuish {APP} {sha}",
    ]
    assert releases(platform) == before
    wait_until_serving(platform, HOST, PAGE)


def test_a_failing_pre_deploy_rejects_the_push_after_the_build_and_the_old_release_serves(
    platform, engine, deployed, failure_switch
):
    failure_switch("pre-deploy")
    before, serving = releases(platform), web(platform, engine)
    (deployed.repo / "NEWS").write_text("built, never deployed\n")
    sha = commit_all(deployed.repo, "a change pre-deploy refuses")
    calls(platform)
    pushed = platform.push(deployed.repo, APP)
    assert pushed.returncode != 0
    assert "remote: recorder: pre-deploy fails on purpose" in pushed.stderr
    assert "the pre-deploy trigger of plugin recorder failed (exit 1)" in pushed.stderr
    assert calls(platform)[-2:] == [f"post-build herokuish {APP} {sha}", f"pre-deploy {APP} v3"]
    assert releases(platform) == before and web(platform, engine) == serving
    wait_until_serving(platform, HOST, PAGE)


def test_a_disabled_plugin_fires_nothing_and_its_commands_are_gone_until_enabled(platform, engine, deployed):
    platform.dokku("plugin:disable", "recorder")
    calls(platform)
    platform.dokku("ps:restart", APP)
    assert calls(platform) == []
    hello = platform.dokku("recorder:hello", check=False)
    assert hello.returncode == 1 and "`recorder:hello` is not a dokku command." in hello.stderr
    assert "Plugin commands:" not in platform.dokku("help").stdout
    platform.dokku("plugin:enable", "recorder")
    platform.dokku("ps:restart", APP)
    assert calls(platform) == deploy_calls("v2", web(platform, engine))


def test_update_fetches_the_new_version_and_runs_its_update_trigger(platform, recorder):
    manifest = recorder.repo / "plugin.toml"
    manifest.write_text(manifest.read_text().replace('"1.0.0"', '"1.1.0"'))
    commit_all(recorder.repo, "recorder 1.1.0")
    calls(platform)
    updated = platform.dokku("plugin:update", "recorder")
    assert calls(platform) == ["update"]
    assert updated.stdout.splitlines()[-2:] == ["recorder: update", "-----> Plugin recorder updated to 1.1.0"]
    listed = [line.split()[:3] for line in platform.dokku("plugin:list").stdout.splitlines()]
    assert ["recorder", "1.1.0", "enabled"] in listed


def test_apps_destroy_fires_pre_and_post_delete_with_the_image_repository(platform, deployed):
    platform.dokku("apps:create", "doomed")
    calls(platform)
    platform.dokku("apps:destroy", "doomed", "--force")
    repository = f"dokku/{platform.settings()['NAMESPACE']}doomed"
    assert calls(platform) == [f"pre-delete doomed {repository}", f"post-delete doomed {repository}"]


def test_a_failing_pre_delete_keeps_the_app(platform, deployed, failure_switch):
    failure_switch("pre-delete")
    result = platform.dokku("apps:destroy", APP, "--force", check=False)
    assert result.returncode == 1
    assert "recorder: pre-delete fails on purpose" in result.stdout
    assert result.stderr == " !     the pre-delete trigger of plugin recorder failed (exit 1)\n"
    wait_until_serving(platform, HOST, PAGE)


def test_a_plugin_from_a_tarball_installs_fires_and_uninstalls(platform, deployed, tmp_path):
    tarball = tmp_path / "taped-1.0.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(RECORDER, arcname="taped-1.0")
    installed = platform.dokku("plugin:install", str(tarball), "--name", "taped")
    assert installed.stdout.splitlines()[-1] == "       Plugin taped 1.0.0 installed and enabled"
    assert calls(platform, "taped") == ["dependencies", "install"]
    platform.dokku("apps:create", "taped-app")
    assert calls(platform, "taped") == ["post-create taped-app"]
    platform.dokku("plugin:uninstall", "taped")
    assert calls(platform, "taped") == ["uninstall"]
    assert platform.dokku("plugin:installed", "taped", check=False).returncode == 1
    assert "taped" not in [line.split()[0] for line in platform.dokku("plugin:list").stdout.splitlines()]
    platform.dokku("apps:destroy", "taped-app", "--force")
    assert calls(platform, "taped") == []
    assert (platform.root / ".plugins" / "recorder").is_dir()  # the other plugin is untouched


def test_uninstall_removes_the_plugin_and_its_triggers(platform, deployed):
    platform.dokku("plugin:uninstall", "recorder")
    assert platform.dokku("plugin:installed", "recorder", check=False).returncode == 1
    assert [line.split()[0] for line in platform.dokku("plugin:list").stdout.splitlines()] == ["postgres"]
    calls(platform)
    platform.dokku("ps:restart", APP)
    assert calls(platform) == []
    wait_until_serving(platform, HOST, PAGE)

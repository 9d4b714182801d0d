"""run, enter and logs -p/-q on the real engine, with catmeow pushed to a test platform."""

import json
import signal
import subprocess
import time

import pytest
from helpers import APPS, dokku_program, git, make_git_repo

from minidokku.records import envfile
from minidokku.runtime import labels

APP = "catmeow"


@pytest.fixture
def deployed(platform, tmp_path):
    """catmeow, pushed with git (local transport: the same receive-pack and pre-receive hook as ssh)."""
    repo = make_git_repo(tmp_path / APP, APPS / APP)
    platform.dokku("apps:create", APP)
    pushed = git(repo, "push", str(platform.root / APP), "main:main", env=platform.env, check=False)
    assert pushed.returncode == 0, pushed.stderr
    return platform


@pytest.fixture
def run_containers(engine, platform):
    """Lists the app's one-off containers on the engine."""
    namespace = envfile.parse((platform.root / "SETTINGS").read_text())["NAMESPACE"]
    return lambda: engine.list_containers({labels.APP: namespace + APP, labels.ROLE: "run"})


def test_run_exits_with_the_command_status_and_leaves_no_container(deployed, run_containers):
    result = deployed.dokku("run", APP, "python", "-c", "import sys; print('meow'); sys.exit(3)", check=False)
    assert (result.returncode, result.stdout) == (3, "meow\n")
    assert run_containers() == []


def test_run_sees_the_config_and_its_own_dyno(deployed, run_containers):
    deployed.dokku("config:set", "--no-restart", APP, "SOMEVAR=purr purr")
    assert deployed.dokku("run", APP, "printenv", "SOMEVAR").stdout == "purr purr\n"
    dyno = deployed.dokku("run", APP, "echo $DYNO from $HOME").stdout  # one word: a bash command line
    assert dyno.startswith("run.") and dyno.endswith(" from /app\n")
    assert run_containers() == []


def test_run_passes_stdin_and_keeps_stderr_apart(deployed, run_containers):
    result = deployed.dokku("run", APP, "bash", "-c", "cat; echo oops >&2", input="hi\nthere\n")
    assert (result.stdout, result.stderr) == ("hi\nthere\n", "oops\n")
    assert run_containers() == []


def test_run_of_an_app_never_deployed_is_a_one_line_error(platform):
    platform.dokku("apps:create", "never")
    result = platform.dokku("run", "never", "ls", check=False)
    assert (result.returncode, result.stderr) == (1, " !     never has not been deployed yet\n")


def test_enter_runs_in_the_running_web_container(deployed):
    assert deployed.dokku("enter", APP, "web", "printenv", "DYNO").stdout == "web.1\n"
    assert deployed.dokku("enter", APP, "web.1", "cat", input="through stdin\n").stdout == "through stdin\n"
    assert deployed.dokku("enter", APP, "web", "bash", "-c", "exit 4", check=False).returncode == 4


def test_enter_with_an_unknown_target_lists_what_runs(deployed):
    result = deployed.dokku("enter", APP, "worker", "ls", check=False)
    assert (result.returncode, result.stderr) == (
        1,
        f" !     {APP} has no process or container 'worker'; running: web.1\n",
    )


def test_logs_of_one_process_without_prefix(deployed):
    quiet = deployed.dokku("logs", APP, "-p", "web", "-q").stdout.splitlines()
    assert " * Serving Flask app 'catmeow'" in quiet
    prefixed = deployed.dokku("logs", APP, "-p", "web.1").stdout.splitlines()
    assert any(line.endswith(" app[web.1]:  * Serving Flask app 'catmeow'") for line in prefixed)
    unknown = deployed.dokku("logs", APP, "-p", "worker", check=False)
    assert (unknown.returncode, unknown.stderr) == (1, f" !     {APP} has no process 'worker'; its processes: web.1\n")


@pytest.mark.parametrize("hang_up", [signal.SIGHUP, signal.SIGTERM])
def test_a_run_whose_session_hangs_up_leaves_no_container(deployed, run_containers, hang_up):
    """`ssh -t ... run APP` dropped by the client: sshd sends SIGHUP; the container must go too."""
    command = subprocess.Popen(
        [dokku_program(), "run", APP, "sleep", "1000"], env=deployed.env, stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not [c for c in run_containers() if c["State"] == "running"]:
        assert time.monotonic() < deadline, "the run container never started"
        time.sleep(0.2)
    command.send_signal(hang_up)
    assert command.wait(timeout=20) == 128 + hang_up
    assert run_containers() == []


def test_run_detached_lists_logs_and_stops_by_name(deployed, run_containers):
    name = deployed.dokku("run:detached", APP, "bash", "-c", "echo purr; sleep 600").stdout.strip()
    namespace = envfile.parse((deployed.root / "SETTINGS").read_text())["NAMESPACE"]
    assert name.startswith(f"{namespace}{APP}.run.")
    listed = deployed.dokku("run:list", APP).stdout.splitlines()
    assert listed[0] == f"=====> {APP} run containers" and listed[2].startswith(name)
    assert json.loads(deployed.dokku("run:list", APP, "--format", "json").stdout)[0]["state"] == "running"
    deadline = time.monotonic() + 10
    while "purr" not in deployed.dokku("run:logs", APP, "--container", name, "-q").stdout:
        assert time.monotonic() < deadline, "run:logs never showed the container's output"
        time.sleep(0.2)

    assert deployed.dokku("run:stop", APP, "--container", name).stdout == f"{name}\n"

    deadline = time.monotonic() + 10
    while run_containers():  # the engine removes it once it stopped
        assert time.monotonic() < deadline, run_containers()
        time.sleep(0.2)
    assert deployed.dokku("run:stop", APP).stdout == "No run containers exist\n"


def test_run_takes_dokkus_env_and_run_retire_stops_what_outlived_its_ttl(deployed, run_containers):
    assert deployed.dokku("run", "-e", "GREETING=hi", APP, "printenv", "GREETING").stdout == "hi\n"
    name = deployed.dokku("run:detached", "--ttl-seconds", "1", APP, "sleep", "600").stdout.strip()
    kept = deployed.dokku("run:detached", APP, "sleep", "600").stdout.strip()
    time.sleep(2)

    retired = deployed.dokku("run:retire", APP).stdout

    assert f"Retired {name}" in retired and kept not in retired
    deadline = time.monotonic() + 10
    while len(run_containers()) != 1:
        assert time.monotonic() < deadline, run_containers()
        time.sleep(0.2)
    assert deployed.dokku("run:stop", APP).stdout == f"{kept}\n"

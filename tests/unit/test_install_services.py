"""install.sh starts each service by systemd, else SysV init, else directly, the next way when one
fails, and waits until the service really answers (issue 18: Debian's /etc/init.d/docker fails in
a container with `ulimit: error setting limit`, and nothing fell back). Runs the script's own
functions on a real little service: an HTTP server on a free port, its SysV script the test's."""

import os
import subprocess
from pathlib import Path

import pytest
from helpers import free_port

INSTALL_SH = Path(__file__).resolve().parents[2] / "install.sh"


def functions() -> str:
    """install.sh without its last line (`main "$@"`): every constant and function, nothing run."""
    lines = INSTALL_SH.read_text().splitlines()
    assert lines[-1] == 'main "$@"'
    return "\n".join(lines[:-1]) + "\n"


@pytest.fixture
def web(tmp_path):
    """A service `web` for start_service: its check asks its port; run_web starts it for real."""
    port = free_port()
    pid_file = tmp_path / "web.pid"
    yield (
        tmp_path,
        f"""
SERVICES_LOG={tmp_path}/services.log
INIT_D={tmp_path}/init.d
SERVICE_WAIT=2
has_systemd() {{ false; }}
web_answers() {{ curl -s -o /dev/null --max-time 1 http://127.0.0.1:{port}/; }}
run_web() {{
	setsid python3 -m http.server -b 127.0.0.1 {port} >/dev/null 2>&1 </dev/null &
	echo $! >{pid_file}
}}
""",
    )
    if pid_file.exists():
        subprocess.run(["kill", pid_file.read_text().strip()], check=False)


def start(directory: Path, setup: str, script: str = None) -> subprocess.CompletedProcess:
    if script is not None:
        (directory / "init.d").mkdir()
        (directory / "init.d" / "web").write_text(script)
        (directory / "init.d" / "web").chmod(0o755)
    program = functions() + setup + 'start_service web web_answers web web web "$1/web.log"\n'
    return subprocess.run(["sh", "-c", program, "install", str(directory)], capture_output=True, text=True)


def test_a_failing_sysv_script_is_said_in_one_line_then_the_service_starts_directly(web):
    directory, setup = web
    failing = (
        "#!/bin/sh\necho '/etc/init.d/web: 62: ulimit: error setting limit (Operation not permitted)' >&2\nexit 2\n"
    )
    done = start(directory, setup, failing)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"       web: {directory}/init.d/web start failed: /etc/init.d/web: 62: ulimit: error setting limit"
        " (Operation not permitted)",
        "       started web (web directly)",
    ]
    assert (directory / "web.pid").exists()


def test_a_sysv_script_that_starts_nothing_is_not_believed(web):
    directory, setup = web
    done = start(directory, setup, "#!/bin/sh\nexit 0\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"       web: {directory}/init.d/web start ran, but web did not answer within 2 s",
        "       started web (web directly)",
    ]


def test_a_running_service_is_left_alone(web):
    directory, setup = web
    assert start(directory, setup).returncode == 0
    (directory / "web.pid").rename(directory / "first.pid")
    again = start(directory, setup, "#!/bin/sh\necho started by SysV >&2\nexit 1\n")
    (directory / "first.pid").rename(directory / "web.pid")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "       web is running\n"
    assert "started by SysV" not in (directory / "services.log").read_text()


def test_when_no_way_works_one_line_names_the_service_and_its_logs(web):
    directory, setup = web
    nothing = setup.replace("run_web() {", "run_web() {\n\treturn 0\n")
    done = start(directory, nothing)
    assert done.returncode == 1
    assert done.stderr == (
        f" !     web did not start, neither by systemd, SysV init nor directly: see {directory}/web.log"
        f" and {directory}/services.log\n"
    )
    assert done.stdout == "       web: web directly ran, but web did not answer within 2 s\n"


def test_the_boot_script_has_an_lsb_header_and_the_same_service_functions(tmp_path):
    boot = tmp_path / "minidokku"
    made = subprocess.run(
        ["sh", "-c", functions() + 'boot_script >"$1"', "install", str(boot)],
        capture_output=True,
        env=dict(os.environ, MINIDOKKU_BUILD_PIDS="512"),
    )
    assert made.returncode == 0, made.stderr
    text = boot.read_text()
    assert "\nBUILD_PIDS=512\n" in text  # the boot makes the builds' cgroup again with the installed limit
    header = text.split("### BEGIN INIT INFO\n", 1)[1].split("### END INIT INFO\n", 1)[0]
    assert "# Provides:          minidokku\n" in header and "# Default-Start:     2 3 4 5\n" in header
    for function in ("start_service() {", "run_dockerd() {", "start_daemon() {", "stop_daemon() {"):
        assert f"\n{function}" in text
    assert subprocess.run(["sh", "-n", str(boot)]).returncode == 0
    usage = subprocess.run(["sh", str(boot), "reload-everything"], capture_output=True, text=True)
    assert (usage.returncode, usage.stderr) == (2, f"Usage: {boot} {{start|stop|restart|force-reload|status}}\n")

"""install.sh starts each service by systemd, else SysV init, else directly, the next way when one
fails, and waits until the service really answers (issue 18: Debian's /etc/init.d/docker fails in
a container with `ulimit: error setting limit`, and nothing fell back). Runs the script's own
functions on a real little service: an HTTP server on a free port, its SysV script the test's."""

import os
import subprocess
import tempfile
import time
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


# ------------------------------------------------------------ what the dokku user may put in its home

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="runs checks as another user (runuser): root only")


@pytest.fixture
def dokku_home():
    """A home the user `nobody` (standing in for dokku) may write, outside root's own tmp_path."""
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="minidokku-home-") as home:
        Path(home).chmod(0o777)
        yield Path(home)


def run_as_root(program: str, home: Path, timeout: float = 20) -> subprocess.CompletedProcess:
    setup = f"DOKKU_USER=nobody\nDOKKU_HOME={home}\nDAEMON_LOCK={home}/LOCK\nDAEMON_PID={home}/PID\nDOKKU_WAIT=1\n"
    return subprocess.run(["sh", "-c", functions() + setup + program], capture_output=True, text=True, timeout=timeout)


@as_root
def test_a_fifo_for_the_daemon_s_lock_is_not_running_within_the_time_limit(dokku_home):
    os.mkfifo(dokku_home / "LOCK")
    done = run_as_root('daemon_runs && echo runs || echo "not running"', dokku_home)
    assert done.stdout == "not running\n"


@as_root
def test_a_held_lock_is_a_running_daemon_and_a_pid_file_that_is_no_number_signals_nothing(dokku_home):
    (dokku_home / "LOCK").touch()
    (dokku_home / "LOCK").chmod(0o666)
    holder = subprocess.Popen(["runuser", "-u", "nobody", "--", "flock", str(dokku_home / "LOCK"), "sleep", "30"])
    try:
        for _ in range(50):
            if run_as_root("daemon_runs", dokku_home).returncode == 0:
                break
            time.sleep(0.1)
        (dokku_home / "PID").write_text(f"-1 {holder.pid}\n")
        done = run_as_root("SERVICE_WAIT=1\nstop_daemon && echo went on", dokku_home)
        assert holder.poll() is None  # nothing signalled: "-1 PID" is not a plain number
        assert done.stdout == (
            f"       the minidokku daemon did not stop (a process of nobody holds {dokku_home}/LOCK); going on\n"
            "went on\n"
        )
    finally:
        holder.kill()
        holder.wait()


@as_root
def test_root_reads_no_sample_record_the_dokku_user_made_a_fifo_or_a_link(dokku_home, tmp_path):
    os.mkfifo(dokku_home / "SAMPLE")
    assert run_as_root("sample_serving", dokku_home).returncode != 0
    (dokku_home / "SAMPLE").unlink()
    secret = tmp_path / "root-only"
    secret.write_text("deployed by root\n")
    secret.chmod(0o600)
    (dokku_home / "SAMPLE").symlink_to(secret)
    program = 'DOKKU_BIN=true\nsample_serving && echo read it || echo "not read"'
    assert run_as_root(program, dokku_home).stdout == "not read\n"


def test_only_minidokku_s_own_default_server_counts_as_nginx_answering():
    """Anything on port 80 answers HTTP; only the default server of minidokku.conf sends the header."""
    conf = INSTALL_SH.read_text().split('put_file "$NGINX_CONF"', 1)[1].split("\nEOF\n", 1)[0]
    assert "add_header X-Minidokku default always;" in conf
    for headers, answers in (("HTTP/1.1 404 Not Found\r\nServer: Apache\r\n", 1), (
        "HTTP/1.1 404 Not Found\r\nServer: nginx\r\nX-Minidokku: default\r\n", 0)):  # fmt: skip
        program = f"curl() {{ printf '{headers}\\r\\n'; }}\nnginx_answers"
        assert subprocess.run(["sh", "-c", functions() + program]).returncode == answers


def test_the_boot_script_tries_every_service_and_fails_at_the_end_when_one_failed(tmp_path):
    boot = tmp_path / "minidokku"
    assert subprocess.run(["sh", "-c", functions() + 'boot_script >"$1"', "install", str(boot)]).returncode == 0
    tried = tmp_path / "tried"
    stand_ins = "".join(
        f"{name}() {{ echo {name} >>{tried}; {'false' if name == 'start_docker' else 'true'}; }}\n"
        for name in ("start_docker", "build_cgroup", "start_nginx", "start_sshd", "start_daemon")
    )
    boot.write_text(boot.read_text().replace('case "${1:-}" in', stand_ins + 'case "${1:-}" in', 1))
    done = subprocess.run(["sh", str(boot), "start"], capture_output=True, text=True)
    assert done.returncode == 1
    assert tried.read_text().split() == ["start_docker", "build_cgroup", "start_nginx", "start_sshd", "start_daemon"]


@pytest.mark.parametrize(
    ("pending", "recorded", "deploys"),
    [
        (True, False, True),  # the install that made the home
        (False, True, True),  # a later run: sample:deploy's record decides (a push to retry, or never twice)
        (False, False, False),  # an upgrade of an install older than the sample: none
    ],
)
def test_the_sample_is_a_first_install_s_never_an_upgrade_s(tmp_path, pending, recorded, deploys):
    home, pending_file, calls = tmp_path / "home", tmp_path / "sample-pending", tmp_path / "calls"
    home.mkdir()
    if pending:
        pending_file.touch()
    if recorded:
        (home / "SAMPLE").write_text("pushing 2026-01-01T00:00:00Z catmeow: its first push did not end\n")
    dokku = tmp_path / "dokku"
    dokku.write_text(f'#!/bin/sh\necho "$*" >>{calls}\necho "deployed now" >{home}/SAMPLE\n')
    dokku.chmod(0o755)
    setup = f'DOKKU_HOME={home}\nSAMPLE_PENDING={pending_file}\nDOKKU_BIN={dokku}\nas_dokku() {{ "$@"; }}\n'
    done = subprocess.run(["sh", "-c", functions() + setup + "deploy_sample"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    if deploys:
        assert calls.read_text() == "sample:deploy\n"
        assert not pending_file.exists()
    else:
        assert not calls.exists()
        assert done.stdout == (
            "-----> Deploying the sample app\n"
            "       skipped: minidokku was installed here before (the sample app is a first install's)\n"
        )


def test_nginx_s_pid_file_counts_only_when_it_names_a_running_nginx(tmp_path):
    pid_file = tmp_path / "nginx.pid"
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        for text in (f"{sleeper.pid}\n", "abc\n", f"-{sleeper.pid}\n", ""):
            pid_file.write_text(text)
            done = subprocess.run(["sh", "-c", functions() + f"NGINX_PID={pid_file}\nnginx_master_runs"])
            assert done.returncode == 1, text
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize("value", ["1; reboot", "12 34", "-1"])
def test_a_build_pids_limit_that_is_no_number_is_refused_before_anything_changes(value):
    done = subprocess.run(
        ["sh", "-c", functions() + "id() { echo 0; }\ncheck_host"],
        capture_output=True,
        text=True,
        env=dict(os.environ, MINIDOKKU_BUILD_PIDS=value),
    )
    assert (done.returncode, done.stderr) == (
        1,
        f" !     MINIDOKKU_BUILD_PIDS={value}: a number of processes (or max), please\n",
    )

"""A newcomer's first hour (issue 18): the README's first command on a machine in a newcomer's
state, then catmeow pushed over ssh and its page fetched through that machine's nginx.

The machine is a Debian bookworm container made here (debootstrap, imported through the Engine API:
no registry answers here), cached by a hash of how it is made, with every capability the host has
and the cgroup tree writable (as --privileged, which these hosts refuse). It has no dockerd
running, no minidokku, no dokku user, no stack image and no init: install.sh starts every service
in it as on a VPS without systemd. Its /var/lib/docker is a volume of its own (overlay2 inside). The
host's CA bundle is mounted read-only and named for pip (as on this host): TLS to the package
registries goes through a proxy here. The container and its volume are removed at the end; the
image stays for the next run.

`make test` runs this file beside the parallel step (see the Makefile): it is minutes of waiting.
"""

import contextlib
import fcntl
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import pytest
import requests
from helpers import APPS, CA_BUNDLE, git, make_git_repo

from minidokku.build.stack import apt_mirror
from minidokku.engine.client import Engine

REPO = Path(__file__).resolve().parents[2]
CHECKOUT = "/root/minidokku"  # where the machine's root has its copy of the repository
SUITE = "bookworm"
# What a small Debian VPS has beyond debootstrap's minbase (ca-certificates: the mounted bundle
# replaces its file, which the package must not write again later)
INCLUDE = ("ca-certificates",)
IMAGE_REPOSITORY = "minidokku-fresh-machine"
LABELS = {"com.minidokku.test": "fresh-machine"}
# where TLS clients find it: pip (its own certifi once upgraded), python's ssl (stack:build's npm)
TLS_ENV = [f"PIP_CERT={CA_BUNDLE}", f"SSL_CERT_FILE={CA_BUNDLE}"]
KEY = "/root/.ssh/id_ed25519.pub"
STOP_ENGINE = "kill $(cat /var/run/docker.pid) && while [ -e /var/run/docker.pid ]; do sleep 0.2; done"
# The machine shares the host's cgroup tree (its dockerd needs a writable one): install.sh's build
# cgroup there is the host's own, which the host's builds use. The installs are given the host's
# limit, so they find it set (nothing written); the fixture puts it back if it changed all the same.
HOST_BUILD_CGROUP = Path(
    "/sys/fs/cgroup/minidokku-builds"
    if Path("/sys/fs/cgroup/cgroup.controllers").exists()
    else "/sys/fs/cgroup/pids/minidokku-builds"
)
DEFAULT_BUILD_PIDS = "2048"  # install.sh's
MY_APP = "mycat"  # the newcomer's own app, beside the sample catmeow
README_COMMAND_TIMEOUT = 1500  # seconds: a whole install with the stack build, on a busy machine


# the kernel's capabilities by number (capability.h), as the Engine names them
CAPABILITIES = """CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE
SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL
SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE""".split()


def missing_capabilities() -> list:
    """The capabilities this host's bounding set lacks: a container cannot be given them."""
    status = Path("/proc/self/status").read_text()
    bounding = int(re.search(r"^CapBnd:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
    return [name for bit, name in enumerate(CAPABILITIES) if not bounding >> bit & 1]


def readme_first_command() -> str:
    """The README's first code block (indented or fenced): what a newcomer copies first."""
    lines = (REPO / "README.md").read_text().splitlines()
    for number, line in enumerate(lines):
        if line.startswith("```"):
            block = []
            for inner in lines[number + 1 :]:
                if inner.startswith("```"):
                    return "\n".join(block)
                block.append(inner)
        if line.startswith("    ") and line.strip() and (number == 0 or not lines[number - 1].strip()):
            block = []
            for inner in lines[number:]:
                if not inner.startswith("    "):
                    break
                block.append(inner[4:])
            return "\n".join(block)
    raise AssertionError("README.md has no code block")


def machine_image(engine: Engine) -> str:
    """The newcomer's machine, made once for each way of making it (its hash is the tag)."""
    mirror = apt_mirror()
    recipe = json.dumps({"suite": SUITE, "variant": "minbase", "include": INCLUDE, "mirror": mirror})
    image = f"{IMAGE_REPOSITORY}:{hashlib.sha256(recipe.encode()).hexdigest()[:16]}"
    with open(f"{tempfile.gettempdir()}/{IMAGE_REPOSITORY}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time: another pytest may be making it
        if engine.image_exists(image):
            return image
        with tempfile.TemporaryDirectory(prefix="minidokku-fresh-") as directory:
            made = subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={','.join(INCLUDE)}", SUITE, directory, mirror],
                capture_output=True,
                text=True,
            )
            assert made.returncode == 0, f"debootstrap failed ({made.returncode}):\n{made.stdout[-3000:]}{made.stderr}"
            with subprocess.Popen(
                ["tar", "--numeric-owner", "-C", directory, "-cf", "-", "."], stdout=subprocess.PIPE
            ) as tar:
                for _message in engine.import_image(tar.stdout, *image.split(":"), ['CMD ["/bin/bash"]']):
                    pass
            assert tar.returncode == 0, f"tar of the debootstrapped machine failed ({tar.returncode})"
    return image


def checkout_tar() -> bytes:
    """This checkout's files (tracked and new, as git sees them), as a clone has them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in sorted(set(listed.stdout.decode().split("\0")) - {""}):
            if (REPO / name).exists():  # a file deleted but not yet committed is listed still
                archive.add(REPO / name, arcname=f"minidokku/{name}", recursive=False)
    return buffer.getvalue()


def root_file_tar(path: str, content: bytes) -> bytes:
    """A tar putting content at path, root's alone (0600, in a 0700 folder), as ssh-keygen leaves it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        folder = tarfile.TarInfo(os.path.dirname(path).lstrip("/"))
        folder.type, folder.mode = tarfile.DIRTYPE, 0o700
        archive.addfile(folder)
        info = tarfile.TarInfo(path.lstrip("/"))
        info.size, info.mode = len(content), 0o600
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


class Machine:
    def __init__(self, engine: Engine, container: str, log_dir: Path, build_pids: str):
        self.engine = engine
        self.build_pids = build_pids  # the host's build cgroup limit, which the installs keep
        self.container = container
        self.log_dir = log_dir
        self.address = engine.inspect_container(container)["NetworkSettings"]["IPAddress"]

    def run(self, command: str, log: str = None, timeout: float = 120, environment: dict = None) -> str:
        """Runs a shell command line as root in the checkout, as typed there (with environment's
        variables set); returns its output (also written to log_dir/log); fails the test with its
        end when it fails."""
        variables = [f"--env={name}={value}" for name, value in (environment or {}).items()]
        done = subprocess.run(
            ["docker", "exec", "-w", CHECKOUT, *variables, self.container, "sh", "-c", command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        output = done.stdout + done.stderr
        if log:
            (self.log_dir / log).write_text(output)
        assert done.returncode == 0, f"`{command}` failed ({done.returncode}) in the machine:\n{output[-6000:]}"
        return output

    def page(self, host: str, timeout: float = 10) -> tuple:
        """(status, body) of GET / through the machine's nginx, once it answers 200 (a reload
        after a deploy takes a moment) or timeout seconds have passed."""
        deadline = time.monotonic() + timeout
        while True:
            response = requests.get(f"http://{self.address}/", headers={"Host": host}, timeout=10)
            if response.status_code == 200 or time.monotonic() > deadline:
                return response.status_code, response.text
            time.sleep(0.2)


@pytest.fixture
def machine(tmp_path) -> Iterator[Machine]:
    engine = Engine()
    if not engine.ping():
        pytest.skip("no Docker engine answers on /var/run/docker.sock: `make test` starts one")
    with host_build_cgroup_kept() as host_pids:
        yield from fresh_machine(engine, tmp_path, host_pids)


def host_build_pids() -> Optional[str]:
    """The host's build cgroup's pids.max (None: there is no such cgroup)."""
    try:
        return (HOST_BUILD_CGROUP / "pids.max").read_text().strip()
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def host_build_cgroup_kept() -> Iterator[str]:
    """Yields the limit the machine's installs are to set: the host's. After, the host's build
    cgroup is as it was: its limit written back if it changed, removed if the machine made it."""
    before = host_build_pids()
    try:
        yield before or DEFAULT_BUILD_PIDS
    finally:
        after = host_build_pids()
        if before is None and after is not None:
            with contextlib.suppress(OSError):  # still in use: left, as the host would have made it
                HOST_BUILD_CGROUP.rmdir()
        elif before is not None and after != before:
            (HOST_BUILD_CGROUP / "pids.max").write_text(before)


def fresh_machine(engine: Engine, tmp_path: Path, host_pids: str) -> Iterator[Machine]:
    image = machine_image(engine)
    name = f"test-fresh-{os.getpid()}-{int(time.time())}"
    engine.create_volume(name, LABELS)
    container = None
    try:
        container = engine.create_container(
            {
                "Image": image,
                "Cmd": ["sleep", "infinity"],
                "Hostname": "fresh",
                "Env": TLS_ENV,
                "Labels": LABELS,
                "HostConfig": {
                    # --privileged asks for every capability, and runc fails where the host has
                    # not all (these machines lack CAP_SYS_RESOURCE): every one the host has, then
                    "CapAdd": ["ALL"],
                    "CapDrop": missing_capabilities(),
                    "SecurityOpt": ["seccomp=unconfined", "apparmor=unconfined"],
                    "MaskedPaths": [],  # /proc/sys writable (dockerd sets ip_forward), nothing hidden
                    "ReadonlyPaths": [],
                    "DeviceCgroupRules": ["a *:* rwm"],
                    "Init": True,
                    "CgroupnsMode": "host",
                    "Binds": [
                        f"{name}:/var/lib/docker",
                        f"{CA_BUNDLE}:{CA_BUNDLE}:ro",
                        "/sys/fs/cgroup:/sys/fs/cgroup",  # writable, as --privileged has it
                    ],
                },
            },
            name=name,
        )
        engine.start_container(container)
        engine.put_archive(container, "/root", checkout_tar())
        yield Machine(engine, container, tmp_path, host_pids)
    finally:
        if container:
            # its dockerd stops its containers first: their cgroups are in the host's tree
            with contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run(["docker", "exec", container, "sh", "-c", STOP_ENGINE], capture_output=True, timeout=90)
            engine.remove_container(container, force=True)
        engine.remove_volume(name)


def ssh_command(key: Path) -> list:
    return ["ssh", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]  # fmt: skip


def ssh(machine: Machine, key: Path, *words: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ssh_command(key), f"dokku@{machine.address}", *words],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def push_catmeow(machine: Machine, tmp_path: Path) -> Path:
    """git push of catmeow's source as a newcomer's own app, MY_APP (the push creates it), over ssh
    to the machine's sshd, with a key its root added (a root-only file argument); returns the key."""
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    machine.engine.put_archive(machine.container, "/", root_file_tar(KEY, key.with_suffix(".pub").read_bytes()))
    machine.run(f"dokku ssh-keys:add admin {KEY}")
    repo = make_git_repo(tmp_path / "catmeow", APPS / "catmeow")
    pushed = git(
        repo,
        "push",
        f"dokku@{machine.address}:{MY_APP}",
        "main",
        env=dict(os.environ, GIT_SSH_COMMAND=" ".join(ssh_command(key))),
        check=False,
    )
    assert pushed.returncode == 0, f"git push failed ({pushed.returncode}):\n{pushed.stdout}{pushed.stderr}"
    return key


def test_the_readme_s_first_command_then_a_push_serves_catmeow_and_a_second_run_changes_nothing(
    machine, tmp_path, capsys
):
    command = readme_first_command()
    # this machine's TLS goes through a proxy: builds get its CA bundle, as install.sh's header says
    # and the host's build cgroup limit: that cgroup is the host's (HOST_BUILD_CGROUP)
    behind_proxy = {
        "MINIDOKKU_BUILD_OPTIONS": f"-v {CA_BUNDLE}:{CA_BUNDLE}:ro",
        "MINIDOKKU_BUILD_PIDS": machine.build_pids,
    }
    started = time.monotonic()
    first = machine.run(command, log="install-1.log", timeout=README_COMMAND_TIMEOUT, environment=behind_proxy)

    # the first command ends with the sample app serving, under a global domain that needs no DNS
    url = machine.run("dokku urls catmeow").split()[0]
    host = re.sub(r"^https?://", "", url).split("/")[0].split(":")[0]
    assert host == f"catmeow.{machine.address}.sslip.io" and url in first, first[-3000:]
    assert machine.page(host) == (200, "Cat dreams meow..")
    installed = time.monotonic() - started

    key = push_catmeow(machine, tmp_path)  # a newcomer's own app, pushed over ssh
    mine = f"{MY_APP}.{machine.address}.sslip.io"
    assert machine.page(mine) == (200, "Cat dreams meow..")
    serving = time.monotonic() - started

    # a boot without systemd, as far as a container goes: nginx and sshd are gone, the boot
    # script brings them back (and the daemon, which has an app to serve now)
    machine.run("kill $(cat /run/nginx.pid) $(cat /run/sshd.pid) && sleep 1")
    booted = machine.run("/etc/init.d/minidokku start")
    assert (
        "       docker is running\n" in booted
        and "       started nginx (" in booted
        and "       started sshd (" in booted
    )
    assert machine.run("/etc/init.d/minidokku status") == "minidokku's daemon is running\n"
    assert machine.page(host) == (200, "Cat dreams meow..") and machine.page(mine) == (200, "Cat dreams meow..")
    assert ssh(machine, key, "apps:list").stdout.split() == ["=====>", "My", "Apps", "catmeow", MY_APP]

    containers = machine.run("docker ps --no-trunc --format '{{.ID}} {{.Names}}' | sort")
    again = machine.run(command, log="install-2.log", timeout=README_COMMAND_TIMEOUT, environment=behind_proxy)
    changed = (
        r"^ {7}(?:wrote |created |enabled |registered |installing:|started |reloading |restarted |stopped |set ).*$"
    )
    assert re.findall(changed, again, re.M) == []
    assert "-----> The sample is never deployed twice (SAMPLE: deployed " in again
    assert "Set the global domain" not in again
    for service in ("docker", "sshd", "nginx"):
        assert f"       {service} is running\n" in again
    assert machine.run("docker ps --no-trunc --format '{{.ID}} {{.Names}}' | sort") == containers
    assert machine.page(host, timeout=0) == (200, "Cat dreams meow..")
    assert host_build_pids() == machine.build_pids  # the host's builds keep their limit

    with capsys.disabled():
        ways = re.findall(r"^ {7}(?:started .*|\S+: .* failed: .*|.* did not answer within .*)$", first, re.M)
        sys.stdout.write(
            f"\nfresh machine: README's first command, to the sample serving {installed:.0f} s; then a push over ssh, "
            f"its start to the pushed app's page {serving:.0f} s\n" + "".join(f"  {line.strip()}\n" for line in ways)
        )

"""Helpers of the security layer: what a refusal looks like, and what "no change" means."""

import hashlib
import shlex

import requests
from helpers import git

from minidokku.access import rules
from minidokku.runtime import build_network, labels

VICTIM = "victim"
VICTIM_HOST = f"{VICTIM}.example.test"
LOCK_MESSAGE = "is locked by another deploy or command"


def state_of(platform, engine) -> dict[str, str]:
    """Every file under the root (a hash of its content) and the containers each app serves
    with. Left out: the audit trail, which records failed attempts too (see new_events), the
    build records (APP/builds/, which record failed deploys too) and what a failed deploy's
    containers printed (APP/FAILED_LOGS, logs:failed), the lock files a command
    takes and leaves, the lock and ID of the app's build network (any build makes them, failed
    or not: runtime/build_network.py), and containers retiring after an earlier deploy."""
    state = {}
    left_out = (".lock", build_network.LOCK, build_network.ID)
    for path in sorted(platform.root.rglob("*")):
        relative = path.relative_to(platform.root).as_posix()
        if relative == "EVENTS" or path.name in left_out or relative.split("/")[1:2] in (["builds"], ["FAILED_LOGS"]):
            continue
        if path.is_symlink():
            state[relative] = f"link {path.readlink()}"
        elif path.is_file():
            state[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            state[relative] = "dir"
    namespace = platform.settings()["NAMESPACE"]
    for app in [p.name for p in platform.root.iterdir() if (p / "HEAD").is_file()]:
        containers = engine.list_containers({labels.APP: f"{namespace}{app}"})
        names = sorted(name for c in containers for name in c["Names"] if ".retiring-" not in name)
        state[f"containers of {app}"] = " ".join(names)
    return state


def events_of(platform) -> list[str]:
    path = platform.root / "EVENTS"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def assert_refused(result, message: str) -> None:
    """A clear refusal: a non-zero exit and one ` !     ...` line naming the problem (or click's
    usage error), never a traceback."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"accepted:\n{output}"
    assert "Traceback" not in output, output
    lines = [line.removeprefix("remote: ").rstrip() for line in result.stderr.splitlines()]
    refusals = [line for line in lines if line.startswith(" !     ") or line.startswith("Error: ")]
    assert any(message in line for line in refusals), f"no ` !     ...{message}...` line in:\n{result.stderr}"


def quoted(*words: str) -> str:
    """A command line as ssh sends it: words that the server's shlex gives back unchanged."""
    return " ".join(shlex.quote(word) for word in words)


def page_bytes(platform, host: str, path: str) -> tuple[int, bytes]:
    """GET through nginx; the body as bytes, with no guess at its encoding."""
    response = requests.get(f"http://127.0.0.1:{platform.http_port}{path}", headers={"Host": host}, timeout=10)
    return response.status_code, response.content


def server_head(platform, app: str) -> str:
    return git(platform.root / app, "rev-parse", "--verify", "--quiet", "refs/heads/main", check=False).stdout.strip()


def refused_without_change(platform, engine, key, words, message: str):
    """The command line words, sent over ssh with key, is refused with one line and changes nothing."""
    before = state_of(platform, engine)
    result = key.ssh(quoted(*words))
    assert_refused(result, message)
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr
    assert state_of(platform, engine) == before
    return result


def key_with_own_app(ssh_client, user: str, app: str):
    """A user key named user that has created app over ssh (so the app is granted to it)."""
    key = ssh_client.with_key(user, rules.USER)
    created = key.ssh(quoted("apps:create", app))
    assert created.returncode == 0, created.stderr
    return key

"""git, through its own commands (argv lists, never a shell): bare repos, hooks, archives."""

import shlex
import subprocess
from pathlib import Path
from typing import Optional

from minidokku.errors import GitError
from minidokku.state import atomic_write

HOOK_MARKER = "# written by minidokku"


def _git(args: list[str], cwd: Optional[Path] = None, input_bytes: Optional[bytes] = None) -> bytes:
    result = subprocess.run(["git", *args], cwd=cwd, input=input_bytes, capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else 'exit ' + str(result.returncode)}")
    return result.stdout


def init_bare(repo: Path) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    _git(["init", "--quiet", "--bare", str(repo)])


def pre_receive_hook(program: list[str], root: Path, app: str) -> str:
    command = " ".join(shlex.quote(word) for word in ["env", f"DOKKU_ROOT={root}", *program, "git-hook", app])
    return f"#!/bin/sh\n{HOOK_MARKER}: builds and deploys a push to the deploy branch\nexec {command}\n"


def install_pre_receive_hook(repo: Path, program: list[str], root: Path, app: str) -> None:
    """Makes sure the repo's pre-receive hook calls us back (rewritten only when it differs)."""
    hook = repo / "hooks" / "pre-receive"
    content = pre_receive_hook(program, root, app)
    if not hook.is_file() or hook.read_text(encoding="utf-8") != content:
        atomic_write(hook, content, mode=0o755)


def receive_pack(repo: Path) -> int:
    """Runs git's own receive-pack on the repo, talking to the ssh client on our stdin/stdout."""
    return subprocess.call(["git-receive-pack", str(repo)])


def upload_pack(repo: Path) -> int:
    return subprocess.call(["git-upload-pack", str(repo)])


def branch_head(repo: Path, branch: str) -> Optional[str]:
    """The commit a branch points at, or None when the repo has no such branch."""
    try:
        return _git(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"], cwd=repo).decode().strip()
    except GitError:
        return None


def archive(repo: Path, rev: str, prefix: str = "app/") -> bytes:
    """The tree of `rev` as a tar, every path under `prefix`."""
    return _git(["archive", "--format=tar", f"--prefix={prefix}", rev], cwd=repo)

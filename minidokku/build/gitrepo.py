"""git, through its own commands (argv lists, never a shell): bare repos, hooks, archives.

Every revision or branch given to git here is checked first (a 40-hex object id, a branch name
per `git check-ref-format --branch`, see records/names.py) and follows `--end-of-options` where git
takes it, so that nothing, even a value read from a record, can reach git as an option such
as `--output=FILE`.
"""

import functools
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from minidokku.access.urls import Destination
from minidokku.errors import GitError, ValidationError
from minidokku.records import names
from minidokku.state import atomic_write

HOOK_MARKER = "# written by minidokku"
NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": "ssh -o BatchMode=yes"}  # fail, never ask
MAX_TREE_BYTES = 512 * 1024 * 1024  # a commit's files unpacked: a build holds its tar in memory
FETCH_TIMEOUT = 300  # seconds a clone may take: a stalled server (git:// has no speed limit) must not hold a push
GC_TIMEOUT = 600  # seconds repo:gc may take, holding the app's lock


def _git(
    args: list[str],
    cwd: Optional[Path] = None,
    input_bytes: Optional[bytes] = None,
    env: Optional[dict] = None,
    timeout: Optional[float] = None,
) -> bytes:
    environment = dict(_outside_any_repo(), **env) if env else None
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, input=input_bytes, capture_output=True, env=environment, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} failed: it took more than {timeout:.0f} s") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else 'exit ' + str(result.returncode)}")
    return result.stdout


def _outside_any_repo() -> dict[str, str]:
    """Our environment without git's own variables: inside the pre-receive hook they point at
    the app's repo and its quarantine, which a git command on another repo must not see."""
    return {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}


def init_bare(repo: Path) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    _git(["init", "--quiet", "--bare", "--end-of-options", str(repo)])


def pre_receive_hook(program: list[str], root: Path, app: str) -> str:
    command = " ".join(shlex.quote(word) for word in ["env", f"DOKKU_ROOT={root}", *program, "git-hook", app])
    return f"#!/bin/sh\n{HOOK_MARKER}: builds and deploys a push to the deploy branch\nexec {command}\n"


def install_pre_receive_hook(repo: Path, program: list[str], root: Path, app: str) -> None:
    """Makes sure the repo's pre-receive hook calls us back (rewritten only when it differs)."""
    hook = repo / "hooks" / "pre-receive"
    content = pre_receive_hook(program, root, app)
    if not hook.is_file() or hook.read_text(encoding="utf-8") != content:
        atomic_write(hook, content, mode=0o755)


def copy_history(source: Path, repo: Path) -> None:
    """Gives the bare repo every branch and tag of the bare repo source, and its HEAD (apps:clone).
    A local fetch: no hook of either repo runs."""
    _git(["--git-dir", str(repo), "fetch", "--quiet", "--end-of-options", str(source),
          "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"])  # fmt: skip
    head = _git(["--git-dir", str(source), "symbolic-ref", "--quiet", "HEAD"]).decode().strip()
    _git(["--git-dir", str(repo), "symbolic-ref", "HEAD", head])


def limit_push_size(repo: Path, max_bytes: int) -> None:
    """Makes receive-pack refuse a push whose pack is larger than max_bytes (receive.maxInputSize)."""
    _git(["config", "--file", str(repo / "config"), "receive.maxInputSize", str(int(max_bytes))])


def receive_pack(repo: Path) -> int:
    """Runs git's own receive-pack on the repo, talking to the ssh client on our stdin/stdout."""
    return subprocess.call(["git-receive-pack", "--end-of-options", str(repo)])


def upload_pack(repo: Path) -> int:
    return subprocess.call(["git-upload-pack", "--end-of-options", str(repo)])


def branch_head(repo: Path, branch: str) -> Optional[str]:
    """The commit a branch points at, or None when the repo has no such branch."""
    revision = f"refs/heads/{names.validate_branch(branch)}^{{commit}}"
    try:
        head = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", revision], cwd=repo).decode().strip()
    except GitError:
        return None
    return names.validate_object_id(head)


def read_file(repo: Path, sha: str, path: str) -> Optional[str]:
    """A file of the tree of commit sha (40 hex), or None when it has none (or git cannot say)."""
    try:
        return read_files(repo, sha, [path])[path]
    except GitError:
        return None


def read_files(repo: Path, sha: str, paths: Sequence[str]) -> dict[str, Optional[str]]:
    """Files of the tree of commit sha (40 hex), read by one git command: path -> its text, or
    None when the tree has no file there (nothing, or a folder). A link's text is its target."""
    sha = names.validate_object_id(sha)
    if any("\n" in path for path in paths):
        raise ValidationError("a path to read from git has a line break")
    request = "".join(f"{sha}:{path}\n" for path in paths).encode()
    output = _git(["cat-file", "--batch"], cwd=repo, input_bytes=request)
    texts: dict[str, Optional[str]] = {}
    position = 0
    for path in paths:  # each answer: `OID TYPE SIZE` and the content, or `NAME missing`
        end = output.index(b"\n", position)
        header = output[position:end].split()
        position = end + 1
        if header[-1] == b"missing":
            texts[path] = None
            continue
        size = int(header[2])
        content = output[position : position + size]
        position += size + 1
        texts[path] = content.decode("utf-8", "replace") if header[1] == b"blob" else None
    return texts


def archive(repo: Path, sha: str, prefix: str = "app/") -> bytes:
    """The tree of commit sha (40 hex) as a tar, every path under `prefix`. A tree larger than
    MAX_TREE_BYTES unpacked is refused before it is unpacked: a push under the size limit can
    hold a file of zeros that packs to a thousandth of its size."""
    sha = names.validate_object_id(sha)
    check_tree_size(repo, sha)
    return _git(["archive", "--format=tar", f"--prefix={prefix}", "--end-of-options", sha], cwd=repo)


def check_tree_size(repo: Path, sha: str) -> None:
    """Refuses a commit whose files add up to more than MAX_TREE_BYTES unpacked."""
    size = tree_size(repo, sha)
    if size > MAX_TREE_BYTES:
        raise ValidationError(
            f"the commit's files add up to {size // 2**20} MiB unpacked, more than {MAX_TREE_BYTES // 2**20} MiB"
        )


def tree_size(repo: Path, sha: str) -> int:
    """What the files of commit sha add up to, unpacked (read from git's tree, nothing unpacked)."""
    listing = _git(["ls-tree", "-r", "-l", "--end-of-options", names.validate_object_id(sha)], cwd=repo)
    sizes = (line.split(b"\t", 1)[0].split()[-1] for line in listing.splitlines())
    return sum(int(size) for size in sizes if size.isdigit())  # a submodule's size is "-"


def fetch_tree(url: str, ref: str, folder: Path, pinned: Optional[Destination] = None) -> None:
    """Clones url at ref (a branch, tag or commit; the default branch when empty) into folder, as
    plain files without .git (symlinks stay symlinks); folder appears whole or not at all. Raises
    GitError with git's reason. With pinned (a tenant's URL as urls.destination checked it), git
    connects to the checked address only, over that one protocol, follows no redirect and reads
    none of this machine's git configuration (credential helpers, URL rewrites, hooks)."""
    if ref and not names.OBJECT_ID.fullmatch(ref):
        names.validate_branch(ref)  # a branch or tag name, never an option
    env, source = (_pinned_environment(pinned), _pinned_source(pinned)) if pinned else (NO_PROMPT, url)
    run_git = functools.partial(_git, env=env, timeout=FETCH_TIMEOUT)
    clone_args = ["clone", "--quiet", "--template=", "--no-recurse-submodules"]  # no hooks, no submodules
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".fetch-") as scratch:
        tree = Path(scratch) / "tree"
        if ref:
            try:  # a branch or tag: only its last commit
                run_git([*clone_args, "--depth", "1", "--branch", ref, "--", source, str(tree)])
            except GitError:  # a commit
                shutil.rmtree(tree, ignore_errors=True)
                run_git([*clone_args, "--", source, str(tree)])
                run_git(["checkout", "--quiet", ref, "--"], cwd=tree)
        else:
            run_git([*clone_args, "--depth", "1", "--", source, str(tree)])
        shutil.rmtree(tree / ".git", ignore_errors=True)
        try:
            os.rename(tree, folder)
        except OSError:  # another command fetched it meanwhile
            if not folder.is_dir():
                raise


def _pinned_environment(pinned: Destination) -> dict[str, str]:
    settings = {
        "protocol.allow": "never",
        f"protocol.{pinned.scheme}.allow": "always",
        "http.followRedirects": "false",
        "http.lowSpeedLimit": "1000",  # bytes a second, for lowSpeedTime seconds: a stalled server fails
        "http.lowSpeedTime": "60",
    }
    if pinned.scheme != "git" and not pinned.host_is_address:  # git:// connects to the address itself
        address = f"[{pinned.address}]" if ":" in pinned.address else pinned.address
        settings["http.curloptResolve"] = f"{pinned.host}:{pinned.port}:{address}"
    env = dict(NO_PROMPT, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_COUNT=str(len(settings)))
    for index, (key, value) in enumerate(settings.items()):
        env.update({f"GIT_CONFIG_KEY_{index}": key, f"GIT_CONFIG_VALUE_{index}": value})
    return env


def _pinned_source(pinned: Destination) -> str:
    """git:// has no way to be told an address for a name: the URL names the address itself."""
    return pinned.with_address() if pinned.scheme == "git" else pinned.url


def commit_directory(repo: Path, directory: Path, branch: str, message: str) -> str:
    """Commits the files of directory as the next commit of branch, without moving the branch
    (see move_branch); returns the commit's sha."""
    identity = {"GIT_AUTHOR_NAME": "minidokku", "GIT_AUTHOR_EMAIL": "minidokku@localhost"}
    identity.update(GIT_COMMITTER_NAME="minidokku", GIT_COMMITTER_EMAIL="minidokku@localhost")
    with tempfile.TemporaryDirectory(prefix="minidokku-index-") as scratch:
        env = dict(
            identity, GIT_INDEX_FILE=str(Path(scratch) / "index"), GIT_DIR=str(repo), GIT_WORK_TREE=str(directory)
        )
        _git(["add", "--all", "--force", "."], cwd=directory, env=env)
        tree = _git(["write-tree"], cwd=directory, env=env).decode().strip()
        parent = branch_head(repo, branch)  # validates branch
        parents = ["-p", parent] if parent else []
        # commit-tree has no --end-of-options: the tree is git's own answer, checked like the parent
        tree = names.validate_object_id(tree)
        commit = _git(["commit-tree", tree, *parents, "-m", message], cwd=directory, env=env).decode().strip()
        return names.validate_object_id(commit)


def move_branch(repo: Path, branch: str, sha: str) -> None:
    ref = f"refs/heads/{names.validate_branch(branch)}"
    _git(["update-ref", "--end-of-options", ref, names.validate_object_id(sha)], cwd=repo)


def collect_garbage(repo: Path, aggressive: bool) -> None:
    """`git gc` on an app's bare repository (repo:gc): packs its objects, prunes the unreachable
    ones git's default expiry lets go. Bounded whoever pushed the objects: a small push of big,
    highly compressible blobs would otherwise take gigabytes of memory and minutes of CPU to
    repack: one thread, a memory cap on the delta window, big files stored without deltas, and a
    time limit, after which git and the children it started (repack, pack-objects) are killed.
    aggressive: `--aggressive`, as Dokku runs it, for an admin's app."""
    limits = ["-c", "pack.windowMemory=256m", "-c", "pack.threads=1", "-c", "core.bigFileThreshold=16m"]
    argv = ["git", *limits, "gc", *(["--aggressive"] if aggressive else []), "--quiet"]
    output = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    with subprocess.Popen(argv, cwd=repo, env=_outside_any_repo(), start_new_session=True, **output) as process:
        try:
            _, errors = process.communicate(timeout=GC_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise GitError(f"git gc failed: it took more than {GC_TIMEOUT} s") from None
    if process.returncode != 0:
        message = errors.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git gc failed: {message[-1] if message else 'exit ' + str(process.returncode)}")
